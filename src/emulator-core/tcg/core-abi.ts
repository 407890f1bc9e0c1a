// What translated code knows of the CPU core's memory (cpu/riscv/wasm/layout.ts and jit.ts): the
// addresses it reads and writes directly. The translator checks them against the core at start
// (the core's jitAbi export), so a layout change that forgets this file fails loudly.

/** Hart state: x[r] at ST_X + 8 r (the active hart's state is at address 0). */
export const ST_X = 0;
/** TLB: entries of 16 bytes { u64 tag, u32 addend }, TLB_ENTRIES per table, indexed by vpn. */
export const TLB_ENTRIES = 256;
export const TLB_ENTRY_BYTES = 16;
/** MEM_JIT_VARS words (JV_*), relative to the core's jitVarsOffset(). */
export const JV_EPOCH = 0;
export const JV_BUDGET = 4;
export const JV_STATUS = 8;
export const JV_LINK = 12;
export const JV_EXIT = 16;
export const JV_TLB_R = 20;
export const JV_TLB_W = 24;
export const JV_LINK_PC = 32;
export const JV_JC_GEN = 48;
export const JV_TLB_X = 28;
/** The jump cache (wasm/jumpcache.ts): entries { u64 pc, u32 generation, u32 fetch TLB table, u32 table index }. */
export const MEM_JIT_JC_ABI_INDEX = 24;
export const JC_ENTRIES = 4096;
export const JC_ENTRY_BYTES = 32;
/** A translation entry's fields (JE_*) and size. */
export const JE_HOST = 0;
export const JE_INDEX = 4;
export const JE_PC = 8;
export const JE_EPOCH = 16;
export const JE_SNAP_HOST = 20;
export const JE_SNAP_LEN = 24;
export const JE_SNAP = 28;
export const JE_MIN_BUDGET = 32;
export const JE_SIZE = 40;
/** Slow-path events in JV_STATUS (globals.ts SLOW_*). */
export const SLOW_FAULT = 1;
export const SLOW_STOP = 2;
/** What handlers return to continue with the next instruction (op.ts CONT). */
export const CONT = 1n;
/** Why translated code returned (JV_EXIT; counters.ts C_JIT_EXIT + kind). */
export const ExitKind = { Budget: 0, Direct: 1, Indirect: 2, Slow: 3, Helper: 4, SamePage: 5, Guard: 6 } as const;

/** The core's own values of the above, in jitAbi(i) order (undefined: an address read from the core, not checked). */
export const abiValues: (number | undefined)[] = [ST_X, TLB_ENTRIES, TLB_ENTRY_BYTES, JV_EPOCH, JV_BUDGET, JV_STATUS, JV_LINK, JV_EXIT, JV_TLB_R, JV_TLB_W, JV_LINK_PC,
  JE_HOST, JE_INDEX, JE_PC, JE_EPOCH, JE_SNAP_HOST, JE_SNAP_LEN, JE_SNAP, JE_MIN_BUDGET, JE_SIZE, SLOW_FAULT, SLOW_STOP, Number(CONT), JV_JC_GEN, undefined, JC_ENTRIES, JC_ENTRY_BYTES, JV_TLB_X];
