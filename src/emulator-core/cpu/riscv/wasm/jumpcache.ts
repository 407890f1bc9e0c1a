// The jump cache (QEMU's tb_jmp_cache): pc -> the table index of its translation, for translated
// code that leaves for a pc it could not know when it was made (an indirect jump, a return, a
// call into another page). Translated code probes it inline (tcg/backend.ts) and calls jitLookup
// only on a miss. An entry holds for one generation and one fetch TLB table (hart and privilege
// context): the generation moves whenever what it summarises may have changed: the memory epoch
// (code written), any TLB flush (the mapping of a pc), the translations flushed. Entries are
// never cleared, so moving the generation costs nothing.
import { JC_ENTRIES, JC_ENTRY_BYTES, JV_JC_GEN, MEM_JIT_JC, MEM_JIT_VARS } from './layout';

@inline export function jumpCacheGeneration(): u32 {
  return load<u32>(MEM_JIT_VARS + JV_JC_GEN);
}

/** Every entry is stale from now on. */
@inline export function jumpCacheInvalidate(): void {
  store<u32>(MEM_JIT_VARS + JV_JC_GEN, load<u32>(MEM_JIT_VARS + JV_JC_GEN) + 1);
}

@inline function slotOf(pc: u64): u32 {
  return MEM_JIT_JC + ((<u32>(pc >> 1) & (JC_ENTRIES - 1)) * JC_ENTRY_BYTES);
}

/** Records that pc runs translation `index` under fetch table `tlbx` (this generation). */
export function jumpCacheFill(pc: u64, tlbx: u32, index: u32): void {
  const j = slotOf(pc);
  store<u64>(j, pc);
  store<u32>(j, jumpCacheGeneration(), 8);
  store<u32>(j, tlbx, 12);
  store<u32>(j, index, 16);
}
