// Test vectors for the FPU oracle tests: deterministic (seeded) operands that mix the values
// where soft-float goes wrong (zeros, subnormals, infinities, quiet and signaling NaNs, the
// extremes of each format, values next to rounding boundaries, overflow and underflow, and the
// edges of the integer ranges) with random bit patterns.
import { FPU_OPS, type FpuOp, type OperandKind, RECORD_BYTES } from './ops';

/** xorshift128+: fast, seedable, good enough to pick test operands. */
class Rng {
  private s0: bigint;
  private s1: bigint;
  private readonly m = (1n << 64n) - 1n;
  constructor(seed: number) {
    this.s0 = (BigInt(seed) * 0x9e3779b97f4a7c15n + 1n) & this.m;
    this.s1 = (this.s0 * 0xbf58476d1ce4e5b9n + 0x94d049bb133111ebn) & this.m;
    for (let i = 0; i < 8; i++) this.u64();
  }
  u64(): bigint {
    let x = this.s0;
    const y = this.s1;
    this.s0 = y;
    x ^= (x << 23n) & this.m;
    this.s1 = x ^ y ^ (x >> 17n) ^ (y >> 26n);
    return (this.s1 + y) & this.m;
  }
  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Number(this.u64() % BigInt(n));
  }
  bits(n: number): bigint {
    return n === 0 ? 0n : this.u64() >> BigInt(64 - n);
  }
  chance(p: number): boolean {
    return this.int(1_000_000) < p * 1_000_000;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}

interface Format {
  bits: 32 | 64;
  expBits: number;
  fracBits: number;
  bias: number;
}
const F32: Format = { bits: 32, expBits: 8, fracBits: 23, bias: 127 };
const F64: Format = { bits: 64, expBits: 11, fracBits: 52, bias: 1023 };

const mask = (n: number) => (1n << BigInt(n)) - 1n;
const pack = (f: Format, sign: number, exp: number, frac: bigint) =>
  (BigInt(sign) << BigInt(f.bits - 1)) | (BigInt(exp) << BigInt(f.fracBits)) | (frac & mask(f.fracBits));

const specialsCache = new Map<Format, bigint[]>();
function specials(f: Format): bigint[] {
  const cached = specialsCache.get(f);
  if (cached) return cached;
  const maxExp = (1 << f.expBits) - 1;
  const quiet = 1n << BigInt(f.fracBits - 1);
  const out: bigint[] = [];
  for (const s of [0, 1]) {
    out.push(
      pack(f, s, 0, 0n), // zero
      pack(f, s, maxExp, 0n), // infinity
      pack(f, s, maxExp, quiet), // quiet NaN (canonical when s = 0)
      pack(f, s, maxExp, quiet | 1n), // quiet NaN with payload
      pack(f, s, maxExp, 1n), // signaling NaNs
      pack(f, s, maxExp, quiet >> 1n),
      pack(f, s, maxExp, mask(f.fracBits - 1)),
      pack(f, s, 0, 1n), // smallest subnormal
      pack(f, s, 0, mask(f.fracBits)), // largest subnormal
      pack(f, s, 0, quiet), // a subnormal with only the top fraction bit
      pack(f, s, 1, 0n), // smallest normal
      pack(f, s, 1, 1n),
      pack(f, s, maxExp - 1, mask(f.fracBits)), // largest finite
      pack(f, s, maxExp - 1, 0n),
      pack(f, s, f.bias, 0n), // 1.0
      pack(f, s, f.bias + 1, 0n), // 2.0
      pack(f, s, f.bias - 1, 0n), // 0.5
      pack(f, s, f.bias, quiet), // 1.5
      pack(f, s, f.bias, 1n), // 1 + ulp
      pack(f, s, f.bias - 1, mask(f.fracBits)), // 1 - ulp/2
    );
  }
  specialsCache.set(f, out);
  return out;
}

