// IEEE 754 binary32/binary64 arithmetic with RISC-V semantics, in integer arithmetic so that every
// rounding mode and every exception flag is exact (WebAssembly's own float ops round to nearest
// and raise no flags). The CPU's F and D handlers call these; values travel as raw bit patterns
// (u32 for single, u64 for double). NaN boxing of singles in 64-bit registers is the caller's job.
//
// Rounding mode `rm` is already resolved (dynamic rm replaced by frm, reserved values rejected
// by the caller): 0 RNE, 1 RTZ, 2 RDN, 3 RUP, 4 RMM.
// Exceptions accumulate into `fflags` (NV=0x10, DZ=0x08, OF=0x04, UF=0x02, NX=0x01); the caller
// ORs them into the fcsr. NaN results are the canonical NaN (0x7fc00000 / 0x7ff8000000000000).
// Tininess is detected after rounding (RISC-V, as x86 SSE).
//
// The implementation is split by concern: pack.ts (fields, rounding), add.ts, mul.ts,
// divsqrt.ts, fma.ts, convert.ts, compare.ts; flags.ts holds fflags and the rounding modes.
// This file is the contract the CPU calls: the names and semantics below are fixed.

/** Accrued exceptions of the operations since the last clearFlags (fcsr.fflags layout). */
export { fflags, clearFlags } from './flags';

// ---- binary32 ----
export { f32_add, f32_sub } from './add';
export { f32_mul } from './mul';
export { f32_div, f32_sqrt } from './divsqrt';
/** f32_fma(a, b, c, rm) = a*b + c with one rounding. fmsub/fnmsub/fnmadd are built by the caller flipping signs of a and/or c. */
export { f32_fma } from './fma';
/** f32_eq: quiet (NV only for signaling NaN inputs), returns 0 or 1. f32_lt/f32_le: signaling (NV for any NaN input).
 * f32_min/f32_max: IEEE 754-2019 minimumNumber/maximumNumber (-0 < +0; NV for signaling NaN).
 * f32_classify: the 10-bit mask of the F extension. */
export { f32_eq, f32_lt, f32_le, f32_min, f32_max, f32_classify } from './compare';
/** Float -> integer: saturating as RISC-V specifies (NaN -> max), NV when out of range, NX when inexact. */
export { f32_to_i32, f32_to_u32, f32_to_i64, f32_to_u64 } from './convert';
export { i32_to_f32, u32_to_f32, i64_to_f32, u64_to_f32 } from './convert';

// ---- binary64 ----
export { f64_add, f64_sub } from './add';
export { f64_mul } from './mul';
export { f64_div, f64_sqrt } from './divsqrt';
export { f64_fma } from './fma';
export { f64_eq, f64_lt, f64_le, f64_min, f64_max, f64_classify } from './compare';
export { f64_to_i32, f64_to_u32, f64_to_i64, f64_to_u64 } from './convert';
export { i32_to_f64, u32_to_f64, i64_to_f64, u64_to_f64 } from './convert';

// ---- between formats ----
/** f32_to_f64(a) is exact; f64_to_f32(a, rm) rounds. */
export { f32_to_f64, f64_to_f32 } from './convert';
