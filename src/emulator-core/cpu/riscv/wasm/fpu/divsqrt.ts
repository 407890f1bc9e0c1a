// Division and square root (IEEE 754-2019 5.4.1). Both produce a truncated quotient/root with a
// few bits beyond the kept precision plus a sticky bit from the exact remainder, computed in
// integers; the result is then rounded once.
import { lo128, mul64To128 } from './bits';
import { FLAG_DZ, FLAG_NV, raise } from './flags';
import {
  F32_DEFAULT_NAN, F64_DEFAULT_NAN, expF32, expF64, isNaNF32, isNaNF64, isSignalingNaNF32, isSignalingNaNF64,
  isZeroF32, isZeroF64, normRoundPackF32Wide, packF32, packF64, roundPackF64, signF32, signF64, unpackF32,
  unpackF64, unpackedExp, unpackedSig,
} from './pack';

// ---- division ----

export function f64_div(a: u64, b: u64, rm: u32): u64 {
  const sign = signF64(a) != signF64(b);
  if (isNaNF64(a) || isNaNF64(b)) {
    if (isSignalingNaNF64(a) || isSignalingNaNF64(b)) raise(FLAG_NV);
    return F64_DEFAULT_NAN;
  }
  const infA = expF64(a) == 0x7ff;
  const infB = expF64(b) == 0x7ff;
  if (infA) {
    if (infB) {
      raise(FLAG_NV); // inf / inf
      return F64_DEFAULT_NAN;
    }
    return packF64(sign, 0x7ff, 0);
  }
  if (infB) return packF64(sign, 0, 0);
  if (isZeroF64(b)) {
    if (isZeroF64(a)) {
      raise(FLAG_NV); // 0 / 0
      return F64_DEFAULT_NAN;
    }
    raise(FLAG_DZ);
    return packF64(sign, 0x7ff, 0);
  }
  if (isZeroF64(a)) return packF64(sign, 0, 0);
  unpackF64(a);
  const expA = unpackedExp;
  let sigA = unpackedSig;
  unpackF64(b);
  const sigB = unpackedSig;
  let exp = expA - unpackedExp + 0x3fe;
  if (sigA < sigB) {
    exp -= 1;
    sigA <<= 1; // now sigB <= sigA < 2 * sigB: the quotient is in [1, 2)
  }
  // Long division, 11 quotient bits per step: the remainder stays below sigB < 2^53, so
  // remainder << 11 fits in 64 bits. 1 + 5 * 11 = 56 quotient bits: 53 kept, a round bit and
  // two more, and the final remainder decides the sticky bit.
  let q: u64 = 1;
  let r = sigA - sigB;
  for (let i = 0; i < 5; i++) {
    r <<= 11;
    const d = r / sigB;
    r -= d * sigB;
    q = (q << 11) | d;
  }
  return roundPackF64(sign, exp, (q << 7) | <u64>(r != 0), rm);
}

export function f32_div(a: u32, b: u32, rm: u32): u32 {
  const sign = signF32(a) != signF32(b);
  if (isNaNF32(a) || isNaNF32(b)) {
    if (isSignalingNaNF32(a) || isSignalingNaNF32(b)) raise(FLAG_NV);
    return F32_DEFAULT_NAN;
  }
  const infA = expF32(a) == 0xff;
  const infB = expF32(b) == 0xff;
  if (infA) {
    if (infB) {
      raise(FLAG_NV);
      return F32_DEFAULT_NAN;
    }
    return packF32(sign, 0xff, 0);
  }
  if (infB) return packF32(sign, 0, 0);
  if (isZeroF32(b)) {
    if (isZeroF32(a)) {
      raise(FLAG_NV);
      return F32_DEFAULT_NAN;
    }
    raise(FLAG_DZ);
    return packF32(sign, 0xff, 0);
  }
  if (isZeroF32(a)) return packF32(sign, 0, 0);
  unpackF32(a);
  const expA = unpackedExp;
  const sigA = unpackedSig;
  unpackF32(b);
  const sigB = unpackedSig;
  // One 64-bit division gives 40 quotient bits (24 kept): value = q * 2^(expA - expB - 40).
  const n = sigA << 40;
  const q = n / sigB;
  const sticky = <u64>(n - q * sigB != 0);
  return normRoundPackF32Wide(sign, expA - unpackedExp + 148, q | sticky, rm);
}

