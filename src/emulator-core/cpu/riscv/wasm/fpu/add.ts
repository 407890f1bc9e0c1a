// Addition and subtraction (IEEE 754-2019 5.4.1). Both operands are aligned to the larger
// exponent with the smaller one's shifted-out bits kept as a sticky bit; with at least two spare
// bits below the rounding position this gives the correctly rounded result, and when the
// exponents differ by at most one (the only case with massive cancellation) nothing is lost.
import { shiftRightJam64 } from './bits';
import { FLAG_NV, exactZeroSignIsNegative, raise } from './flags';
import {
  F32_DEFAULT_NAN, F32_SIGN, F64_DEFAULT_NAN, F64_HIDDEN, F64_SIGN, expF32, expF64, fracF32, fracF64,
  isInfF32, isInfF64, isNaNF32, isNaNF64, isSignalingNaNF32, isSignalingNaNF64, normRoundPackF32Wide,
  normRoundPackF64, signF32, signF64,
} from './pack';

/** NaN and infinity operands (at least one operand has the maximum exponent). */
function addSpecialF64(a: u64, b: u64): u64 {
  if (isNaNF64(a) || isNaNF64(b)) {
    if (isSignalingNaNF64(a) || isSignalingNaNF64(b)) raise(FLAG_NV);
    return F64_DEFAULT_NAN;
  }
  if (isInfF64(a) && isInfF64(b) && a != b) {
    raise(FLAG_NV); // inf - inf
    return F64_DEFAULT_NAN;
  }
  return isInfF64(a) ? a : b;
}

export function f64_add(a: u64, b: u64, rm: u32): u64 {
  let expA = expF64(a);
  let expB = expF64(b);
  if (expA == 0x7ff || expB == 0x7ff) return addSpecialF64(a, b);
  let sign = signF64(a);
  const subtract = sign != signF64(b);
  // Significands with the leading 1 at bit 61 (subnormals: exponent 1, no hidden bit); the 9
  // bits below are guard bits and bit 62 takes a carry. value = sig * 2^(exp - 1084).
  let sigA = (expA == 0 ? fracF64(a) : fracF64(a) | F64_HIDDEN) << 9;
  let sigB = (expB == 0 ? fracF64(b) : fracF64(b) | F64_HIDDEN) << 9;
  if (expA == 0) expA = 1;
  if (expB == 0) expB = 1;
  if (expA < expB || (expA == expB && sigA < sigB)) {
    // Make A the larger magnitude; for a subtraction the result takes B's sign.
    const e = expA;
    expA = expB;
    expB = e;
    const s = sigA;
    sigA = sigB;
    sigB = s;
    if (subtract) sign = !sign;
  }
  sigB = shiftRightJam64(sigB, <u32>(expA - expB));
  let sig: u64;
  if (subtract) {
    sig = sigA - sigB;
    if (sig == 0) return exactZeroSignIsNegative(rm) ? F64_SIGN : 0;
  } else {
    sig = sigA + sigB;
    if (sig == 0) return a; // +0 + +0 or -0 + -0
  }
  return normRoundPackF64(sign, expA, sig, rm);
}

export function f64_sub(a: u64, b: u64, rm: u32): u64 {
  // Flipping b's sign never changes whether it is a (signaling) NaN.
  return f64_add(a, b ^ F64_SIGN, rm);
}

function addSpecialF32(a: u32, b: u32): u32 {
  if (isNaNF32(a) || isNaNF32(b)) {
    if (isSignalingNaNF32(a) || isSignalingNaNF32(b)) raise(FLAG_NV);
    return F32_DEFAULT_NAN;
  }
  if (isInfF32(a) && isInfF32(b) && a != b) {
    raise(FLAG_NV);
    return F32_DEFAULT_NAN;
  }
  return isInfF32(a) ? a : b;
}

export function f32_add(a: u32, b: u32, rm: u32): u32 {
  let expA = expF32(a);
  let expB = expF32(b);
  if (expA == 0xff || expB == 0xff) return addSpecialF32(a, b);
  let sign = signF32(a);
  const subtract = sign != signF32(b);
  // Wide significands: leading 1 at bit 61, value = sig * 2^(exp - 188).
  let sigA = <u64>(expA == 0 ? fracF32(a) : fracF32(a) | 0x800000) << 38;
  let sigB = <u64>(expB == 0 ? fracF32(b) : fracF32(b) | 0x800000) << 38;
  if (expA == 0) expA = 1;
  if (expB == 0) expB = 1;
  if (expA < expB || (expA == expB && sigA < sigB)) {
    const e = expA;
    expA = expB;
    expB = e;
    const s = sigA;
    sigA = sigB;
    sigB = s;
    if (subtract) sign = !sign;
  }
  sigB = shiftRightJam64(sigB, <u32>(expA - expB));
  let sig: u64;
  if (subtract) {
    sig = sigA - sigB;
    if (sig == 0) return exactZeroSignIsNegative(rm) ? F32_SIGN : 0;
  } else {
    sig = sigA + sigB;
    if (sig == 0) return a;
  }
  return normRoundPackF32Wide(sign, expA, sig, rm);
}

export function f32_sub(a: u32, b: u32, rm: u32): u32 {
  return f32_add(a, b ^ F32_SIGN, rm);
}
