// Conversions between binary32, binary64 and 32/64-bit integers (RISC-V FCVT.*).
//
// Float -> integer follows the F extension's table ("Single-Precision Floating-Point Conversion
// and Move Instructions"): the value is rounded to an integer in `rm`; out of range (after
// rounding), infinite or NaN raises NV (and not NX) and gives the nearest representable bound,
// with NaN giving the largest value. An in-range inexact result raises NX.
import { shiftRightJam64 } from './bits';
import { FLAG_NV, FLAG_NX, RM_RDN, RM_RMM, RM_RNE, RM_RUP, raise } from './flags';
import {
  F32_DEFAULT_NAN, F64_DEFAULT_NAN, expF32, expF64, fracF32, fracF64, isNaNF32, isNaNF64, isSignalingNaNF32,
  isSignalingNaNF64, normRoundPackF32Wide, normRoundPackF64, packF32, packF64, roundPackF64, signF32, signF64,
  unpackF32, unpackF64, unpackedExp, unpackedSig,
} from './pack';

// ---- float -> integer ----

/** Set by roundToIntegerMagnitude: the magnitude does not fit in 64 bits. */
let magnitudeTooLarge: bool = false;
/** Set by roundToIntegerMagnitude: the rounded magnitude differs from the value. */
let magnitudeInexact: bool = false;

/**
 * |sig * 2^t| rounded to an integer in `rm` (the sign matters for the directed modes), for
 * sig < 2^53. Flags are left to the caller, which knows the target range.
 */
function roundToIntegerMagnitude(sign: bool, sig: u64, t: i32, rm: u32): u64 {
  magnitudeTooLarge = false;
  magnitudeInexact = false;
  if (sig == 0) return 0;
  if (t >= 0) {
    if (t > <i32>clz(sig)) {
      magnitudeTooLarge = true;
      return 0;
    }
    return sig << <u64>t;
  }
  // 11 fraction bits (the half at 0x400) plus sticky below them.
  const scaled = shiftRightJam64(sig << 11, <u32>-t);
  let int = scaled >> 11;
  const frac = scaled & 0x7ff;
  if (frac == 0) return int;
  magnitudeInexact = true;
  let up = false;
  if (rm == RM_RNE) up = frac > 0x400 || (frac == 0x400 && (int & 1) != 0);
  else if (rm == RM_RMM) up = frac >= 0x400;
  else if (rm == RM_RDN) up = sign;
  else if (rm == RM_RUP) up = !sign;
  return int + <u64>up;
}

// Decoded operand shared by the eight float -> integer conversions (NaN, sign, sig * 2^t).
let operandIsNaN: bool = false;
let operandSign: bool = false;
let operandSig: u64 = 0;
let operandT: i32 = 0;

@inline function decodeF32(a: u32): void {
  operandIsNaN = isNaNF32(a);
  operandSign = signF32(a);
  const exp = expF32(a);
  if (exp == 0xff) {
    operandSig = 1; // infinity: any huge magnitude
    operandT = 1000;
  } else if (exp == 0 && fracF32(a) == 0) {
    operandSig = 0;
    operandT = 0;
  } else {
    unpackF32(a);
    operandSig = unpackedSig;
    operandT = unpackedExp - 150;
  }
}

@inline function decodeF64(a: u64): void {
  operandIsNaN = isNaNF64(a);
  operandSign = signF64(a);
  const exp = expF64(a);
  if (exp == 0x7ff) {
    operandSig = 1;
    operandT = 1000;
  } else if (exp == 0 && fracF64(a) == 0) {
    operandSig = 0;
    operandT = 0;
  } else {
    unpackF64(a);
    operandSig = unpackedSig;
    operandT = unpackedExp - 1075;
  }
}

/** The decoded operand to a signed integer whose largest value is maxPositive. */
function operandToSigned(rm: u32, maxPositive: u64): i64 {
  if (operandIsNaN) {
    raise(FLAG_NV);
    return <i64>maxPositive;
  }
  const mag = roundToIntegerMagnitude(operandSign, operandSig, operandT, rm);
  // The most negative value has magnitude maxPositive + 1.
  if (magnitudeTooLarge || mag > maxPositive + <u64>operandSign) {
    raise(FLAG_NV);
    return operandSign ? -<i64>maxPositive - 1 : <i64>maxPositive;
  }
  if (magnitudeInexact) raise(FLAG_NX);
  return operandSign ? -<i64>mag : <i64>mag;
}

/** The decoded operand to an unsigned integer whose largest value is max. */
function operandToUnsigned(rm: u32, max: u64): u64 {
  if (operandIsNaN) {
    raise(FLAG_NV);
    return max;
  }
  const mag = roundToIntegerMagnitude(operandSign, operandSig, operandT, rm);
  // A negative value is in range only if it rounds to zero (e.g. -0.3 in RTZ: 0 with NX).
  if (operandSign ? magnitudeTooLarge || mag != 0 : magnitudeTooLarge || mag > max) {
    raise(FLAG_NV);
    return operandSign ? 0 : max;
  }
  if (magnitudeInexact) raise(FLAG_NX);
  return mag;
}

