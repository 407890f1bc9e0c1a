// Zifencei (unprivileged ISA chapter 3): FENCE.I. The interpreter fetches from guest memory on
// every instruction (it caches only the code page's host address, never decoded instructions), so
// stores are visible to fetch at once and FENCE.I has nothing to do. A translator caching decoded
// blocks must invalidate them here.
export function exec_fence_i(raw: u32, pc: u64, npc: u64): u64 {
  return npc;
}