/** One value of each class: +-0, +-inf, quiet and signaling NaN, +-1, a subnormal, the largest finite. */
function classRepresentatives(f: Format): bigint[] {
  const maxExp = (1 << f.expBits) - 1;
  const quiet = 1n << BigInt(f.fracBits - 1);
  return [
    pack(f, 0, 0, 0n), pack(f, 1, 0, 0n), pack(f, 0, maxExp, 0n), pack(f, 1, maxExp, 0n), pack(f, 0, maxExp, quiet),
    pack(f, 0, maxExp, 1n), pack(f, 0, f.bias, 0n), pack(f, 1, f.bias, 0n), pack(f, 0, 0, 1n), pack(f, 1, maxExp - 1, mask(f.fracBits)),
  ];
}

/** A fraction with structure: runs of ones or zeros, single bits, or random. */
function fraction(rng: Rng, f: Format): bigint {
  const n = f.fracBits;
  switch (rng.int(8)) {
    case 0: return 0n;
    case 1: return mask(n);
    case 2: return 1n << BigInt(rng.int(n));
    case 3: return mask(n) ^ (1n << BigInt(rng.int(n)));
    case 4: { // a run of ones at a random place, e.g. values just below a power of two
      const lo = rng.int(n);
      const hi = lo + rng.int(n - lo + 1);
      return mask(hi) ^ mask(lo);
    }
    case 5: return rng.bits(n) & ~mask(rng.int(n)); // random high part, zero tail (exact cases)
    case 6: return rng.bits(n) | mask(rng.int(n)); // random high part, ones tail
    default: return rng.bits(n);
  }
}

function structuredFloat(rng: Rng, f: Format): bigint {
  const maxExp = (1 << f.expBits) - 1;
  let exp: number;
  const r = rng.int(20);
  if (r < 7) exp = f.bias - 8 + rng.int(17); // near 1
  else if (r < 10) exp = rng.int(4); // subnormal and smallest normals
  else if (r < 12) exp = maxExp - 1 - rng.int(4); // near overflow
  else if (r < 13) exp = maxExp; // infinities and NaNs
  else exp = rng.int(maxExp);
  return pack(f, rng.int(2), exp, fraction(rng, f));
}

function randomFloat(rng: Rng, f: Format): bigint {
  const r = rng.int(20);
  if (r < 3) return rng.pick(specials(f));
  if (r < 7) return rng.bits(f.bits);
  return structuredFloat(rng, f);
}

/** b close to a (same or nearby exponent, a perturbed fraction): cancellation, ties, near-equal compares. */
function relatedFloat(rng: Rng, f: Format, a: bigint): bigint {
  const expMask = mask(f.expBits);
  const exp = Number((a >> BigInt(f.fracBits)) & expMask);
  const maxExp = Number(expMask);
  const shift = rng.chance(0.5) ? rng.int(3) : rng.int(f.fracBits + 6);
  let e = exp + (rng.chance(0.5) ? -shift : shift);
  e = Math.max(0, Math.min(maxExp - 1, e));
  let frac = a & mask(f.fracBits);
  switch (rng.int(4)) {
    case 0: frac ^= rng.bits(1 + rng.int(4)); break; // a few low bits
    case 1: frac = (frac + 1n) & mask(f.fracBits); break;
    case 2: frac = (frac - 1n) & mask(f.fracBits); break;
    default: break;
  }
  return pack(f, rng.int(2), e, frac);
}

// ---- JS numbers <-> bits (for operands built by arithmetic: FMA cancellation, integer edges) ----
const buf = new DataView(new ArrayBuffer(8));
function f64Bits(x: number): bigint {
  buf.setFloat64(0, x, true);
  return buf.getBigUint64(0, true);
}
function f32Bits(x: number): bigint {
  buf.setFloat32(0, x, true);
  return BigInt(buf.getUint32(0, true));
}
function bitsValue(f: Format, bits: bigint): number {
  if (f.bits === 64) {
    buf.setBigUint64(0, bits, true);
    return buf.getFloat64(0, true);
  }
  buf.setUint32(0, Number(bits), true);
  return buf.getFloat32(0, true);
}
const toBits = (f: Format, x: number) => (f.bits === 64 ? f64Bits(x) : f32Bits(x));

