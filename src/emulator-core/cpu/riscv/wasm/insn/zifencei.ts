// Zifencei (unprivileged ISA chapter 3): FENCE.I. Decoded blocks are validated against guest
// memory every time they are entered (blocks.ts), so there is nothing to invalidate: FENCE.I only
// ends the current block (STOP), and the instructions after it are fetched and checked afresh.
import { stopAt } from '../globals';

export function exec_fence_i(raw: u32, pc: u64, npc: u64): u64 {
  return stopAt(npc);
}
