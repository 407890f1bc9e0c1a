// Comparing our results with an oracle's, vector by vector, and the RISC-V differences applied
// to the x86 oracle's answers (each one explicit here, none hidden in the C program).
import { FPU_OPS, type FpuOp, RECORD_BYTES, ROUNDING_MODES } from './ops';
import type { Results } from './engines';
import type { VectorSet } from './vectors';

export const FLAG_NAMES: readonly [number, string][] = [[0x10, 'NV'], [0x08, 'DZ'], [0x04, 'OF'], [0x02, 'UF'], [0x01, 'NX']];
export const flagString = (f: number) => FLAG_NAMES.filter(([bit]) => f & bit).map(([, n]) => n).join('|') || '-';

/** An oracle's answer to one record; null when the oracle has none (the record is skipped). */
export interface Answer {
  value: bigint;
  flags: number;
}

export interface Record {
  op: FpuOp;
  rm: number;
  a: bigint;
  b: bigint;
  c: bigint;
}

export interface Mismatch extends Record {
  expected: Answer;
  got: Answer;
}

export interface GroupStats {
  op: FpuOp;
  rm: number;
  checked: number;
  skipped: number;
  /** OR of the flags the oracle raised in this group (to show that the vectors reach every flag). */
  oracleFlags: number;
  mismatches: Mismatch[];
}

type Adapt = (rec: Record, value: bigint, flags: bigint, hints: bigint) => Answer | null;

const identity: Adapt = (_rec, value, flags) => ({ value, flags: Number(flags) });

