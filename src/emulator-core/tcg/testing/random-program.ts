// Random but valid RV64IMC programs for differential testing of the translator (tci vs tcg in
// lockstep): ALU ops of every kind (register and immediate forms, W forms, shifts), multiply and
// divide on operands biased to the edge cases (0, -1, MIN), loads and stores of every width into
// a data area (aligned, small positive offsets the compressed forms reach, and misaligned ones the
// core splits), forward branches and jumps (direct and through a register), counted loops nested
// two deep (so code gets hot and runs translated), and calls of leaf functions (direct and
// indirect), instructions that trap (ecall, ebreak, illegal ones, access faults: the handler skips
// them) and the Sstc timer set to interrupt a few hundred instructions later (wherever the program
// is then, translated or not). Instructions are compressed where a C form exists, at random. Every
// program ends: loops are counted by registers nothing else writes, other control only goes
// forward. It ends by writing 1 to tohost. Same seed, same program.
import { disassemble } from '../../cpu/riscv/disasm';
import { decode16, encode32, extractField, insertField } from '../../cpu/riscv/isa/decode';
import { fields16, insns16 } from '../../cpu/riscv/isa/table.gen';
import { rng } from '../../cpu/riscv/testing/rng';
import { flatElf } from './flat-elf';

export const BASE = 0x8000_0000;
/** The data area (4 KiB of random bytes); s0 points at its middle so every 12-bit offset stays in it. */
const DATA = 0x1_0000;
const TOHOST = 0x2_0000;
const IMAGE_BYTES = TOHOST + 0x1000;

// Registers with a role: the data pointer, the loop counters (depth 1 and 2), the trap handler's.
const S0 = 8;
const COUNTERS = [9, 18];
const HANDLER_REGS = [30, 31];
const RESERVED = new Set([S0, ...COUNTERS, ...HANDLER_REGS]);
/** Registers random code writes (x0 included: writes to it must vanish). */
const WRITABLE = Array.from({ length: 32 }, (_, i) => i).filter((r) => !RESERVED.has(r));

const ALU_R = ['add', 'sub', 'sll', 'slt', 'sltu', 'xor', 'srl', 'sra', 'or', 'and', 'addw', 'subw', 'sllw', 'srlw', 'sraw'];
const MULDIV = ['mul', 'mulh', 'mulhsu', 'mulhu', 'div', 'divu', 'rem', 'remu', 'mulw', 'divw', 'divuw', 'remw', 'remuw'];
const ALU_I = ['addi', 'slti', 'sltiu', 'xori', 'ori', 'andi', 'addiw'];
const SHIFT_I = ['slli', 'srli', 'srai'];
const SHIFT_IW = ['slliw', 'srliw', 'sraiw'];
const LOADS: [string, number][] = [['lb', 1], ['lh', 2], ['lw', 4], ['ld', 8], ['lbu', 1], ['lhu', 2], ['lwu', 4]];
const STORES: [string, number][] = [['sb', 1], ['sh', 2], ['sw', 4], ['sd', 8]];
const BRANCHES = ['beq', 'bne', 'blt', 'bge', 'bltu', 'bgeu'];

const M64 = (1n << 64n) - 1n;
/** Values that make arithmetic interesting: zero, ones, the extremes of both widths. */
const EDGES = [0n, 1n, M64, 2n, 0x7fff_ffffn, 0x8000_0000n, 0xffff_ffffn, 0xffff_ffff_8000_0000n, 1n << 63n, (1n << 63n) - 1n, 0xffn, 0x8000n];

type Label = number;
type Item =
  | { k: 'w'; word: number; len: 2 | 4 }
  | { k: 'br'; name: string; rs1: number; rs2: number; to: Label }
  | { k: 'jal'; rd: number; to: Label }
  /** auipc rd + addi rd: the address of a label. */
  | { k: 'la'; rd: number; to: Label }
  | { k: 'label'; id: Label }
  /** Pads to 4 bytes with a c.nop (mtvec needs an aligned handler). */
  | { k: 'align4' };

