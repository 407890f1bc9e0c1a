// The decoded-block cache: straight-line runs of instructions (up to a branch, a jump, a SYSTEM
// instruction, the end of the page or BLOCK_MAX_OPS) decoded once into op records, so the loop
// does no fetch, expansion or decode per instruction. Keyed by the host address of the first
// instruction (so by physical address: the loop has already translated pc and checked execute
// permission for the page) and shared by the harts. Each slot keeps a snapshot of the bytes it
// was decoded from and is used only while guest memory still holds them: stores by any hart,
// device DMA into RAM or a reloaded program can never leave a stale block behind, and FENCE.I has
// nothing to invalidate (it ends the block, so the next one is checked again).
import {
  BLOCK_MAX_BYTES, BLOCK_MAX_OPS, BLOCK_OPS, BLOCK_SLOTS, BLOCK_SLOT_BYTES, BLOCK_SNAPSHOT, MEM_BLOCKS, MEM_RVC,
  OP_BYTES,
} from './layout';
import { OP_FIRST_ENDING, OP_ILLEGAL, decodeOp } from './decode.gen';
import { C_BLOCK_DECODE, C_BLOCK_STALE, count } from './counters';

@inline function slotFor(host: u32): u32 {
  return MEM_BLOCKS + ((((host >> 1) ^ (host >> 13)) & (BLOCK_SLOTS - 1)) * BLOCK_SLOT_BYTES);
}

/** Whether the bytes at host still are the ones the slot was decoded from. */
@inline function unchanged(slot: u32, host: u32): bool {
  const n = <u32>load<u16>(slot, 6);
  let k: u32 = 0;
  for (; k + 8 <= n; k += 8) if (load<u64>(host + k) != load<u64>(slot + BLOCK_SNAPSHOT + k)) return false;
  for (; k < n; k += 2) if (load<u16>(host + k) != load<u16>(slot + BLOCK_SNAPSHOT + k)) return false;
  return true;
}

/**
 * The block starting at host address `host` (an instruction's address in RAM or ROM, inside a
 * page the hart may execute): its slot, decoded now if needed; 0 if even its first instruction
 * cannot be part of a block (it crosses the page end: the caller runs it alone).
 */
@inline export function blockAt(host: u32): u32 {
  const slot = slotFor(host);
  if (load<u32>(slot) == host && unchanged(slot, host)) return slot;
  return decodeBlock(slot, host);
}

function decodeBlock(slot: u32, host: u32): u32 {
  count(C_BLOCK_DECODE);
  if (load<u32>(slot) == host) count(C_BLOCK_STALE);
  let p = host;
  let ops: u32 = 0;
  let rec = slot + BLOCK_OPS;
  while (ops < BLOCK_MAX_OPS) {
    const left = 0x1000 - (p & 0xfff);
    const h = <u32>load<u16>(p);
    let insn: u32;
    let len: u32;
    if ((h & 3) != 3) {
      insn = load<u32>(MEM_RVC + (h << 2));
      len = 2;
    } else {
      if (left < 4) break; // crosses the page end: not part of the block
      insn = load<u32>(p);
      len = 4;
    }
    const id = decodeOp(insn);
    store<u16>(rec, <u16>id);
    store<u8>(rec, <u8>(p - host), 2);
    store<u8>(rec, <u8>len, 3);
    store<u32>(rec, insn, 4);
    store<u32>(rec, len == 2 ? h : insn, 8);
    rec += OP_BYTES;
    p += len;
    ops++;
    if (id >= OP_FIRST_ENDING || id == OP_ILLEGAL || (p & 0xfff) == 0 || p - host > BLOCK_MAX_BYTES - 4) break;
  }
  if (ops == 0) {
    store<u32>(slot, 0);
    return 0;
  }
  const bytes = p - host;
  memory.copy(slot + BLOCK_SNAPSHOT, host, bytes);
  store<u32>(slot, host);
  store<u16>(slot, <u16>ops, 4);
  store<u16>(slot, <u16>bytes, 6);
  return slot;
}

/** Empties the cache (not needed for correctness: for tests and a clean start). */
export function blocksClear(): void {
  for (let i: u32 = 0; i < BLOCK_SLOTS; i++) store<u32>(MEM_BLOCKS + i * BLOCK_SLOT_BYTES, 0);
}

/** BLOCK_MAX_BYTES bounds the snapshot; the op records start after it. */
export const BLOCK_LAYOUT_OK: bool = BLOCK_SNAPSHOT + BLOCK_MAX_BYTES <= BLOCK_OPS && BLOCK_OPS + BLOCK_MAX_OPS * OP_BYTES <= BLOCK_SLOT_BYTES;
