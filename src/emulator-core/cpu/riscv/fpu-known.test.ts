// Known answers for the soft-float (out/wasm/fpu-test.wasm), each worked out from IEEE 754-2019
// and the RISC-V F/D chapters rather than taken from any implementation: the cases that name
// a rule (ties, tininess after rounding, exact zero signs, saturation, minimumNumber, NV for
// inf * 0 + qNaN, canonical NaNs). The oracle tests (fpu-qemu, fpu-x86) cover the bulk.
import { beforeAll, describe, expect, it } from 'vitest';
import { instantiateFpu } from './fpu-oracle/engines';

type Fn = (...args: (number | bigint)[]) => number | bigint;
let fpu: Record<string, Fn>;

const RNE = 0, RTZ = 1, RDN = 2, RUP = 3, RMM = 4;
const NV = 0x10, DZ = 0x08, OF = 0x04, UF = 0x02, NX = 0x01;

/** Runs one operation with the flags cleared; results as unsigned bit patterns. */
function run(name: string, ...args: (number | bigint)[]): { value: bigint; flags: number } {
  fpu.clearFlags!();
  const r = fpu[name]!(...args);
  const value = typeof r === 'bigint' ? BigInt.asUintN(64, r) : BigInt(r >>> 0);
  return { value, flags: Number(fpu.getFlags!()) };
}
const f64 = (x: number) => { const v = new DataView(new ArrayBuffer(8)); v.setFloat64(0, x); return v.getBigUint64(0); };
const f32 = (x: number) => { const v = new DataView(new ArrayBuffer(4)); v.setFloat32(0, x); return v.getUint32(0); };

const F64_NAN = 0x7ff8000000000000n;
const F32_NAN = 0x7fc00000n;
const F64_SNAN = 0x7ff4000000000000n;
const F64_MAX = 0x7fefffffffffffffn;
const F64_MIN_NORMAL = 0x0010000000000000n;
const F64_MAX_SUBNORMAL = 0x000fffffffffffffn;

beforeAll(() => {
  fpu = instantiateFpu().exports as Record<string, Fn>;
});

