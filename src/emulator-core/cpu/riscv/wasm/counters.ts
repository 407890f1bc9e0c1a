// Named counters of the interpreter's rare paths (v86's habit: every slow-path decision counted),
// read by benchmarks and tests through index.ts perfCounter(). Only slow paths count, so the
// fast path pays nothing. Indices are stable: the TS side names them (wasm-cpu.ts perfCounterNames).
export const C_FETCH_SLOW: u32 = 0; // code page refills (pc left the cached page)
export const C_XLATE: u32 = 1; // TLB misses that translated (page walk or bare + PMP)
export const C_EXCEPTION: u32 = 2; // exceptions taken
export const C_INTERRUPT: u32 = 3; // interrupts taken
export const C_STOP: u32 = 4; // STOP events handled by the loop
export const C_MMIO: u32 = 5; // device accesses
export const C_FLUSH_ALL: u32 = 6; // whole-context TLB flushes
export const C_FLUSH_PAGE: u32 = 7; // single-page TLB flushes
export const C_LOAD_SLOW: u32 = 8; // loads that missed the TLB fast path
export const C_STORE_SLOW: u32 = 9; // stores that missed the TLB fast path
export const C_BLOCK_DECODE: u32 = 10; // blocks decoded (a miss, a collision or stale bytes)
export const C_BLOCK_STALE: u32 = 11; // blocks whose bytes changed since they were decoded
export const C_STEP: u32 = 12; // instructions run one at a time (page-crossing or uncached code)
export const C_BLOCK_FLUSH: u32 = 13; // block cache flushes (the arena filled up)
export const C_EPOCH: u32 = 14; // memory epoch moves (a write to code, a device access, a run)
export const C_BLOCK_CHECK: u32 = 15; // block snapshot checks (the epoch moved since the last one)
export const C_JIT_HOT: u32 = 16; // blocks that got hot (translation requested)
export const C_JIT_ENTER: u32 = 17; // entries into translated code from the run loop
export const C_JIT_CHECK: u32 = 18; // translation snapshot checks (the epoch moved since the last one)
export const C_JIT_DROP: u32 = 19; // translations dropped because their guest bytes changed
// Why translated code returned to the run loop (tcg/ names them; JV_EXIT):
export const C_JIT_EXIT: u32 = 20; // + 0 budget, 1 direct exit not chained, 2 indirect miss, 3 slow path, 4 helper stop, 5 same-page direct exit not chained, 6 page-crossing guard failed
export const JIT_EXIT_KINDS: u32 = 7;
export const C_INTERP_INSNS: u32 = 27; // instructions the interpreter ran in decoded blocks
export const C_JIT_AFTER_EXIT: u32 = 28; // translated code returned, and translated code ran next (a chain missed)
export const C_JIT_LOOKUP: u32 = 29; // lookups translated code made for an exit (jitLookup)
export const COUNTERS: u32 = 30;

const counters = new StaticArray<u64>(COUNTERS);

@inline export function count(i: u32): void {
  unchecked(counters[i] += 1);
}
@inline export function countN(i: u32, n: u64): void {
  unchecked(counters[i] += n);
}

export function counterValue(i: u32): u64 {
  return i < COUNTERS ? unchecked(counters[i]) : 0;
}

export function resetCounters(): void {
  for (let i: u32 = 0; i < COUNTERS; i++) unchecked((counters[i] = 0));
}
