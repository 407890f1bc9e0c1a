// What a handler knows about the instruction it executes: its op record (layout.ts) and the pc
// of the block it belongs to. Handlers read the raw bits, their pc and the next pc only when they
// need them (JIT compilers keep loads they cannot prove dead), and return CONT to continue with
// the next instruction, or the pc to go to (a jump, a trap's handler, STOP).
import { STOP } from './globals';
import { BLOCK_HEADER } from './layout';

/** "Continue with the next instruction": odd, so never a real pc; never STOP. */
export const CONT: u64 = 1;

/** The pc of the first instruction of the block being executed (set by the loop). */
export let blockBase: u64 = 0;
export function setBlockBase(pc: u64): void {
  blockBase = pc;
}

/**
 * The instruction's bits as fetched: a 32-bit one is its own expansion; a compressed one is read
 * from the snapshot of the block `rec` is in.
 */
@inline export function rawOf(rec: u32): u32 {
  if (load<u8>(rec, 3) == 4) return load<u32>(rec, 12);
  const block = rec - BLOCK_HEADER - (<u32>load<u8>(rec, 7) << 4);
  return <u32>load<u16>(block + BLOCK_HEADER + (<u32>load<u16>(block, 4) << 4) + <u32>load<u8>(rec, 2));
}
@inline export function pcOf(rec: u32): u64 {
  return blockBase + <u64>load<u8>(rec, 2);
}
@inline export function npcOf(rec: u32): u64 {
  return blockBase + <u64>load<u8>(rec, 2) + <u64>load<u8>(rec, 3);
}

/** Keeps STOP and CONT apart at compile time. */
export const CONT_IS_NOT_STOP: bool = CONT != STOP;