export function f32_to_i32(a: u32, rm: u32): i32 {
  decodeF32(a);
  return <i32>operandToSigned(rm, 0x7fffffff);
}
export function f32_to_u32(a: u32, rm: u32): u32 {
  decodeF32(a);
  return <u32>operandToUnsigned(rm, 0xffffffff);
}
export function f32_to_i64(a: u32, rm: u32): i64 {
  decodeF32(a);
  return operandToSigned(rm, 0x7fffffffffffffff);
}
export function f32_to_u64(a: u32, rm: u32): u64 {
  decodeF32(a);
  return operandToUnsigned(rm, 0xffffffffffffffff);
}
export function f64_to_i32(a: u64, rm: u32): i32 {
  decodeF64(a);
  return <i32>operandToSigned(rm, 0x7fffffff);
}
export function f64_to_u32(a: u64, rm: u32): u32 {
  decodeF64(a);
  return <u32>operandToUnsigned(rm, 0xffffffff);
}
export function f64_to_i64(a: u64, rm: u32): i64 {
  decodeF64(a);
  return operandToSigned(rm, 0x7fffffffffffffff);
}
export function f64_to_u64(a: u64, rm: u32): u64 {
  decodeF64(a);
  return operandToUnsigned(rm, 0xffffffffffffffff);
}

// ---- integer -> float ----

/** sign * mag (any u64) rounded to binary64. */
function magnitudeToF64(sign: bool, mag: u64, rm: u32): u64 {
  if (mag == 0) return 0; // integer zero converts to +0
  // value = mag * 2^0 = sig * 2^(exp - 1084)
  if (mag >> 63) return roundPackF64(sign, 1085, shiftRightJam64(mag, 1), rm);
  return normRoundPackF64(sign, 1084, mag, rm);
}

/** sign * mag (any u64) rounded to binary32. */
function magnitudeToF32(sign: bool, mag: u64, rm: u32): u32 {
  if (mag == 0) return 0;
  return normRoundPackF32Wide(sign, 188, mag, rm); // value = mag * 2^(188 - 188)
}

@inline function absI64(a: i64): u64 {
  return a < 0 ? <u64>0 - <u64>a : <u64>a; // also right for the most negative value
}

export function i32_to_f32(a: i32, rm: u32): u32 {
  return magnitudeToF32(a < 0, absI64(<i64>a), rm);
}
export function u32_to_f32(a: u32, rm: u32): u32 {
  return magnitudeToF32(false, <u64>a, rm);
}
export function i64_to_f32(a: i64, rm: u32): u32 {
  return magnitudeToF32(a < 0, absI64(a), rm);
}
export function u64_to_f32(a: u64, rm: u32): u32 {
  return magnitudeToF32(false, a, rm);
}
export function i32_to_f64(a: i32, rm: u32): u64 {
  return magnitudeToF64(a < 0, absI64(<i64>a), rm); // always exact
}
export function u32_to_f64(a: u32, rm: u32): u64 {
  return magnitudeToF64(false, <u64>a, rm);
}
export function i64_to_f64(a: i64, rm: u32): u64 {
  return magnitudeToF64(a < 0, absI64(a), rm);
}
export function u64_to_f64(a: u64, rm: u32): u64 {
  return magnitudeToF64(false, a, rm);
}

// ---- between formats ----

/** binary32 -> binary64: always exact; a NaN becomes the canonical NaN (NV if signaling). */
export function f32_to_f64(a: u32): u64 {
  const sign = signF32(a);
  const exp = expF32(a);
  if (exp == 0xff) {
    if (fracF32(a) == 0) return packF64(sign, 0x7ff, 0);
    if (isSignalingNaNF32(a)) raise(FLAG_NV);
    return F64_DEFAULT_NAN;
  }
  if (exp == 0 && fracF32(a) == 0) return packF64(sign, 0, 0);
  unpackF32(a);
  // The leading 1 at bit 23 becomes the hidden bit 52; the exponent is rebiased (127 -> 1023).
  return packF64(sign, unpackedExp + 896, (unpackedSig << 29) & 0x000fffffffffffff);
}

/** binary64 -> binary32, rounded in rm. */
export function f64_to_f32(a: u64, rm: u32): u32 {
  const sign = signF64(a);
  const exp = expF64(a);
  if (exp == 0x7ff) {
    if (fracF64(a) == 0) return packF32(sign, 0xff, 0);
    if (isSignalingNaNF64(a)) raise(FLAG_NV);
    return F32_DEFAULT_NAN;
  }
  if (exp == 0 && fracF64(a) == 0) return packF32(sign, 0, 0);
  unpackF64(a);
  // value = sig * 2^(exp - 1075) = sig * 2^(exp' - 188)
  return normRoundPackF32Wide(sign, unpackedExp - 887, unpackedSig, rm);
}