export interface RandomProgramOptions {
  /** Use compressed forms where they exist (about half the time). */
  compressed: boolean;
  /** Steps in the main sequence (a loop or a call is one step). */
  steps: number;
}

export interface RandomProgram {
  elf: Uint8Array;
  /** The code as text, one instruction a line (for a failure's message). */
  listing(): string;
}

const sext12 = (v: bigint): bigint => BigInt.asIntN(12, v);

class Generator {
  readonly items: Item[] = [];
  private labels = 0;
  private readonly r: () => number;
  private readonly functions: Label[] = [];

  constructor(seed: number, private readonly opts: RandomProgramOptions) {
    this.r = rng(seed);
  }

  private chance(p: number): boolean {
    return this.r() / 2 ** 32 < p;
  }
  private pick<T>(a: readonly T[]): T {
    return a[this.r() % a.length]!;
  }
  private anyReg(): number {
    return this.r() & 31;
  }
  private dest(inFunction: boolean): number {
    for (;;) {
      const d = this.chance(0.03) ? 0 : this.pick(WRITABLE);
      if (!(inFunction && d === 1)) return d;
    }
  }
  label(): Label {
    return this.labels++;
  }
  place(l: Label): void {
    this.items.push({ k: 'label', id: l });
  }

  /** One instruction, compressed when allowed, a C form exists and the coin says so. */
  emit(name: string, ops: Record<string, number>, compressible = true): void {
    const word = encode32(name, ops);
    if (compressible && this.opts.compressed && this.chance(0.5)) {
      const half = compress(name, ops, word);
      if (half !== undefined) {
        this.items.push({ k: 'w', word: half, len: 2 });
        return;
      }
    }
    this.items.push({ k: 'w', word, len: 4 });
  }

  /** rd = v (the usual lui/addiw/slli/addi expansion of `li`). */
  li(rd: number, v: bigint): void {
    const s = BigInt.asIntN(64, v);
    if (s >= -2048n && s < 2048n) {
      this.emit('addi', { rd, rs1: 0, imm_i: Number(s) });
      return;
    }
    const lo = sext12(s);
    if (s >= -(1n << 31n) && s < 1n << 31n) {
      this.emit('lui', { rd, imm_u: Number(BigInt.asIntN(32, s - lo)) });
      if (lo) this.emit('addiw', { rd, rs1: rd, imm_i: Number(lo) });
      return;
    }
    let rest = (s - lo) >> 12n;
    let shift = 12;
    while ((rest & 1n) === 0n) {
      rest >>= 1n;
      shift++;
    }
    this.li(rd, rest);
    this.emit('slli', { rd, rs1: rd, shamt: shift });
    if (lo) this.emit('addi', { rd, rs1: rd, imm_i: Number(lo) });
  }

  private interesting(): bigint {
    const k = this.r() % 4;
    if (k < 2) return this.pick(EDGES);
    if (k === 2) return BigInt(this.r() % 4096) - 2048n;
    return (BigInt(this.r()) << 32n) | BigInt(this.r());
  }

  /** An offset from s0 for an access of `size` bytes: aligned, small (C forms), or misaligned. */
  private offset(size: number): number {
    const k = this.r() % 20;
    if (k < 5) return (this.r() % 32) * size; // 0..31 units: reachable by c.lw/c.ld/c.sw/c.sd
    const off = (this.r() % (4096 - size)) - 2048;
    return k < 17 ? off - (((off % size) + size) % size) : off;
  }

  /** A sequence of `steps` steps at loop depth `depth`; forward control stays inside it. */
  sequence(steps: number, depth: number, inFunction: boolean): void {
    const pending: { l: Label; left: number }[] = [];
    const forward = (): Label => {
      const l = this.label();
      pending.push({ l, left: 1 + (this.r() % 8) });
      return l;
    };
    for (let i = 0; i < steps; i++) {
      this.step(depth, inFunction, forward);
      for (const p of pending) if (--p.left === 0) this.place(p.l);
      for (let j = pending.length - 1; j >= 0; j--) if (pending[j]!.left === 0) pending.splice(j, 1);
    }
    for (const p of pending) this.place(p.l);
  }