describe('rounding', () => {
  it('1 + 2^-53 is a tie: to even in RNE, away in RMM, by direction otherwise; always inexact', () => {
    const up = 0x3ff0000000000001n;
    const one = f64(1);
    const want: Record<number, bigint> = { [RNE]: one, [RTZ]: one, [RDN]: one, [RUP]: up, [RMM]: up };
    for (const rm of [RNE, RTZ, RDN, RUP, RMM]) {
      expect(run('f64_add', f64(1), f64(2 ** -53), rm)).toEqual({ value: want[rm], flags: NX });
    }
    // The same tie on the odd side goes up in RNE too.
    expect(run('f64_add', up, f64(2 ** -53), RNE)).toEqual({ value: 0x3ff0000000000002n, flags: NX });
  });

  it('an exact zero sum is +0, except -0 in RDN', () => {
    for (const rm of [RNE, RTZ, RUP, RMM]) expect(run('f64_add', f64(1), f64(-1), rm)).toEqual({ value: 0n, flags: 0 });
    expect(run('f64_add', f64(1), f64(-1), RDN)).toEqual({ value: 1n << 63n, flags: 0 });
    expect(run('f64_sub', f64(-0), f64(0), RNE)).toEqual({ value: 1n << 63n, flags: 0 }); // -0 - +0 = -0
  });

  it('overflow gives infinity or the largest finite value by mode and sign', () => {
    const inf = 0x7ff0000000000000n;
    const neg = 1n << 63n;
    expect(run('f64_mul', F64_MAX, f64(2), RNE)).toEqual({ value: inf, flags: OF | NX });
    expect(run('f64_mul', F64_MAX, f64(2), RTZ)).toEqual({ value: F64_MAX, flags: OF | NX });
    expect(run('f64_mul', F64_MAX, f64(2), RDN)).toEqual({ value: F64_MAX, flags: OF | NX });
    expect(run('f64_mul', F64_MAX, f64(2), RUP)).toEqual({ value: inf, flags: OF | NX });
    expect(run('f64_mul', F64_MAX, f64(-2), RDN)).toEqual({ value: neg | inf, flags: OF | NX });
    expect(run('f64_mul', F64_MAX, f64(-2), RUP)).toEqual({ value: neg | F64_MAX, flags: OF | NX });
  });

  it('tininess is detected after rounding (no UF when the rounded result is the smallest normal)', () => {
    // (1 - 2^-27) * (1 + 2^-27) * 2^-1022 = 2^-1022 * (1 - 2^-54): below the smallest normal,
    // but rounding it to 53 bits with an unbounded exponent gives exactly 2^-1022 (a tie, up to even).
    const a = 0x3feffffffc000000n;
    const b = 0x0010000002000000n;
    expect(run('f64_mul', a, b, RNE)).toEqual({ value: F64_MIN_NORMAL, flags: NX });
    expect(run('f64_mul', a, b, RMM)).toEqual({ value: F64_MIN_NORMAL, flags: NX });
    expect(run('f64_mul', a, b, RUP)).toEqual({ value: F64_MIN_NORMAL, flags: NX });
    expect(run('f64_mul', a, b, RTZ)).toEqual({ value: F64_MAX_SUBNORMAL, flags: UF | NX });
    expect(run('f64_mul', a, b, RDN)).toEqual({ value: F64_MAX_SUBNORMAL, flags: UF | NX });
  });

  it('an exact subnormal result raises no underflow', () => {
    expect(run('f64_mul', F64_MIN_NORMAL, f64(0.5), RNE)).toEqual({ value: 0x0008000000000000n, flags: 0 });
  });

  it('f64 -> f32 of 2^-150 (half the smallest subnormal)', () => {
    expect(run('f64_to_f32', f64(2 ** -150), RNE)).toEqual({ value: 0n, flags: UF | NX });
    expect(run('f64_to_f32', f64(2 ** -150), RUP)).toEqual({ value: 1n, flags: UF | NX });
    expect(run('f64_to_f32', f64(2 ** -150), RMM)).toEqual({ value: 1n, flags: UF | NX });
  });

  it('sqrt(2): the upper neighbour is nearer, so RNE and RUP agree; exact roots raise nothing', () => {
    // sqrt(2) = 1.41421356237309504880..., the doubles around it are 0x3ff6a09e667f3bcc
    // (1.41421356237309492343) and 0x3ff6a09e667f3bcd (1.41421356237309514547), the latter nearer.
    expect(run('f64_sqrt', f64(2), RNE)).toEqual({ value: 0x3ff6a09e667f3bcdn, flags: NX });
    expect(run('f64_sqrt', f64(2), RUP)).toEqual({ value: 0x3ff6a09e667f3bcdn, flags: NX });
    expect(run('f64_sqrt', f64(2), RTZ)).toEqual({ value: 0x3ff6a09e667f3bccn, flags: NX });
    expect(run('f64_sqrt', f64(2), RDN)).toEqual({ value: 0x3ff6a09e667f3bccn, flags: NX });
    expect(run('f64_sqrt', f64(2.25), RNE)).toEqual({ value: f64(1.5), flags: 0 });
    expect(run('f32_sqrt', f32(2.25), RNE)).toEqual({ value: BigInt(f32(1.5)), flags: 0 });
  });

  it('integer -> float rounds in the mode', () => {
    expect(run('i64_to_f32', BigInt(2 ** 24 + 1), RNE)).toEqual({ value: BigInt(f32(2 ** 24)), flags: NX });
    expect(run('i64_to_f32', BigInt(2 ** 24 + 1), RUP)).toEqual({ value: BigInt(f32(2 ** 24 + 2)), flags: NX });
    expect(run('u64_to_f64', (1n << 64n) - 1n, RNE)).toEqual({ value: f64(2 ** 64), flags: NX });
    expect(run('u64_to_f64', (1n << 64n) - 1n, RTZ)).toEqual({ value: 0x43efffffffffffffn, flags: NX });
    expect(run('i64_to_f64', -(1n << 63n), RNE)).toEqual({ value: f64(-(2 ** 63)), flags: 0 });
    expect(run('i32_to_f64', -1, RNE)).toEqual({ value: f64(-1), flags: 0 });
    expect(run('u32_to_f32', 0xffffffff, RNE)).toEqual({ value: BigInt(f32(2 ** 32)), flags: NX });
  });
});

