// Integer helpers for the soft-float: shifts that keep an inexact tail as a "sticky" bit, and
// 128-bit arithmetic built from u64 halves (WebAssembly has no wide multiply). Functions that
// produce 128 bits return the high half and leave the low half in `lo128`, so no allocation.

export let lo128: u64 = 0;

/**
 * a >> n, with every 1 bit shifted out ORed into bit 0 ("jamming"): the result still tells an
 * exact value from an inexact one, which is all rounding needs below the round bit. n may be
 * any size.
 */
@inline export function shiftRightJam64(a: u64, n: u32): u64 {
  if (n == 0) return a;
  if (n < 64) return (a >> <u64>n) | <u64>((a << <u64>(64 - n)) != 0);
  return <u64>(a != 0);
}

/** Full 64x64 -> 128-bit product. Returns the high half; the low half is left in lo128. */
export function mul64To128(a: u64, b: u64): u64 {
  const a0 = a & 0xffffffff;
  const a1 = a >> 32;
  const b0 = b & 0xffffffff;
  const b1 = b >> 32;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const p11 = a1 * b1;
  // At most 3 * (2^32 - 1): no carry lost.
  const mid = (p00 >> 32) + (p01 & 0xffffffff) + (p10 & 0xffffffff);
  lo128 = (mid << 32) | (p00 & 0xffffffff);
  return p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

/** Leading zeros of the 128-bit value hi:lo (128 for zero). */
@inline export function clz128(hi: u64, lo: u64): u32 {
  return hi != 0 ? <u32>clz(hi) : 64 + <u32>clz(lo);
}

/** (hi:lo) << n for n < 128. Returns the high half; the low half is left in lo128. */
export function shiftLeft128(hi: u64, lo: u64, n: u32): u64 {
  if (n == 0) {
    lo128 = lo;
    return hi;
  }
  if (n < 64) {
    lo128 = lo << <u64>n;
    return (hi << <u64>n) | (lo >> <u64>(64 - n));
  }
  lo128 = 0;
  return lo << <u64>(n - 64);
}

/** (hi:lo) >> n with the shifted-out bits jammed into bit 0; n may be any size. */
export function shiftRightJam128(hi: u64, lo: u64, n: u32): u64 {
  if (n == 0) {
    lo128 = lo;
    return hi;
  }
  if (n < 64) {
    lo128 = (lo >> <u64>n) | (hi << <u64>(64 - n)) | <u64>((lo << <u64>(64 - n)) != 0);
    return hi >> <u64>n;
  }
  if (n < 128) {
    const m = n - 64;
    lo128 = m == 0 ? hi | <u64>(lo != 0) : (hi >> <u64>m) | <u64>((lo | (hi << <u64>(64 - m))) != 0);
    return 0;
  }
  lo128 = <u64>((hi | lo) != 0);
  return 0;
}

/** (aHi:aLo) + (bHi:bLo), modulo 2^128. Returns the high half; the low half is left in lo128. */
@inline export function add128(aHi: u64, aLo: u64, bHi: u64, bLo: u64): u64 {
  const lo = aLo + bLo;
  lo128 = lo;
  return aHi + bHi + <u64>(lo < aLo);
}

/** (aHi:aLo) - (bHi:bLo), modulo 2^128. Returns the high half; the low half is left in lo128. */
@inline export function sub128(aHi: u64, aLo: u64, bHi: u64, bLo: u64): u64 {
  lo128 = aLo - bLo;
  return aHi - bHi - <u64>(aLo < bLo);
}

/** Unsigned (aHi:aLo) < (bHi:bLo). */
@inline export function lt128(aHi: u64, aLo: u64, bHi: u64, bLo: u64): bool {
  return aHi < bHi || (aHi == bHi && aLo < bLo);
}
