// Region formation: from a hot entry, the guest code reachable inside the same 4 KiB page by
// fall-through, branches and direct jumps, cut into basic blocks (as v86 compiles a page's hot
// code together, but with one entry). Staying inside one page keeps the region valid under one
// virtual -> physical mapping: whatever entered the region at its first instruction had that
// page's translation and execute permission, so every block in it has too. Calls (jal with a
// link register), indirect jumps and targets outside the page leave the region.
import { FIRST_LOCAL, type IrBlock, type Terminator } from './ir';
import { decodeGuest, type GuestInsn } from './riscv/decode';
import { translateIllegal, translateInsn, type FrontendEnv } from './riscv/frontend';

export const PAGE = 4096;

/** Guest code as the translator reads it: 16-bit words at host (linear memory) addresses. */
export interface CodeReader {
  u16(host: number): number;
}

export interface RegionLimits {
  /** Instructions in a region at most (bounds compile time and code size). */
  maxInsns: number;
  /**
   * The next page's first 16 bits when the region was asked for (-1 or absent: unknown): an
   * instruction crossing into that page is translated with them, behind a guard that checks
   * them through the fetch TLB each time it runs.
   */
  nextHalf?: number;
}

export interface Region {
  entryPc: bigint;
  entryHost: number;
  /** blocks[0] starts at the entry. */
  blocks: IrBlock[];
  /** The host address range of the guest bytes the region was made from (its snapshot). */
  snapLo: number;
  snapHi: number;
  /** Guest instructions translated (a block's instructions counted once). */
  insns: number;
}

interface Decoded {
  insn: GuestInsn | undefined; // undefined: illegal
  raw: number;
  len: 2 | 4;
  /** Where control may go after it, as page offsets (inside the page only); undefined = sequential. */
  succs?: number[];
  /** Its upper half is the next page's first 16 bits (checked by a guard). */
  crossing?: boolean;
}

const M64 = (1n << 64n) - 1n;

/** The in-page offsets control may continue at after `i` at page offset `off` (ends a block). */
function successors(i: GuestInsn | undefined, off: number, len: number, pagePc: bigint, pc: bigint): number[] | undefined {
  if (!i) return [];
  const inPage = (target: bigint): number[] => {
    const o = target - pagePc;
    return o >= 0n && o < BigInt(PAGE) ? [Number(o)] : [];
  };
  switch (i.name) {
    case 'beq': case 'bne': case 'blt': case 'bge': case 'bltu': case 'bgeu':
      return [...inPage((pc + BigInt.asUintN(64, BigInt(i.f.imm_b!))) & M64), ...(off + len < PAGE ? [off + len] : [])];
    case 'jal':
      // A call's target is another function: it leaves (its return comes back through jalr).
      return i.f.rd === 0 ? inPage((pc + BigInt.asUintN(64, BigInt(i.f.imm_j!))) & M64) : [];
    case 'jalr':
      return [];
  }
  if (i.def.endsBlock) return off + len < PAGE ? [off + len] : [];
  return undefined;
}

/**
 * The region entered at host address `entryHost` (virtual `entryPc`): its blocks in IR, the
 * exec records written through `execRecord` as they are needed.
 */
export function buildRegion(
  mem: CodeReader,
  entryHost: number,
  entryPc: bigint,
  execRecord: FrontendEnv['execRecord'],
  limits: RegionLimits,
): Region {
  const pageHost = entryHost - (entryHost % PAGE);
  const pagePc = entryPc & ~BigInt(PAGE - 1) & M64;
  const decoded = new Map<number, Decoded>();
  const leaders = new Set<number>();
  const work = [entryHost - pageHost];
  let count = 0;

  // Explore: decode from each start until the block ends, collecting the starts it leads to.
  while (work.length && count < limits.maxInsns) {
    const start = work.pop()!;
    leaders.add(start);
    for (let o = start; o < PAGE && count < limits.maxInsns; ) {
      if (o !== start && decoded.has(o)) {
        leaders.add(o); // joined code already seen: a block starts here
        break;
      }
      if (decoded.has(o)) break;
      const lo = mem.u16(pageHost + o);
      const len: 2 | 4 = (lo & 3) === 3 ? 4 : 2;
      const crossing = o + len > PAGE;
      const nextHalf = limits.nextHalf ?? -1;
      // Crosses into the next page: translated behind a guard if its upper half is known, else
      // the interpreter runs it.
      if (crossing && nextHalf < 0) break;
      const hi = (): number => (crossing ? nextHalf : mem.u16(pageHost + o + 2));
      const insn = decodeGuest(lo, hi);
      const raw = len === 4 ? ((lo | (hi() << 16)) >>> 0) : lo;
      const pc = (pagePc + BigInt(o)) & M64;
      // After a crossing instruction control is in the next page: the block ends with it.
      const succs = crossing ? (successors(insn, o, len, pagePc, pc) ?? []) : successors(insn, o, len, pagePc, pc);
      decoded.set(o, { insn, raw, len, succs, crossing });
      count++;
      if (succs) {
        for (const s of succs) if (!decoded.has(s)) work.push(s);
        else leaders.add(s);
        break;
      }
      o += len;
    }
  }

  // Cut blocks at the leaders.
  const blocks: IrBlock[] = [];
  const order = [entryHost - pageHost, ...[...leaders].filter((l) => l !== entryHost - pageHost).sort((a, b) => a - b)];
  let snapLo = PAGE;
  let snapHi = 0;
  let insns = 0;
  for (const start of order) {
    if (!decoded.has(start)) continue;
    let next = FIRST_LOCAL;
    const env: FrontendEnv = { execRecord, temp: () => next++ };
    const ops: IrBlock['ops'] = [];
    let end: Terminator | undefined;
    let n = 0;
    let o = start;
    for (;;) {
      const d = decoded.get(o)!;
      const pc = (pagePc + BigInt(o)) & M64;
      const t = d.insn ? translateInsn(d.insn, pc, n, env) : translateIllegal(d.raw, d.len, pc, n, env);
      if (d.crossing) ops.push({ kind: 'guard', va: (pagePc + BigInt(PAGE)) & M64, half: d.raw >>> 16, insn: { pc, npc: (pc + 4n) & M64, index: n } });
      ops.push(...t.ops);
      n++;
      snapLo = Math.min(snapLo, o);
      snapHi = Math.max(snapHi, Math.min(o + d.len, PAGE));
      o += d.len;
      if (t.end || d.crossing) {
        end = t.end ?? { kind: 'jump', target: (pagePc + BigInt(o)) & M64 };
        break;
      }
      // Falls through: into another block, or out of what was decoded (a limit, the page end).
      if (leaders.has(o) || !decoded.has(o)) {
        end = { kind: 'jump', target: (pagePc + BigInt(o)) & M64 };
        break;
      }
    }
    insns += n;
    blocks.push({ pc: (pagePc + BigInt(start)) & M64, insns: n, ops, end });
  }
  return { entryPc, entryHost, blocks, snapLo: pageHost + snapLo, snapHi: pageHost + snapHi, insns };
}