/** Operands of float -> integer conversions: integers near the range edges, with fractions. */
function conversionOperand(rng: Rng, f: Format): bigint {
  if (rng.chance(0.4)) return randomFloat(rng, f);
  const edges = [0, 1, 2, 3, 2 ** 31, 2 ** 32, 2 ** 63, 2 ** 64, 2 ** 24, 2 ** 53];
  const base = rng.chance(0.3) ? rng.int(1000) : rng.pick(edges);
  const fracs = [0, 0.5, 0.25, 0.75, 1e-9, 0.4999, 0.5001, -0.5, -0.25, -0.75, -1e-9];
  let x = base + rng.pick(fracs);
  if (rng.chance(0.5)) x = -x;
  let bits = toBits(f, x);
  // The floats just around the edge (in bit space), where the ranges really end.
  if (rng.chance(0.5) && (bits & mask(f.bits - 1)) !== 0n) bits += BigInt(rng.int(7) - 3);
  return bits & mask(f.bits);
}

function integerOperand(rng: Rng, kind: OperandKind): bigint {
  const width = kind.endsWith('32') ? 32 : 64;
  const signed = kind.startsWith('i');
  const r = rng.int(10);
  let v: bigint;
  if (r < 2) {
    const edges = [0n, 1n, 2n, 3n, mask(width), mask(width - 1), 1n << BigInt(width - 1), (1n << BigInt(width - 1)) + 1n];
    v = rng.pick(edges) - BigInt(rng.int(3));
  } else if (r < 6) {
    // Around the precision of the target: a leading 1, a random middle and tie-shaped tails.
    const len = 20 + rng.int(width - 19);
    v = (1n << BigInt(len - 1)) | rng.bits(len - 1);
    const tail = rng.int(12);
    if (rng.chance(0.5)) v = (v & ~mask(tail)) | (1n << BigInt(Math.max(0, tail - 1)));
  } else {
    v = rng.bits(1 + rng.int(width));
  }
  v &= mask(width);
  if (signed && rng.chance(0.3)) v = -v & mask(width);
  return v;
}

/**
 * b such that a*b (or a/b) lands just around the smallest normal, with a fraction of ones: the
 * results that round up to it are where tininess before and after rounding differ.
 */
function nearUnderflowPartner(rng: Rng, f: Format, a: bigint, divide: boolean): bigint {
  const expA = Number((a >> BigInt(f.fracBits)) & mask(f.expBits));
  const target = rng.int(3) - 1; // product exponent (biased) around 0..1
  const exp = divide ? expA - target + f.bias - 1 : target - expA + f.bias + 1;
  if (exp < 1 || exp >= Number(mask(f.expBits))) return randomFloat(rng, f);
  const frac = rng.chance(0.5) ? mask(f.fracBits) ^ rng.bits(rng.int(4)) : fraction(rng, f);
  return pack(f, rng.int(2), exp, frac);
}

function fmaAddend(rng: Rng, f: Format, a: bigint, b: bigint): bigint {
  const product = bitsValue(f, a) * bitsValue(f, b);
  if (!Number.isFinite(product) || rng.chance(0.3)) return randomFloat(rng, f);
  // c = -(a*b) rounded, nudged by a few ulps: massive cancellation, the case a fused multiply-add
  // gets wrong when it rounds the product first.
  let c = toBits(f, -(f.bits === 32 ? Math.fround(product) : product));
  if (rng.chance(0.7)) c += BigInt(rng.int(9) - 4);
  if (rng.chance(0.2)) c ^= 1n << BigInt(f.bits - 1);
  return c & mask(f.bits);
}