  private step(depth: number, inFunction: boolean, forward: () => Label): void {
    const w = this.r() % 108;
    const rd = this.dest(inFunction);
    if (w < 22) this.emit(this.pick(ALU_R), { rd, rs1: this.anyReg(), rs2: this.anyReg() });
    else if (w < 34) this.emit(this.pick(MULDIV), { rd, rs1: this.anyReg(), rs2: this.anyReg() });
    else if (w < 48) {
      const imm = this.chance(0.3) ? this.pick([0, 1, -1, 2047, -2048]) : (this.r() % 4096) - 2048;
      this.emit(this.pick(ALU_I), { rd, rs1: this.anyReg(), imm_i: imm });
    } else if (w < 54) this.emit(this.pick(SHIFT_I), { rd, rs1: this.anyReg(), shamt: this.r() % 64 });
    else if (w < 57) this.emit(this.pick(SHIFT_IW), { rd, rs1: this.anyReg(), shamtw: this.r() % 32 });
    else if (w < 61) this.li(rd, this.interesting());
    else if (w < 63) this.emit(this.pick(['lui', 'auipc']), { rd, imm_u: ((this.r() % (1 << 20)) - (1 << 19)) * 4096 });
    else if (w < 71) {
      const [name, size] = this.pick(LOADS);
      this.emit(name, { rd, rs1: S0, imm_i: this.offset(size) });
    } else if (w < 79) {
      const [name, size] = this.pick(STORES);
      this.emit(name, { rs1: S0, rs2: this.anyReg(), imm_s: this.offset(size) });
    } else if (w < 87) this.items.push({ k: 'br', name: this.pick(BRANCHES), rs1: this.anyReg(), rs2: this.anyReg(), to: forward() });
    else if (w < 89) this.items.push({ k: 'jal', rd: 0, to: forward() });
    else if (w < 90) {
      // A forward jump through a register (an indirect exit that lands in the same page, or not),
      // sometimes linking into the register it jumps through (the target is read first).
      const t = this.pick(WRITABLE.filter((x) => x > 1));
      this.items.push({ k: 'la', rd: t, to: forward() });
      this.emit('jalr', { rd: this.chance(0.5) ? t : 0, rs1: t, imm_i: 0 }, false);
    } else if (w < 96 && depth < 2 && !inFunction) this.loop(depth);
    else if (w < 100 && !inFunction && this.functions.length) this.call();
    else if (w >= 100 && w < 103) this.trap(rd);
    // The counters, read mid-region: translated code must have counted exactly up to here.
    else if (w === 103) this.emit('csrrs', { rd, rs1: 0, csr: this.pick([0xc00, 0xc01, 0xc02, 0xb00, 0xb02]) }, false);
    else if (w >= 104) {
      // The Sstc timer, due in 1..64 ticks (10..640 instructions under the lockstep harness).
      this.emit('csrrs', { rd, rs1: 0, csr: 0xc01 }, false);
      this.emit('addi', { rd, rs1: rd, imm_i: 1 + (this.r() % 64) });
      this.emit('csrrw', { rd: 0, rs1: rd, csr: 0x14d }, false);
    } else this.emit('addi', { rd, rs1: this.anyReg(), imm_i: 1 });
  }

  /** An instruction that traps (the handler skips it): a call, a breakpoint, illegal, an access fault. */
  private trap(rd: number): void {
    switch (this.r() % 6) {
      case 0: this.emit('ecall', {}, false); break;
      case 1: this.emit('ebreak', {}, false); break;
      case 2: this.items.push({ k: 'w', word: 0x0000, len: 2 }); break; // c.unimp
      case 3: this.emit('csrrw', { rd: 0, rs1: 0, csr: 0xc00 }, false); break; // cycle is read-only
      // Nothing answers below 0x800 in the bare-metal harness: access faults.
      case 4: this.emit(this.pick(LOADS)[0], { rd, rs1: 0, imm_i: this.r() % 0x800 }); break;
      default: this.emit(this.pick(STORES)[0], { rs1: 0, rs2: this.anyReg(), imm_s: this.r() % 0x800 }); break;
    }
  }

