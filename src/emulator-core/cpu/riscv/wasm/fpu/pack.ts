// Fields of binary32/binary64 bit patterns, and the one rounding step every operation ends in.
//
// Convention (as in Berkeley SoftFloat, the RISC-V reference model): an operation computes its
// exact result, or a truncation of it with a sticky bit, as an integer significand `sig` and an
// exponent `exp`, and roundPack rounds it once, in the requested mode, raising OF/UF/NX.
//   binary64: value = sig * 2^(exp - 1084); a normal result has sig's leading 1 at bit 62, so the
//             10 bits below the 53 kept ones are the round bits and `exp` is the biased exponent
//             minus one (the leading 1 carries into the exponent field when packing).
//   binary32: value = sig * 2^(exp - 156); leading 1 at bit 30, 7 round bits.
//   "wide" binary32 (u64 significand): value = sig * 2^(exp - 188).
import { shiftRightJam64 } from './bits';
import { FLAG_NX, FLAG_OF, FLAG_UF, RM_RDN, RM_RMM, RM_RNE, RM_RUP, raise } from './flags';

export const F32_SIGN: u32 = 0x80000000;
export const F32_INF: u32 = 0x7f800000;
export const F32_QUIET: u32 = 0x00400000;
export const F32_FRAC: u32 = 0x007fffff;
export const F32_HIDDEN: u32 = 0x00800000;
/** RISC-V's canonical NaN (unprivileged spec, "NaN Generation and Propagation"). */
export const F32_DEFAULT_NAN: u32 = 0x7fc00000;

export const F64_SIGN: u64 = 0x8000000000000000;
export const F64_INF: u64 = 0x7ff0000000000000;
export const F64_QUIET: u64 = 0x0008000000000000;
export const F64_FRAC: u64 = 0x000fffffffffffff;
export const F64_HIDDEN: u64 = 0x0010000000000000;
export const F64_DEFAULT_NAN: u64 = 0x7ff8000000000000;

// ---- fields ----
@inline export function signF32(a: u32): bool {
  return (a >> 31) != 0;
}
@inline export function expF32(a: u32): i32 {
  return <i32>((a >> 23) & 0xff);
}
@inline export function fracF32(a: u32): u32 {
  return a & F32_FRAC;
}
@inline export function isNaNF32(a: u32): bool {
  return (a & ~F32_SIGN) > F32_INF;
}
@inline export function isSignalingNaNF32(a: u32): bool {
  return isNaNF32(a) && (a & F32_QUIET) == 0;
}
@inline export function isInfF32(a: u32): bool {
  return (a & ~F32_SIGN) == F32_INF;
}
@inline export function isZeroF32(a: u32): bool {
  return (a & ~F32_SIGN) == 0;
}

@inline export function signF64(a: u64): bool {
  return (a >> 63) != 0;
}
@inline export function expF64(a: u64): i32 {
  return <i32>((a >> 52) & 0x7ff);
}
@inline export function fracF64(a: u64): u64 {
  return a & F64_FRAC;
}
@inline export function isNaNF64(a: u64): bool {
  return (a & ~F64_SIGN) > F64_INF;
}
@inline export function isSignalingNaNF64(a: u64): bool {
  return isNaNF64(a) && (a & F64_QUIET) == 0;
}
@inline export function isInfF64(a: u64): bool {
  return (a & ~F64_SIGN) == F64_INF;
}
@inline export function isZeroF64(a: u64): bool {
  return (a & ~F64_SIGN) == 0;
}

@inline export function packF32(sign: bool, exp: i32, frac: u32): u32 {
  return (sign ? F32_SIGN : 0) + (<u32>exp << 23) + frac;
}
@inline export function packF64(sign: bool, exp: i32, frac: u64): u64 {
  return (sign ? F64_SIGN : 0) + (<u64>exp << 52) + frac;
}

// ---- unpacking finite nonzero values ----
// Results of `unpack*`: the significand with its leading 1 made explicit (at bit 23 / 52, subnormals
// normalized) and the biased exponent it goes with (below 1 for subnormals), so that
// value = unpackedSig * 2^(unpackedExp - 150) (binary32) or 2^(unpackedExp - 1075) (binary64).
export let unpackedExp: i32 = 0;
export let unpackedSig: u64 = 0;

/** Unpacks a finite nonzero binary32 into unpackedExp/unpackedSig. */
@inline export function unpackF32(a: u32): void {
  const exp = expF32(a);
  const frac = fracF32(a);
  if (exp == 0) {
    const shift = <i32>clz(frac) - 8;
    unpackedExp = 1 - shift;
    unpackedSig = <u64>(frac << <u32>shift);
  } else {
    unpackedExp = exp;
    unpackedSig = <u64>(frac | F32_HIDDEN);
  }
}