describe('fused multiply-add', () => {
  it('rounds once: (1 + 2^-27)(1 - 2^-27) - 1 = -2^-54 exactly (a separate multiply would give 0)', () => {
    const a = f64(1 + 2 ** -27);
    const b = f64(1 - 2 ** -27);
    expect(run('f64_fma', a, b, f64(-1), RNE)).toEqual({ value: f64(-(2 ** -54)), flags: 0 });
    expect(run('f64_add', run('f64_mul', a, b, RNE).value, f64(-1), RNE).value).toBe(0n);
  });

  it('inf * 0 + qNaN raises NV (RISC-V), and the result is the canonical NaN', () => {
    expect(run('f64_fma', f64(Infinity), f64(0), 0xfff8000000000123n, RNE)).toEqual({ value: F64_NAN, flags: NV });
    expect(run('f32_fma', f32(0), f32(-Infinity), f32(1), RNE)).toEqual({ value: F32_NAN, flags: NV });
    expect(run('f64_fma', f64(Infinity), f64(1), f64(-Infinity), RNE)).toEqual({ value: F64_NAN, flags: NV });
  });

  it('the sign of an exact zero: 0 * x + -0', () => {
    expect(run('f64_fma', f64(0), f64(5), f64(-0), RNE)).toEqual({ value: 0n, flags: 0 });
    expect(run('f64_fma', f64(-0), f64(5), f64(-0), RNE)).toEqual({ value: 1n << 63n, flags: 0 });
    expect(run('f64_fma', f64(2), f64(3), f64(-6), RDN)).toEqual({ value: 1n << 63n, flags: 0 });
  });
});

describe('NaNs and exceptions', () => {
  it('NaN results are canonical; only signaling NaNs raise NV in arithmetic', () => {
    expect(run('f64_add', 0xfff8000000000abcn, f64(1), RNE)).toEqual({ value: F64_NAN, flags: 0 });
    expect(run('f64_add', F64_SNAN, f64(1), RNE)).toEqual({ value: F64_NAN, flags: NV });
    expect(run('f32_to_f64', 0xff800001)).toEqual({ value: F64_NAN, flags: NV });
    expect(run('f64_to_f32', 0x7ff8000000000001n, RNE)).toEqual({ value: F32_NAN, flags: 0 });
    expect(run('f64_sqrt', f64(-1), RNE)).toEqual({ value: F64_NAN, flags: NV });
    expect(run('f64_sqrt', f64(-0), RNE)).toEqual({ value: 1n << 63n, flags: 0 });
  });

  it('division by zero and invalid divisions', () => {
    expect(run('f64_div', f64(1), f64(0), RNE)).toEqual({ value: f64(Infinity), flags: DZ });
    expect(run('f64_div', f64(-1), f64(0), RNE)).toEqual({ value: f64(-Infinity), flags: DZ });
    expect(run('f64_div', f64(0), f64(0), RNE)).toEqual({ value: F64_NAN, flags: NV });
    expect(run('f32_div', f32(Infinity), f32(-Infinity), RNE)).toEqual({ value: F32_NAN, flags: NV });
    expect(run('f64_div', f64(Infinity), f64(0), RNE)).toEqual({ value: f64(Infinity), flags: 0 });
  });

  it('flags accumulate until cleared', () => {
    fpu.clearFlags!();
    fpu.f64_div!(f64(1), f64(0), RNE);
    fpu.f64_add!(f64(1), f64(2 ** -60), RNE);
    expect(Number(fpu.getFlags!())).toBe(DZ | NX);
    fpu.clearFlags!();
    expect(Number(fpu.getFlags!())).toBe(0);
  });
});

