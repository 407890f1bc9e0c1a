// Comparisons, min/max and classify (RISC-V FEQ/FLT/FLE, FMIN/FMAX, FCLASS).
// FEQ is a quiet comparison (NV only for signaling NaNs); FLT/FLE are signaling (NV for any
// NaN), as IEEE 754-2019 5.11 specifies for compareQuietEqual / compareSignalingLess(Equal).
// FMIN/FMAX are IEEE 754-2019 minimumNumber/maximumNumber (F extension 2.2): a NaN operand is
// ignored unless both are NaN (then the canonical NaN), -0 is below +0, sNaN raises NV.
import { FLAG_NV, raise } from './flags';
import {
  F32_DEFAULT_NAN, F32_SIGN, F64_DEFAULT_NAN, F64_SIGN, expF32, expF64, fracF32, fracF64, isNaNF32, isNaNF64,
  isSignalingNaNF32, isSignalingNaNF64, signF32, signF64,
} from './pack';

// ---- ordering of non-NaN bit patterns ----
// For non-NaN values, sign-magnitude order is the numeric order, with -0 and +0 distinct when
// `zerosEqual` is false (min/max treat -0 as the smaller).

@inline function lessF64(a: u64, b: u64, zerosEqual: bool): bool {
  const signA = signF64(a);
  if (signA != signF64(b)) return signA && !(zerosEqual && ((a | b) & ~F64_SIGN) == 0);
  return a != b && (signA != (a < b));
}

@inline function lessF32(a: u32, b: u32, zerosEqual: bool): bool {
  const signA = signF32(a);
  if (signA != signF32(b)) return signA && !(zerosEqual && ((a | b) & ~F32_SIGN) == 0);
  return a != b && (signA != (a < b));
}

// ---- binary64 ----

export function f64_eq(a: u64, b: u64): u32 {
  if (isNaNF64(a) || isNaNF64(b)) {
    if (isSignalingNaNF64(a) || isSignalingNaNF64(b)) raise(FLAG_NV);
    return 0;
  }
  return <u32>(a == b || ((a | b) & ~F64_SIGN) == 0);
}

export function f64_lt(a: u64, b: u64): u32 {
  if (isNaNF64(a) || isNaNF64(b)) {
    raise(FLAG_NV);
    return 0;
  }
  return <u32>lessF64(a, b, true);
}

export function f64_le(a: u64, b: u64): u32 {
  if (isNaNF64(a) || isNaNF64(b)) {
    raise(FLAG_NV);
    return 0;
  }
  return <u32>!lessF64(b, a, true);
}

export function f64_min(a: u64, b: u64): u64 {
  const nanA = isNaNF64(a);
  const nanB = isNaNF64(b);
  if (nanA || nanB) {
    if (isSignalingNaNF64(a) || isSignalingNaNF64(b)) raise(FLAG_NV);
    if (nanA && nanB) return F64_DEFAULT_NAN;
    return nanA ? b : a;
  }
  return lessF64(b, a, false) ? b : a;
}

export function f64_max(a: u64, b: u64): u64 {
  const nanA = isNaNF64(a);
  const nanB = isNaNF64(b);
  if (nanA || nanB) {
    if (isSignalingNaNF64(a) || isSignalingNaNF64(b)) raise(FLAG_NV);
    if (nanA && nanB) return F64_DEFAULT_NAN;
    return nanA ? b : a;
  }
  return lessF64(a, b, false) ? b : a;
}

/** The FCLASS mask: bit 0 -inf, 1 negative normal, 2 negative subnormal, 3 -0, 4 +0, 5 positive
 * subnormal, 6 positive normal, 7 +inf, 8 signaling NaN, 9 quiet NaN. */
@inline function classMask(sign: bool, isInf: bool, isZero: bool, isSubnormal: bool, isNaN: bool, quiet: bool): u32 {
  if (isNaN) return quiet ? 1 << 9 : 1 << 8;
  let bit: u32;
  if (isInf) bit = 7;
  else if (isZero) bit = 4;
  else if (isSubnormal) bit = 5;
  else bit = 6;
  return sign ? 1 << (7 - bit) : 1 << bit;
}

export function f64_classify(a: u64): u32 {
  const exp = expF64(a);
  const frac = fracF64(a);
  return classMask(
    signF64(a), exp == 0x7ff && frac == 0, exp == 0 && frac == 0, exp == 0 && frac != 0,
    exp == 0x7ff && frac != 0, (frac >> 51) != 0,
  );
}

// ---- binary32 ----

export function f32_eq(a: u32, b: u32): u32 {
  if (isNaNF32(a) || isNaNF32(b)) {
    if (isSignalingNaNF32(a) || isSignalingNaNF32(b)) raise(FLAG_NV);
    return 0;
  }
  return <u32>(a == b || ((a | b) & ~F32_SIGN) == 0);
}

export function f32_lt(a: u32, b: u32): u32 {
  if (isNaNF32(a) || isNaNF32(b)) {
    raise(FLAG_NV);
    return 0;
  }
  return <u32>lessF32(a, b, true);
}

export function f32_le(a: u32, b: u32): u32 {
  if (isNaNF32(a) || isNaNF32(b)) {
    raise(FLAG_NV);
    return 0;
  }
  return <u32>!lessF32(b, a, true);
}

export function f32_min(a: u32, b: u32): u32 {
  const nanA = isNaNF32(a);
  const nanB = isNaNF32(b);
  if (nanA || nanB) {
    if (isSignalingNaNF32(a) || isSignalingNaNF32(b)) raise(FLAG_NV);
    if (nanA && nanB) return F32_DEFAULT_NAN;
    return nanA ? b : a;
  }
  return lessF32(b, a, false) ? b : a;
}

export function f32_max(a: u32, b: u32): u32 {
  const nanA = isNaNF32(a);
  const nanB = isNaNF32(b);
  if (nanA || nanB) {
    if (isSignalingNaNF32(a) || isSignalingNaNF32(b)) raise(FLAG_NV);
    if (nanA && nanB) return F32_DEFAULT_NAN;
    return nanA ? b : a;
  }
  return lessF32(a, b, false) ? b : a;
}

export function f32_classify(a: u32): u32 {
  const exp = expF32(a);
  const frac = fracF32(a);
  return classMask(
    signF32(a), exp == 0xff && frac == 0, exp == 0 && frac == 0, exp == 0 && frac != 0,
    exp == 0xff && frac != 0, (frac >> 22) != 0,
  );
}
