// The decoded-block cache: straight-line runs of instructions (up to a branch, a jump, a SYSTEM
// instruction, the end of the page or BLOCK_MAX_OPS) decoded once into op records, so the loop
// does no fetch, expansion or decode per instruction. Keyed by the host address of the first
// instruction (so by physical address: the loop has already translated pc and checked execute
// permission for the page) and shared by the harts. Each block keeps a snapshot of the bytes it
// was decoded from and is used only while guest memory still holds them: stores by any hart,
// device DMA into RAM or a reloaded program can never leave a stale block behind, and FENCE.I has
// nothing to invalidate (it ends the block, so the next one is checked again). The check itself
// is skipped while the memory epoch has not moved since the last one (codepages.ts).
// Layout (layout.ts): a direct-mapped hash of { host, block } pairs and a bump-allocated arena,
// emptied all at once when it fills (QEMU flushes its translation cache the same way).
import {
  BLOCK_ARENA_BYTES, BLOCK_HASH, BLOCK_HEADER, BLOCK_MAX_BYTES, BLOCK_MAX_OPS, BLOCK_MAX_SIZE, MEM_BLOCK_ARENA,
  MEM_BLOCK_HASH, MEM_RVC, OP_BYTES,
} from './layout';
import { OP_FIRST_ENDING, OP_ILLEGAL, decodeOp, packImm } from './decode.gen';
import { C_BLOCK_CHECK, C_BLOCK_DECODE, C_BLOCK_FLUSH, C_BLOCK_STALE, count } from './counters';
import { memEpoch, slowEvent } from './globals';
import { tlbLookup, tlbX, xlate } from './mmu';
import { ACC_EXEC } from './bits';
import { markCodePage } from './codepages';

/** Next free byte of the arena. */
let arenaNext: u32 = MEM_BLOCK_ARENA;

@inline function hashEntry(host: u32): u32 {
  return MEM_BLOCK_HASH + ((((host >> 1) ^ (host >> 15)) & (BLOCK_HASH - 1)) << 3);
}

/** Whether the bytes at host still are the ones `block` was decoded from. */
@inline function unchanged(block: u32, host: u32): bool {
  const n = <u32>load<u16>(block, 6);
  const snap = block + BLOCK_HEADER + (<u32>load<u16>(block, 4) << 4);
  let k: u32 = 0;
  for (; k + 8 <= n; k += 8) if (load<u64>(host + k) != load<u64>(snap + k)) return false;
  for (; k < n; k += 2) if (load<u16>(host + k) != load<u16>(snap + k)) return false;
  return true;
}

/** The cached block starting at `host`, unchecked (it may be stale), or 0: for a look at its heat. */
@inline export function blockPeek(host: u32): u32 {
  const e = hashEntry(host);
  return load<u32>(e) == host ? load<u32>(e, 4) : 0;
}

/**
 * The block starting at host address `host` (an instruction's address in RAM or ROM, inside a
 * page the hart may execute), decoded now if needed; 0 if even its first instruction cannot be
 * part of a block (it crosses the page end: the caller runs it alone).
 */
@inline export function blockAt(host: u32, pc: u64): u32 {
  const e = hashEntry(host);
  if (load<u32>(e) == host) {
    const block = load<u32>(e, 4);
    // A block ending with a page-crossing instruction: its upper half, through this hart's
    // current translation of the next page, must still be what was decoded.
    if (load<u16>(block, 14) && !tailMatches(block, pc)) return decodeBlock(e, host, pc);
    if (load<u32>(block, 8) == memEpoch()) return block;
    count(C_BLOCK_CHECK);
    if (unchanged(block, host)) {
      // Its page may have been written as data since (and left marked as code no more).
      markCodePage(host);
      store<u32>(block, memEpoch(), 8);
      return block;
    }
    count(C_BLOCK_STALE);
  }
  return decodeBlock(e, host, pc);
}

