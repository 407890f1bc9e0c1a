// Multiplication (IEEE 754-2019 5.4.1): the exact product of the significands (106 bits for
// binary64, from a 64x64 -> 128 multiply; 48 bits for binary32) rounded once.
import { lo128, mul64To128 } from './bits';
import { FLAG_NV, raise } from './flags';
import {
  F32_DEFAULT_NAN, F64_DEFAULT_NAN, expF32, expF64, isNaNF32, isNaNF64, isSignalingNaNF32, isSignalingNaNF64,
  isZeroF32, isZeroF64, normRoundPackF32Wide, packF32, packF64, roundPackF64, signF32, signF64, unpackF32,
  unpackF64, unpackedExp, unpackedSig,
} from './pack';

/** Whether the last mulSpecial* call handled its operands (a NaN, infinite or zero one). */
let specialHandled: bool = false;

/** NaN, infinity and zero operands of a binary64 product. */
function mulSpecialF64(a: u64, b: u64, sign: bool): u64 {
  specialHandled = true;
  if (isNaNF64(a) || isNaNF64(b)) {
    if (isSignalingNaNF64(a) || isSignalingNaNF64(b)) raise(FLAG_NV);
    return F64_DEFAULT_NAN;
  }
  const infA = expF64(a) == 0x7ff;
  const infB = expF64(b) == 0x7ff;
  if (infA || infB) {
    if (isZeroF64(a) || isZeroF64(b)) {
      raise(FLAG_NV); // 0 * inf
      return F64_DEFAULT_NAN;
    }
    return packF64(sign, 0x7ff, 0);
  }
  if (isZeroF64(a) || isZeroF64(b)) return packF64(sign, 0, 0);
  specialHandled = false;
  return 0;
}

export function f64_mul(a: u64, b: u64, rm: u32): u64 {
  const sign = signF64(a) != signF64(b);
  const special = mulSpecialF64(a, b, sign);
  if (specialHandled) return special;
  unpackF64(a);
  const expA = unpackedExp;
  const sigA = unpackedSig;
  unpackF64(b);
  const expB = unpackedExp;
  const sigB = unpackedSig;
  // sigA << 10 and sigB << 11 put the product's leading 1 at bit 125 or 126, so the high half
  // has it at bit 61 or 62; the low half only matters as sticky.
  let exp = expA + expB - 0x3ff;
  let sig = mul64To128(sigA << 10, sigB << 11);
  sig |= <u64>(lo128 != 0);
  if (sig < 0x4000000000000000) {
    exp -= 1;
    sig <<= 1;
  }
  return roundPackF64(sign, exp, sig, rm);
}

function mulSpecialF32(a: u32, b: u32, sign: bool): u32 {
  specialHandled = true;
  if (isNaNF32(a) || isNaNF32(b)) {
    if (isSignalingNaNF32(a) || isSignalingNaNF32(b)) raise(FLAG_NV);
    return F32_DEFAULT_NAN;
  }
  const infA = expF32(a) == 0xff;
  const infB = expF32(b) == 0xff;
  if (infA || infB) {
    if (isZeroF32(a) || isZeroF32(b)) {
      raise(FLAG_NV);
      return F32_DEFAULT_NAN;
    }
    return packF32(sign, 0xff, 0);
  }
  if (isZeroF32(a) || isZeroF32(b)) return packF32(sign, 0, 0);
  specialHandled = false;
  return 0;
}

export function f32_mul(a: u32, b: u32, rm: u32): u32 {
  const sign = signF32(a) != signF32(b);
  const special = mulSpecialF32(a, b, sign);
  if (specialHandled) return special;
  unpackF32(a);
  const expA = unpackedExp;
  const sigA = unpackedSig;
  unpackF32(b);
  // Exact 48-bit product; value = sigA*sigB * 2^(expA + expB - 300) = sig * 2^(exp - 188).
  return normRoundPackF32Wide(sign, expA + unpackedExp - 112, sigA * unpackedSig, rm);
}