  /** A counted loop: the counter is set, the body runs n times, the back edge tests the counter. */
  private loop(depth: number): void {
    const c = COUNTERS[depth]!;
    this.emit('addi', { rd: c, rs1: 0, imm_i: 1 + (this.r() % 12) });
    const top = this.label();
    this.place(top);
    this.sequence(3 + (this.r() % 14), depth + 1, false);
    this.emit('addi', { rd: c, rs1: c, imm_i: -1 });
    if (this.chance(0.5)) this.items.push({ k: 'br', name: 'bne', rs1: c, rs2: 0, to: top });
    else this.items.push({ k: 'br', name: 'blt', rs1: 0, rs2: c, to: top });
  }

  private call(): void {
    const f = this.pick(this.functions);
    if (this.chance(0.6)) this.items.push({ k: 'jal', rd: 1, to: f });
    else {
      const t = this.pick(WRITABLE.filter((x) => x > 1));
      this.items.push({ k: 'la', rd: t, to: f });
      this.emit('jalr', { rd: 1, rs1: t, imm_i: 0 }, false);
    }
  }

  generate(): void {
    const handler = this.label();
    const tohost = this.label();
    const fns = Array.from({ length: 1 + (this.r() % 3) }, () => this.label());
    this.functions.push(...fns);
    // Prologue: the trap vector, the data pointer, every other register an interesting value.
    this.items.push({ k: 'la', rd: 31, to: handler });
    this.emit('csrrw', { rd: 0, rs1: 31, csr: 0x305 }, false);
    // Timer interrupts on (Sstc's, taken in M): menvcfg.STCE, mie.STIE, mstatus.MIE.
    this.li(31, 1n << 63n);
    this.emit('csrrw', { rd: 0, rs1: 31, csr: 0x30a }, false);
    this.emit('addi', { rd: 31, rs1: 0, imm_i: 1 << 5 }, false);
    this.emit('csrrw', { rd: 0, rs1: 31, csr: 0x304 }, false);
    this.emit('csrrsi', { rd: 0, zimm: 8, csr: 0x300 }, false);
    this.li(S0, BigInt(BASE + DATA + 2048));
    for (const rd of WRITABLE) if (rd) this.li(rd, this.interesting());
    this.sequence(this.opts.steps, 0, false);
    // Epilogue: interrupts off (the handler uses x30 and x31), tohost = 1, then spin.
    this.emit('csrrci', { rd: 0, zimm: 8, csr: 0x300 }, false);
    this.emit('addi', { rd: 31, rs1: 0, imm_i: 1 }, false);
    this.items.push({ k: 'la', rd: 30, to: tohost });
    this.emit('sd', { rs1: 30, rs2: 31, imm_s: 0 }, false);
    this.emit('jal', { rd: 0, imm_j: 0 }, false);
    for (const f of fns) {
      this.place(f);
      this.sequence(3 + (this.r() % 15), 2, true);
      this.emit('jalr', { rd: 0, rs1: 1, imm_i: 0 });
    }
    // The handler skips the instruction that trapped (2 or 4 bytes, from its low bits); for the
    // timer's interrupt it only puts the timer off.
    const interrupt = this.label();
    this.items.push({ k: 'align4' });
    this.place(handler);
    this.emit('csrrs', { rd: 30, rs1: 0, csr: 0x342 }, false);
    this.items.push({ k: 'br', name: 'blt', rs1: 30, rs2: 0, to: interrupt });
    this.emit('csrrs', { rd: 30, rs1: 0, csr: 0x341 }, false);
    this.emit('lhu', { rd: 31, rs1: 30, imm_i: 0 }, false);
    this.emit('andi', { rd: 31, rs1: 31, imm_i: 3 }, false);
    this.emit('addi', { rd: 31, rs1: 31, imm_i: -3 }, false);
    this.emit('sltiu', { rd: 31, rs1: 31, imm_i: 1 }, false);
    this.emit('slli', { rd: 31, rs1: 31, shamt: 1 }, false);
    this.emit('addi', { rd: 31, rs1: 31, imm_i: 2 }, false);
    this.emit('add', { rd: 30, rs1: 30, rs2: 31 }, false);
    this.emit('csrrw', { rd: 0, rs1: 30, csr: 0x341 }, false);
    this.emit('mret', {}, false);
    this.place(interrupt);
    this.emit('addi', { rd: 31, rs1: 0, imm_i: -1 }, false);
    this.emit('csrrw', { rd: 0, rs1: 31, csr: 0x14d }, false);
    this.emit('mret', {}, false);
    this.tohostLabel = tohost;
  }