function operandsFor(rng: Rng, op: FpuOp): [bigint, bigint, bigint] {
  if (op.operand !== 'f32' && op.operand !== 'f64') return [integerOperand(rng, op.operand), 0n, 0n];
  const f = op.operand === 'f32' ? F32 : F64;
  if (op.arity === 1) {
    if (op.name.includes('_to_') && !op.name.endsWith('f64') && !op.name.endsWith('f32')) return [conversionOperand(rng, f), 0n, 0n];
    if (op.name === 'f64_to_f32') return [narrowingOperand(rng), 0n, 0n];
    return [randomFloat(rng, f), 0n, 0n];
  }
  const a = randomFloat(rng, f);
  let b: bigint;
  if (/_(mul|div|fma)$/.test(op.name) && rng.chance(0.15)) b = nearUnderflowPartner(rng, f, a, op.name.endsWith('div'));
  else b = rng.chance(0.35) ? relatedFloat(rng, f, a) : randomFloat(rng, f);
  if (op.arity === 2) return [a, b, 0n];
  return [a, b, fmaAddend(rng, f, a, b)];
}

/** binary64 values around binary32's range and precision (f64 -> f32 rounding). */
function narrowingOperand(rng: Rng): bigint {
  if (rng.chance(0.3)) return randomFloat(rng, F64);
  // binary32's subnormals .. largest exponent (+1), a fifth of them right at its smallest normal.
  const exp = rng.chance(0.2) ? 1023 - 127 - rng.int(2) : 1023 + rng.int(128 + 152) - 152;
  let frac = fraction(rng, F64);
  if (rng.chance(0.5)) frac = (frac & ~mask(29)) | (1n << 28n) | (rng.chance(0.5) ? 0n : rng.bits(rng.int(28))); // ties
  return pack(F64, rng.int(2), exp, frac);
}

export interface VectorSet {
  /** The batch: u64 count, then RECORD_BYTES per record. */
  readonly bytes: Uint8Array;
  readonly count: number;
}

/** `perGroup` vectors for every (operation, rounding mode); rm-less operations get one group. */
export function generateVectors(perGroup: number, seed = 1): VectorSet {
  const rng = new Rng(seed);
  const groups: { op: FpuOp; rm: number }[] = [];
  for (const op of FPU_OPS) for (const rm of op.rounds ? [0, 1, 2, 3, 4] : [0]) groups.push({ op, rm });
  const count = groups.length * perGroup;
  const bytes = new Uint8Array(8 + count * RECORD_BYTES);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, BigInt(count), true);
  let p = 8;
  for (const { op, rm } of groups) {
    // The first vectors of each group are the special values: every one of them for a unary
    // operation, every pair for a binary one (and for FMA, every pair of a*b with a special c).
    const f = op.operand === 'f64' ? F64 : F32;
    const sp = op.operand === 'f32' || op.operand === 'f64' ? specials(f) : [];
    // FMA then gets every triple of one value per class (zeros, infinities, NaNs, ...).
    const exhaustive = op.arity === 1 ? sp.length : sp.length * sp.length;
    const reps = sp.length ? classRepresentatives(f) : [];
    const triples = op.arity === 3 ? reps.length ** 3 : 0;
    for (let i = 0; i < perGroup; i++) {
      let [a, b, c] = operandsFor(rng, op);
      if (i < exhaustive) {
        a = sp[i % sp.length]!;
        if (op.arity > 1) b = sp[Math.floor(i / sp.length)]!;
        if (op.arity > 2) c = sp[(i * 7) % sp.length]!;
      } else if (i < exhaustive + triples) {
        const j = i - exhaustive;
        a = reps[j % reps.length]!;
        b = reps[Math.floor(j / reps.length) % reps.length]!;
        c = reps[Math.floor(j / reps.length ** 2)]!;
      }
      view.setUint32(p, op.id, true);
      view.setUint32(p + 4, rm, true);
      view.setBigUint64(p + 8, a, true);
      view.setBigUint64(p + 16, b, true);
      view.setBigUint64(p + 24, c, true);
      p += RECORD_BYTES;
    }
  }
  return { bytes, count };
}
