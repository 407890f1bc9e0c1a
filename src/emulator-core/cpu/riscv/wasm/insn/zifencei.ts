// Zifencei (unprivileged ISA chapter 3): FENCE.I. Decoded blocks are validated against guest
// memory every time they are entered (blocks.ts), so there is nothing to invalidate: FENCE.I only
// ends the current block (STOP), and the instructions after it are fetched and checked afresh.
import { npcOf } from '../op';
import { stopAt } from '../globals';

export function exec_fence_i(rec: u32): u64 {
  return stopAt(npcOf(rec));
}