/** Unpacks a finite nonzero binary64 into unpackedExp/unpackedSig. */
@inline export function unpackF64(a: u64): void {
  const exp = expF64(a);
  const frac = fracF64(a);
  if (exp == 0) {
    const shift = <i32>clz(frac) - 11;
    unpackedExp = 1 - shift;
    unpackedSig = frac << <u64>shift;
  } else {
    unpackedExp = exp;
    unpackedSig = frac | F64_HIDDEN;
  }
}

// ---- rounding ----

/** Rounds sig * 2^(exp - 1084) (leading 1 at bit 62, or lower when exp is below the normal range). */
export function roundPackF64(sign: bool, exp: i32, sig: u64, rm: u32): u64 {
  // The increment added at the round bits before truncating them: half for the nearest modes,
  // all-ones (i.e. "any nonzero tail rounds up") for the directed mode that points away from zero.
  let inc: u64 = 0x200;
  if (rm != RM_RNE && rm != RM_RMM) inc = rm == (sign ? RM_RDN : RM_RUP) ? 0x3ff : 0;
  let roundBits = sig & 0x3ff;
  if (<u32>exp >= 0x7fd) {
    if (exp < 0) {
      // Tininess after rounding (RISC-V, like IEEE 754's option b): tiny unless rounding to 53
      // bits with an unbounded exponent would reach the smallest normal.
      const tiny = exp < -1 || sig + inc < 0x8000000000000000;
      sig = shiftRightJam64(sig, <u32>-exp);
      exp = 0;
      roundBits = sig & 0x3ff;
      if (tiny && roundBits != 0) raise(FLAG_UF);
    } else if (exp > 0x7fd || sig + inc >= 0x8000000000000000) {
      raise(FLAG_OF | FLAG_NX);
      // Modes that round toward zero from this sign stop at the largest finite value.
      return packF64(sign, 0x7ff, 0) - <u64>(inc == 0);
    }
  }
  if (roundBits != 0) raise(FLAG_NX);
  sig = (sig + inc) >> 10;
  if (rm == RM_RNE && roundBits == 0x200) sig &= ~(<u64>1); // a tie: to even
  return packF64(sign, sig == 0 ? 0 : exp, sig);
}

/** Like roundPackF64 for any nonzero sig below 2^63: shifts its leading 1 to bit 62 first. */
export function normRoundPackF64(sign: bool, exp: i32, sig: u64, rm: u32): u64 {
  const shift = <i32>clz(sig) - 1;
  return roundPackF64(sign, exp - shift, sig << <u64>shift, rm);
}

/** Rounds sig * 2^(exp - 156) (leading 1 at bit 30, or lower when exp is below the normal range). */
export function roundPackF32(sign: bool, exp: i32, sig: u32, rm: u32): u32 {
  let inc: u32 = 0x40;
  if (rm != RM_RNE && rm != RM_RMM) inc = rm == (sign ? RM_RDN : RM_RUP) ? 0x7f : 0;
  let roundBits = sig & 0x7f;
  if (<u32>exp >= 0xfd) {
    if (exp < 0) {
      const tiny = exp < -1 || sig + inc < 0x80000000;
      sig = <u32>shiftRightJam64(<u64>sig, <u32>-exp);
      exp = 0;
      roundBits = sig & 0x7f;
      if (tiny && roundBits != 0) raise(FLAG_UF);
    } else if (exp > 0xfd || sig + inc >= 0x80000000) {
      raise(FLAG_OF | FLAG_NX);
      return packF32(sign, 0xff, 0) - <u32>(inc == 0);
    }
  }
  if (roundBits != 0) raise(FLAG_NX);
  sig = (sig + inc) >> 7;
  if (rm == RM_RNE && roundBits == 0x40) sig &= ~(<u32>1);
  return packF32(sign, sig == 0 ? 0 : exp, sig);
}

/**
 * Rounds the wide binary32 value sig * 2^(exp - 188) for any nonzero sig: normalizes the u64
 * significand to bit 62, keeps its high 32 bits with the rest as sticky, and rounds.
 */
export function normRoundPackF32Wide(sign: bool, exp: i32, sig: u64, rm: u32): u32 {
  if (sig >> 63) {
    sig = shiftRightJam64(sig, 1);
    exp += 1;
  }
  const shift = <i32>clz(sig) - 1;
  return roundPackF32(sign, exp - shift, <u32>shiftRightJam64(sig << <u64>shift, 32), rm);
}