/** Compares our results with the oracle's, grouped by (operation, rounding mode). */
export function compareResults(vectors: VectorSet, ours: Results, oracle: Results, adapt: Adapt = identity): GroupStats[] {
  const view = new DataView(vectors.bytes.buffer, vectors.bytes.byteOffset, vectors.bytes.byteLength);
  const groups = new Map<string, GroupStats>();
  for (let i = 0; i < vectors.count; i++) {
    const p = 8 + i * RECORD_BYTES;
    const op = FPU_OPS[view.getUint32(p, true)]!;
    const rec: Record = {
      op, rm: view.getUint32(p + 4, true),
      a: view.getBigUint64(p + 8, true), b: view.getBigUint64(p + 16, true), c: view.getBigUint64(p + 24, true),
    };
    const key = `${op.name}/${rec.rm}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { op, rm: rec.rm, checked: 0, skipped: 0, oracleFlags: 0, mismatches: [] }));
    const o = i * oracle.stride;
    const expected = adapt(rec, oracle.words[o]!, oracle.words[o + 1]!, oracle.stride > 2 ? oracle.words[o + 2]! : 0n);
    if (!expected) {
      g.skipped++;
      continue;
    }
    const m = (1n << BigInt(op.resultBits)) - 1n;
    expected.value &= m;
    const got: Answer = { value: ours.words[i * ours.stride]! & m, flags: Number(ours.words[i * ours.stride + 1]!) };
    g.checked++;
    g.oracleFlags |= expected.flags;
    if (got.value !== expected.value || got.flags !== expected.flags) g.mismatches.push({ ...rec, expected, got });
  }
  return [...groups.values()];
}

const hex = (v: bigint, bits: number) => '0x' + v.toString(16).padStart(bits / 4, '0');

export function describeMismatch(m: Mismatch): string {
  const w = m.op.operand.endsWith('32') ? 32 : 64;
  const operands = [m.a, m.b, m.c].slice(0, m.op.arity).map((x) => hex(x, w)).join(', ');
  return `${m.op.name}(${operands}) ${ROUNDING_MODES[m.rm]}: expected ${hex(m.expected.value, m.op.resultBits)} ` +
    `${flagString(m.expected.flags)}, got ${hex(m.got.value, m.op.resultBits)} ${flagString(m.got.flags)}`;
}

// ---- x86-64 SSE -> RISC-V ----

const X86_NOT_SUPPORTED = (1n << 64n) - 1n;

function isNaNBits(bits: bigint, width: number): boolean {
  const expMask = width === 32 ? 0xffn : 0x7ffn;
  const fracBits = BigInt(width === 32 ? 23 : 52);
  return ((bits >> fracBits) & expMask) === expMask && (bits & ((1n << fracBits) - 1n)) !== 0n;
}
function isInfBits(bits: bigint, width: number): boolean {
  return (bits & ((1n << BigInt(width - 1)) - 1n)) === (width === 32 ? 0x7f800000n : 0x7ff0000000000000n);
}
function isZeroBits(bits: bigint, width: number): boolean {
  return (bits & ((1n << BigInt(width - 1)) - 1n)) === 0n;
}
const CANONICAL_NAN = { f32: 0x7fc00000n, f64: 0x7ff8000000000000n } as const;

/**
 * The x86 answer as RISC-V defines the operation:
 *  - a NaN result is RISC-V's canonical NaN (x86 propagates an operand's payload or returns the
 *    negative "real indefinite" NaN);
 *  - an invalid float -> signed integer conversion saturates (NaN and positive overflow to the
 *    largest integer, negative overflow to the smallest) where x86 returns "integer indefinite";
 *  - an out-of-range float -> unsigned conversion (hint bit 0 from x86-oracle.c) gives 0 for
 *    negative values and the largest integer for NaN and positive ones, with NV alone;
 *  - inf * 0 + NaN raises NV on RISC-V (as in SoftFloat) even when the addend is a quiet NaN.
 */
export const adaptX86: Adapt = (rec, value, flags, hints) => {
  if (flags === X86_NOT_SUPPORTED) return null;
  const op = rec.op;
  let f = Number(flags);
  const inWidth = op.operand.endsWith('32') ? 32 : 64;
  if (op.resultFloat && isNaNBits(value & ((1n << BigInt(op.resultBits)) - 1n), op.resultBits)) {
    value = CANONICAL_NAN[op.resultFloat];
  }
  const toInt = /^f(32|64)_to_([iu])(32|64)$/.exec(op.name);
  if (toInt) {
    const signed = toInt[2] === 'i';
    const bits = Number(toInt[3]);
    const negative = ((rec.a >> BigInt(inWidth - 1)) & 1n) === 1n && !isNaNBits(rec.a, inWidth);
    const invalid = signed ? (f & 0x10) !== 0 : (hints & 1n) !== 0n;
    if (invalid) {
      const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
      const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
      value = negative ? min : max;
      f = 0x10;
    }
  }
  if (/_fma$/.test(op.name)) {
    const infTimesZero = (isInfBits(rec.a, inWidth) && isZeroBits(rec.b, inWidth)) || (isZeroBits(rec.a, inWidth) && isInfBits(rec.b, inWidth));
    if (infTimesZero) f |= 0x10;
  }
  return { value, flags: f };
};

/** Flags the vectors of each operation must make the oracle raise (so no test passes vacuously). */
export function requiredFlags(op: FpuOp): number {
  const n = op.name;
  // A tiny sum or difference is always exact (so add/sub never underflow).
  if (/_(add|sub)$/.test(n)) return 0x10 | 0x04 | 0x01;
  if (/_(mul|fma)$/.test(n) || n === 'f64_to_f32') return 0x10 | 0x04 | 0x02 | 0x01;
  if (/_div$/.test(n)) return 0x10 | 0x08 | 0x04 | 0x02 | 0x01;
  if (/_sqrt$/.test(n) || /^f(32|64)_to_[iu]/.test(n)) return 0x10 | 0x01;
  if (/_(eq|lt|le|min|max)$/.test(n) || n === 'f32_to_f64') return 0x10;
  if (n === 'i32_to_f64' || n === 'u32_to_f64' || /_classify$/.test(n)) return 0;
  return 0x01; // integer -> float: only inexact
}