  tohostLabel = -1;
}

/** The C form of the instruction `word` (name and operands), if one encodes it exactly. */
function compress(name: string, ops: Record<string, number>, word: number): number | undefined {
  for (const c of insns16) {
    if (c.target !== name) continue;
    let h = c.match;
    let ok = true;
    for (const [f32, f16] of Object.entries(c.assign)) {
      const v = ops[f32] ?? 0;
      if (typeof f16 === 'number') ok &&= v === f16;
      else {
        const bits = insertField(fields16[f16]!, v);
        ok &&= extractField(fields16[f16]!, bits) === v;
        h |= bits;
      }
    }
    if (ok && decode16(h)?.expansion === word && decode16(h)?.insn === c) return h;
  }
  return undefined;
}

/** Lays the items out from BASE and encodes the control transfers. */
function assembleItems(items: Item[], tohostLabel: Label): { image: Uint8Array; lines: string[] } {
  const at = new Map<Label, number>();
  let off = 0;
  for (const it of items) {
    if (it.k === 'label') at.set(it.id, off);
    else if (it.k === 'align4') off += off % 4;
    else off += it.k === 'w' ? it.len : it.k === 'la' ? 8 : 4;
  }
  at.set(tohostLabel, TOHOST);
  if (off > DATA) throw new Error(`random program too long (${off} bytes)`);
  const image = new Uint8Array(IMAGE_BYTES);
  const dv = new DataView(image.buffer);
  const lines: string[] = [];
  off = 0;
  const put = (word: number, len: 2 | 4): void => {
    if (len === 2) dv.setUint16(off, word, true);
    else dv.setUint32(off, word >>> 0, true);
    lines.push(`${(BASE + off).toString(16)}: ${disassemble(word, BigInt(BASE + off))}`);
    off += len;
  };
  const rel = (l: Label): number => at.get(l)! - off;
  for (const it of items) {
    switch (it.k) {
      case 'label': break;
      case 'align4': if (off % 4) put(0x0001, 2); break;
      case 'w': put(it.word, it.len); break;
      case 'br': put(encode32(it.name, { rs1: it.rs1, rs2: it.rs2, imm_b: rel(it.to) }), 4); break;
      case 'jal': put(encode32('jal', { rd: it.rd, imm_j: rel(it.to) }), 4); break;
      case 'la': {
        const d = BigInt(rel(it.to));
        const lo = sext12(d);
        put(encode32('auipc', { rd: it.rd, imm_u: Number(d - lo) }), 4);
        put(encode32('addi', { rd: it.rd, rs1: it.rd, imm_i: Number(lo) }), 4);
        break;
      }
    }
  }
  return { image, lines };
}

export function randomProgram(seed: number, opts: RandomProgramOptions): RandomProgram {
  const g = new Generator(seed, opts);
  g.generate();
  const { image, lines } = assembleItems(g.items, g.tohostLabel);
  // The data area: random bytes for the loads to find.
  const r = rng(seed ^ 0x5eed);
  for (let i = DATA; i < DATA + 4096; i += 4) new DataView(image.buffer).setUint32(i, r(), true);
  const elf = flatElf(image, { base: BigInt(BASE), entry: BigInt(BASE), tohost: BigInt(BASE + TOHOST) });
  return { elf, listing: () => lines.join('\n') };
}