// ---- square root ----

/**
 * floor(sqrt(hi:lo)) for a radicand below 2^110. The f64 square root only supplies a first
 * guess (within a few units); the integer comparisons below make the result exact.
 */
function isqrt128(hi: u64, lo: u64, guess: u64): u64 {
  let r = guess;
  // One Newton step on the residual: the guess is within 5 of the root (a correctly rounded
  // f64 root scaled to 55 bits), so n - r^2 is below 2^60 in magnitude and its low 64 bits,
  // read as signed, are the exact residual. This leaves r within 1 of the root.
  mul64To128(r, r);
  r += <u64>(<i64>(lo - lo128) / <i64>(r << 1));
  // Step down while r^2 > n, then up while (r + 1)^2 <= n.
  for (;;) {
    const sqHi = mul64To128(r, r);
    if (sqHi > hi || (sqHi == hi && lo128 > lo)) r--;
    else break;
  }
  for (;;) {
    const sqHi = mul64To128(r + 1, r + 1);
    if (sqHi < hi || (sqHi == hi && lo128 <= lo)) r++;
    else break;
  }
  return r;
}

/** Whether r^2 == hi:lo (the square root was exact). */
function isSquare128(hi: u64, lo: u64, r: u64): bool {
  const sqHi = mul64To128(r, r);
  return sqHi == hi && lo128 == lo;
}

export function f64_sqrt(a: u64, rm: u32): u64 {
  if (isNaNF64(a)) {
    if (isSignalingNaNF64(a)) raise(FLAG_NV);
    return F64_DEFAULT_NAN;
  }
  if (isZeroF64(a)) return a; // sqrt(-0) = -0
  if (signF64(a)) {
    raise(FLAG_NV); // negative, including -inf
    return F64_DEFAULT_NAN;
  }
  if (expF64(a) == 0x7ff) return a;
  unpackF64(a);
  // a = sig * 2^t with t = exp - 1075. Make t even (sig then has 53 or 54 bits) and take the
  // root of N = sig << 56, in [2^108, 2^110): R = floor(sqrt(N)) has 55 bits, 53 kept + a round
  // bit + one more, and N != R^2 is the sticky bit. sqrt(a) = R * 2^((t - 56) / 2).
  let t = unpackedExp - 1075;
  let sig = unpackedSig;
  if (t & 1) {
    sig <<= 1;
    t -= 1;
  }
  const nHi = sig >> 8;
  const nLo = sig << 56;
  const guess = <u64>(Math.sqrt(<f64>sig) * 268435456.0); // sqrt(sig) * 2^28
  const root = isqrt128(nHi, nLo, guess);
  const sticky = <u64>!isSquare128(nHi, nLo, root);
  // value = (root << 8) * 2^((t - 56) / 2 - 8) = sig' * 2^(exp - 1084); the root's leading 1 is at bit 54.
  return roundPackF64(false, (t - 56) / 2 - 8 + 1084, (root << 8) | sticky, rm);
}

export function f32_sqrt(a: u32, rm: u32): u32 {
  if (isNaNF32(a)) {
    if (isSignalingNaNF32(a)) raise(FLAG_NV);
    return F32_DEFAULT_NAN;
  }
  if (isZeroF32(a)) return a;
  if (signF32(a)) {
    raise(FLAG_NV);
    return F32_DEFAULT_NAN;
  }
  if (expF32(a) == 0xff) return a;
  unpackF32(a);
  // a = sig * 2^t, t = exp - 150, made even; N = sig << 28 < 2^53 and R = floor(sqrt(N)) has
  // 26 or 27 bits (24 kept + 2 or 3 more). sqrt(a) = R * 2^((t - 28) / 2).
  let t = unpackedExp - 150;
  let sig = unpackedSig;
  if (t & 1) {
    sig <<= 1;
    t -= 1;
  }
  const n = sig << 28;
  let r = <u64>Math.sqrt(<f64>n); // n < 2^53 is exact as f64; its rounded root is within one unit
  while (r * r > n) r--;
  while ((r + 1) * (r + 1) <= n) r++;
  const sticky = <u64>(r * r != n);
  // value = (r | sticky) * 2^((t - 28) / 2) = sig' * 2^(exp - 188).
  return normRoundPackF32Wide(false, (t - 28) / 2 + 188, r | sticky, rm);
}