describe('comparisons, min/max, classify', () => {
  const qnan = F64_NAN;
  it('feq is quiet, flt/fle are signaling; -0 == +0', () => {
    expect(run('f64_eq', qnan, qnan)).toEqual({ value: 0n, flags: 0 });
    expect(run('f64_eq', F64_SNAN, f64(1))).toEqual({ value: 0n, flags: NV });
    expect(run('f64_lt', qnan, f64(1))).toEqual({ value: 0n, flags: NV });
    expect(run('f64_le', f64(1), qnan)).toEqual({ value: 0n, flags: NV });
    expect(run('f64_eq', f64(-0), f64(0))).toEqual({ value: 1n, flags: 0 });
    expect(run('f64_le', f64(-0), f64(0))).toEqual({ value: 1n, flags: 0 });
    expect(run('f64_lt', f64(-0), f64(0))).toEqual({ value: 0n, flags: 0 });
    expect(run('f64_lt', f64(-2), f64(-1))).toEqual({ value: 1n, flags: 0 });
    expect(run('f32_lt', f32(-1), f32(-2))).toEqual({ value: 0n, flags: 0 });
  });

  it('min/max are minimumNumber/maximumNumber: -0 < +0, a NaN operand is ignored, sNaN raises NV', () => {
    for (const [x, y] of [[f64(-0), f64(0)], [f64(0), f64(-0)]] as const) {
      expect(run('f64_min', x, y).value).toBe(f64(-0));
      expect(run('f64_max', x, y).value).toBe(f64(0));
    }
    expect(run('f64_min', qnan, f64(3))).toEqual({ value: f64(3), flags: 0 });
    expect(run('f64_max', f64(3), F64_SNAN)).toEqual({ value: f64(3), flags: NV });
    expect(run('f64_min', 0xfff8000000000001n, qnan)).toEqual({ value: F64_NAN, flags: 0 });
    expect(run('f32_max', 0x7f800001, 0x7f800002)).toEqual({ value: F32_NAN, flags: NV });
    expect(run('f32_min', f32(-Infinity), f32(1)).value).toBe(BigInt(f32(-Infinity)));
  });

  it('fclass sets exactly one of its ten bits', () => {
    const cases: [bigint, number][] = [
      [f64(-Infinity), 0], [f64(-1), 1], [(1n << 63n) | 1n, 2], [f64(-0), 3], [f64(0), 4],
      [1n, 5], [f64(1), 6], [f64(Infinity), 7], [F64_SNAN, 8], [F64_NAN, 9],
    ];
    for (const [x, bit] of cases) expect(run('f64_classify', x).value).toBe(1n << BigInt(bit));
    expect(run('f32_classify', 0x7f800001).value).toBe(1n << 8n);
    expect(run('f32_classify', 0x80000001).value).toBe(1n << 2n);
  });
});

describe('float -> integer conversions saturate', () => {
  it('NaN gives the largest integer, infinities and out-of-range values the nearest bound, with NV only', () => {
    expect(run('f64_to_i32', F64_NAN, RNE)).toEqual({ value: 0x7fffffffn, flags: NV });
    expect(run('f64_to_i32', f64(-Infinity), RNE)).toEqual({ value: 0x80000000n, flags: NV });
    expect(run('f64_to_i32', f64(2147483647.5), RNE)).toEqual({ value: 0x7fffffffn, flags: NV });
    expect(run('f64_to_i32', f64(2147483647.5), RTZ)).toEqual({ value: 0x7fffffffn, flags: NX });
    expect(run('f64_to_i32', f64(-2147483648.75), RTZ)).toEqual({ value: 0x80000000n, flags: NX });
    expect(run('f64_to_i64', f64(2 ** 63), RNE)).toEqual({ value: (1n << 63n) - 1n, flags: NV });
    expect(run('f64_to_i64', f64(-(2 ** 63)), RNE)).toEqual({ value: 1n << 63n, flags: 0 });
    expect(run('f32_to_u64', 0x7fc00000, RNE)).toEqual({ value: (1n << 64n) - 1n, flags: NV });
    expect(run('f64_to_u32', f64(2 ** 32), RNE)).toEqual({ value: 0xffffffffn, flags: NV });
  });

  it('unsigned: a negative value is valid only if it rounds to zero', () => {
    expect(run('f64_to_u32', f64(-1), RNE)).toEqual({ value: 0n, flags: NV });
    expect(run('f64_to_u32', f64(-0.5), RTZ)).toEqual({ value: 0n, flags: NX });
    expect(run('f64_to_u32', f64(-0.5), RNE)).toEqual({ value: 0n, flags: NX });
    expect(run('f64_to_u32', f64(-0.5), RDN)).toEqual({ value: 0n, flags: NV });
    expect(run('f64_to_u64', f64(-0.5), RMM)).toEqual({ value: 0n, flags: NV });
  });

  it('ties in each mode', () => {
    const want: [number, number, number][] = [[2.5, RNE, 2], [3.5, RNE, 4], [2.5, RMM, 3], [-2.5, RMM, -3], [-2.5, RDN, -3], [-2.5, RUP, -2], [2.5, RTZ, 2]];
    for (const [x, rm, r] of want) expect(run('f64_to_i32', f64(x), rm)).toEqual({ value: BigInt(r >>> 0), flags: NX });
  });
});