/** Host address of the next page's first halfword for a block at pc, or 0 (not executable/mapped). */
function nextPageHost(pc: u64): u32 {
  const va = (pc & ~0xfff) + 0x1000;
  let h = tlbLookup(tlbX, va);
  if (!h) {
    xlate(va, 2, ACC_EXEC);
    if (slowEvent) {
      slowEvent = 0; // not ours to raise: the instruction is stepped and faults then
      return 0;
    }
    h = tlbLookup(tlbX, va);
  }
  return h;
}

function tailMatches(block: u32, pc: u64): bool {
  const h = nextPageHost(pc);
  return h != 0 && load<u16>(h) == load<u16>(block, 12);
}

/** Fills an op record (layout.ts) for op `id` of the expanded instruction `insn`. */
export function writeOp(rec: u32, id: u32, insn: u32, offset: u32, len: u32, index: u32): void {
  store<u16>(rec, <u16>id);
  store<u8>(rec, <u8>offset, 2);
  store<u8>(rec, <u8>len, 3);
  // Register fields as byte offsets: rd 11:7, rs1 19:15, rs2 24:20, each * 8.
  store<u8>(rec, <u8>((insn >> 4) & 0xf8), 4);
  store<u8>(rec, <u8>((insn >> 12) & 0xf8), 5);
  store<u8>(rec, <u8>((insn >> 17) & 0xf8), 6);
  store<u8>(rec, <u8>index, 7);
  store<i32>(rec, packImm(id, insn), 8);
  store<u32>(rec, insn, 12);
}

function decodeBlock(e: u32, host: u32, pc: u64): u32 {
  count(C_BLOCK_DECODE);
  if (arenaNext + BLOCK_MAX_SIZE > MEM_BLOCK_ARENA + BLOCK_ARENA_BYTES) blocksClear();
  const block = arenaNext;
  let p = host;
  let ops: u32 = 0;
  let rec = block + BLOCK_HEADER;
  let tail: u32 = 0;
  while (ops < BLOCK_MAX_OPS) {
    const left = 0x1000 - (p & 0xfff);
    const h = <u32>load<u16>(p);
    let insn: u32 = 0;
    let len: u32 = 0;
    if ((h & 3) != 3) {
      insn = load<u32>(MEM_RVC + (h << 2));
      len = 2;
    } else if (left >= 4) {
      insn = load<u32>(p);
      len = 4;
    } else {
      // Crosses into the next page: the block ends with it if that page is executable now.
      const h2 = nextPageHost(pc);
      if (!h2) break;
      tail = <u32>load<u16>(h2) | 0x1_0000;
      insn = h | ((tail & 0xffff) << 16);
      writeOp(rec, decodeOp(insn), insn, p - host, 4, ops);
      rec += OP_BYTES;
      p += 2; // the snapshot covers this page's half
      ops++;
      break;
    }
    const id = decodeOp(insn);
    writeOp(rec, id, insn, p - host, len, ops);
    rec += OP_BYTES;
    p += len;
    ops++;
    if (id >= OP_FIRST_ENDING || id == OP_ILLEGAL || (p & 0xfff) == 0 || p - host > BLOCK_MAX_BYTES - 4) break;
  }
  if (ops == 0) {
    store<u32>(e, 0);
    return 0;
  }
  const bytes = p - host;
  markCodePage(host);
  memory.copy(rec, host, bytes);
  store<u32>(block, host);
  store<u16>(block, <u16>ops, 4);
  store<u16>(block, <u16>bytes, 6);
  store<u32>(block, memEpoch(), 8);
  store<u32>(block, tail, 12); // u16 upper half, u16 1 if there is one
  store<u64>(block, 0, 16); // heat
  arenaNext = (rec + bytes + 7) & ~7;
  store<u32>(e, host);
  store<u32>(e, block, 4);
  return block;
}

/** Empties the cache: at start, and when the arena is full. */
export function blocksClear(): void {
  count(C_BLOCK_FLUSH);
  memory.fill(MEM_BLOCK_HASH, 0, BLOCK_HASH * 8);
  arenaNext = MEM_BLOCK_ARENA;
}
