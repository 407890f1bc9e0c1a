// Fused multiply-add a*b + c with a single rounding (IEEE 754-2019 5.4.1 fusedMultiplyAdd).
// The product is exact (106 bits for binary64, in 128-bit integers; 48 bits for binary32, in a
// u64); it and c are aligned as in addition, with at least two spare bits below the final
// rounding position, then rounded once.
//
// RISC-V (like Berkeley SoftFloat and QEMU) raises NV for inf * 0 even when c is a quiet NaN;
// IEEE 754 leaves that case to the implementation.
import {
  add128, clz128, lo128, lt128, mul64To128, shiftLeft128, shiftRightJam128, shiftRightJam64, sub128,
} from './bits';
import { FLAG_NV, exactZeroSignIsNegative, raise } from './flags';
import {
  F32_DEFAULT_NAN, F64_DEFAULT_NAN, isInfF32, isInfF64, isNaNF32, isNaNF64,
  isSignalingNaNF32, isSignalingNaNF64, isZeroF32, isZeroF64, normRoundPackF32Wide, packF32, packF64,
  roundPackF64, signF32, signF64, unpackF32, unpackF64, unpackedExp, unpackedSig,
} from './pack';

export function f64_fma(a: u64, b: u64, c: u64, rm: u32): u64 {
  const signP = signF64(a) != signF64(b);
  const signC = signF64(c);
  const infTimesZero = (isInfF64(a) && isZeroF64(b)) || (isZeroF64(a) && isInfF64(b));
  if (isNaNF64(a) || isNaNF64(b) || isNaNF64(c)) {
    if (isSignalingNaNF64(a) || isSignalingNaNF64(b) || isSignalingNaNF64(c) || infTimesZero) raise(FLAG_NV);
    return F64_DEFAULT_NAN;
  }
  if (infTimesZero) {
    raise(FLAG_NV);
    return F64_DEFAULT_NAN;
  }
  if (isInfF64(a) || isInfF64(b)) {
    if (isInfF64(c) && signC != signP) {
      raise(FLAG_NV); // inf - inf
      return F64_DEFAULT_NAN;
    }
    return packF64(signP, 0x7ff, 0);
  }
  if (isInfF64(c)) return c;
  if (isZeroF64(a) || isZeroF64(b)) {
    if (!isZeroF64(c)) return c;
    // A zero sum: its sign as in addition.
    if (signP == signC) return c;
    return exactZeroSignIsNegative(rm) ? packF64(true, 0, 0) : 0;
  }

  // The exact product, normalized to a leading 1 at bit 125: value = P * 2^expP.
  unpackF64(a);
  const expA = unpackedExp;
  const sigA = unpackedSig;
  unpackF64(b);
  let pHi = mul64To128(sigA, unpackedSig);
  let pLo = lo128;
  const pShift = clz128(pHi, pLo) - 2;
  pHi = shiftLeft128(pHi, pLo, pShift);
  pLo = lo128;
  let expP = expA + unpackedExp - 2150 - <i32>pShift;

  if (isZeroF64(c)) {
    // x * y + 0 is the product itself (never an exact zero): round it alone. pHi has its
    // leading 1 at bit 61: value = (pHi << 1) * 2^(expP + 63) = sig * 2^(exp - 1084).
    return roundPackF64(signP, expP + 63 + 1084, (pHi << 1) | <u64>(pLo != 0), rm);
  }

  // c, also with its leading 1 at bit 125: value = C * 2^expC.
  unpackF64(c);
  let cHi = unpackedSig << 9;
  let cLo: u64 = 0;
  let expC = unpackedExp - 1075 - 73;

  // Align the smaller exponent to the larger one (sticky shift).
  let exp: i32;
  if (expP >= expC) {
    cHi = shiftRightJam128(cHi, cLo, <u32>(expP - expC));
    cLo = lo128;
    exp = expP;
  } else {
    pHi = shiftRightJam128(pHi, pLo, <u32>(expC - expP));
    pLo = lo128;
    exp = expC;
  }

  let sign = signP;
  let rHi: u64;
  let rLo: u64;
  if (signP == signC) {
    rHi = add128(pHi, pLo, cHi, cLo);
    rLo = lo128;
  } else {
    if (lt128(pHi, pLo, cHi, cLo)) {
      sign = signC;
      rHi = sub128(cHi, cLo, pHi, pLo);
    } else {
      rHi = sub128(pHi, pLo, cHi, cLo);
    }
    rLo = lo128;
    if ((rHi | rLo) == 0) return exactZeroSignIsNegative(rm) ? packF64(true, 0, 0) : 0;
  }
  // Normalize to a leading 1 at bit 126 (the sum of two values below 2^126 is below 2^127),
  // keep the high half (leading 1 at bit 62) with the low half as sticky.
  const shift = clz128(rHi, rLo) - 1;
  rHi = shiftLeft128(rHi, rLo, shift);
  rLo = lo128;
  exp -= <i32>shift;
  // value = rHi * 2^(exp + 64) = sig * 2^(exp' - 1084)
  return roundPackF64(sign, exp + 64 + 1084, rHi | <u64>(rLo != 0), rm);
}

