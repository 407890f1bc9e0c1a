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
// API stubs: the implementation fills these bodies; the signatures are the contract.

export let fflags: u32 = 0;

export function clearFlags(): void {
  fflags = 0;
}

// ---- binary32 ----
export function f32_add(a: u32, b: u32, rm: u32): u32 { unreachable(); return 0; }
export function f32_sub(a: u32, b: u32, rm: u32): u32 { unreachable(); return 0; }
export function f32_mul(a: u32, b: u32, rm: u32): u32 { unreachable(); return 0; }
export function f32_div(a: u32, b: u32, rm: u32): u32 { unreachable(); return 0; }
export function f32_sqrt(a: u32, rm: u32): u32 { unreachable(); return 0; }
/** a*b + c with one rounding. fmsub/fnmsub/fnmadd are built by the caller flipping signs of a and/or c. */
export function f32_fma(a: u32, b: u32, c: u32, rm: u32): u32 { unreachable(); return 0; }
/** feq: quiet (NV only for signaling NaN inputs). Returns 0 or 1. */
export function f32_eq(a: u32, b: u32): u32 { unreachable(); return 0; }
/** flt/fle: signaling (NV for any NaN input). Returns 0 or 1. */
export function f32_lt(a: u32, b: u32): u32 { unreachable(); return 0; }
export function f32_le(a: u32, b: u32): u32 { unreachable(); return 0; }
/** fmin/fmax (IEEE 754-2019 minimumNumber/maximumNumber; -0 < +0; NV for signaling NaN). */
export function f32_min(a: u32, b: u32): u32 { unreachable(); return 0; }
export function f32_max(a: u32, b: u32): u32 { unreachable(); return 0; }
/** fclass: the 10-bit mask of the F extension. */
export function f32_classify(a: u32): u32 { unreachable(); return 0; }
/** Float -> integer: saturating as RISC-V specifies (NaN -> max), NV when out of range, NX when inexact. */
export function f32_to_i32(a: u32, rm: u32): i32 { unreachable(); return 0; }
export function f32_to_u32(a: u32, rm: u32): u32 { unreachable(); return 0; }
export function f32_to_i64(a: u32, rm: u32): i64 { unreachable(); return 0; }
export function f32_to_u64(a: u32, rm: u32): u64 { unreachable(); return 0; }
export function i32_to_f32(a: i32, rm: u32): u32 { unreachable(); return 0; }
export function u32_to_f32(a: u32, rm: u32): u32 { unreachable(); return 0; }
export function i64_to_f32(a: i64, rm: u32): u32 { unreachable(); return 0; }
export function u64_to_f32(a: u64, rm: u32): u32 { unreachable(); return 0; }

// ---- binary64 ----
export function f64_add(a: u64, b: u64, rm: u32): u64 { unreachable(); return 0; }
export function f64_sub(a: u64, b: u64, rm: u32): u64 { unreachable(); return 0; }
export function f64_mul(a: u64, b: u64, rm: u32): u64 { unreachable(); return 0; }
export function f64_div(a: u64, b: u64, rm: u32): u64 { unreachable(); return 0; }
export function f64_sqrt(a: u64, rm: u32): u64 { unreachable(); return 0; }
export function f64_fma(a: u64, b: u64, c: u64, rm: u32): u64 { unreachable(); return 0; }
export function f64_eq(a: u64, b: u64): u32 { unreachable(); return 0; }
export function f64_lt(a: u64, b: u64): u32 { unreachable(); return 0; }
export function f64_le(a: u64, b: u64): u32 { unreachable(); return 0; }
export function f64_min(a: u64, b: u64): u64 { unreachable(); return 0; }
export function f64_max(a: u64, b: u64): u64 { unreachable(); return 0; }
export function f64_classify(a: u64): u32 { unreachable(); return 0; }
export function f64_to_i32(a: u64, rm: u32): i32 { unreachable(); return 0; }
export function f64_to_u32(a: u64, rm: u32): u32 { unreachable(); return 0; }
export function f64_to_i64(a: u64, rm: u32): i64 { unreachable(); return 0; }
export function f64_to_u64(a: u64, rm: u32): u64 { unreachable(); return 0; }
export function i32_to_f64(a: i32, rm: u32): u64 { unreachable(); return 0; }
export function u32_to_f64(a: u32, rm: u32): u64 { unreachable(); return 0; }
export function i64_to_f64(a: i64, rm: u32): u64 { unreachable(); return 0; }
export function u64_to_f64(a: u64, rm: u32): u64 { unreachable(); return 0; }

// ---- between formats ----
export function f32_to_f64(a: u32): u64 { unreachable(); return 0; }
export function f64_to_f32(a: u64, rm: u32): u32 { unreachable(); return 0; }