export function f32_fma(a: u32, b: u32, c: u32, rm: u32): u32 {
  const signP = signF32(a) != signF32(b);
  const signC = signF32(c);
  const infTimesZero = (isInfF32(a) && isZeroF32(b)) || (isZeroF32(a) && isInfF32(b));
  if (isNaNF32(a) || isNaNF32(b) || isNaNF32(c)) {
    if (isSignalingNaNF32(a) || isSignalingNaNF32(b) || isSignalingNaNF32(c) || infTimesZero) raise(FLAG_NV);
    return F32_DEFAULT_NAN;
  }
  if (infTimesZero) {
    raise(FLAG_NV);
    return F32_DEFAULT_NAN;
  }
  if (isInfF32(a) || isInfF32(b)) {
    if (isInfF32(c) && signC != signP) {
      raise(FLAG_NV);
      return F32_DEFAULT_NAN;
    }
    return packF32(signP, 0xff, 0);
  }
  if (isInfF32(c)) return c;
  if (isZeroF32(a) || isZeroF32(b)) {
    if (!isZeroF32(c)) return c;
    if (signP == signC) return c;
    return exactZeroSignIsNegative(rm) ? packF32(true, 0, 0) : 0;
  }
  if (isZeroF32(c)) {
    // x * y + 0 is the product itself, rounded alone.
    unpackF32(a);
    const expA = unpackedExp;
    const sigA = unpackedSig;
    unpackF32(b);
    return normRoundPackF32Wide(signP, expA + unpackedExp - 112, sigA * unpackedSig, rm);
  }
  // Product (exact, < 2^48) and c, both with the leading 1 at bit 61: value = X * 2^(exp - 188).
  unpackF32(a);
  const expA = unpackedExp;
  const sigA = unpackedSig;
  unpackF32(b);
  let p = sigA * unpackedSig;
  const pShift = <i32>clz(p) - 2;
  p <<= <u64>pShift;
  let expP = expA + unpackedExp - 112 - pShift;
  unpackF32(c);
  let cs = unpackedSig << 38;
  let expC = unpackedExp;
  let exp: i32;
  if (expP >= expC) {
    cs = shiftRightJam64(cs, <u32>(expP - expC));
    exp = expP;
  } else {
    p = shiftRightJam64(p, <u32>(expC - expP));
    exp = expC;
  }
  let sign = signP;
  let sig: u64;
  if (signP == signC) {
    sig = p + cs;
  } else if (p >= cs) {
    sig = p - cs;
  } else {
    sign = signC;
    sig = cs - p;
  }
  if (sig == 0) return exactZeroSignIsNegative(rm) ? packF32(true, 0, 0) : 0;
  return normRoundPackF32Wide(sign, exp, sig, rm);
}
