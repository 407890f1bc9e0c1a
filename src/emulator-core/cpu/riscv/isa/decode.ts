// Decoding and encoding from the generated table (table.gen.ts), for the disassembler and the
// tests. The interpreter has its own generated decision tree (wasm/decode.gen.ts) from the same
// source; the tests check that the two agree.
import { fields16, fields32, formats, insns16, insns32 } from './table.gen';
import type { FieldDef, Insn16Def, Insn32Def } from './types';

const popcount = (n: number): number => {
  let c = 0;
  for (let v = n >>> 0; v; v &= v - 1) c++;
  return c;
};

/** Most specific pattern first, so overlapping encodings resolve as the spec says. */
const byMask32 = [...insns32].sort((a, b) => popcount(b.mask) - popcount(a.mask));
const byMask16 = [...insns16].sort((a, b) => popcount(b.mask) - popcount(a.mask));
const insnByName = new Map(insns32.map((i) => [i.name, i]));

/** The value of `field` in the instruction bits `word` (signed fields sign-extended). */
export function extractField(f: FieldDef, word: number): number {
  let v = 0;
  let width = 0;
  for (const [hi, lo] of f.segs) {
    const w = hi - lo + 1;
    v = v * 2 ** w + ((word >>> lo) & (2 ** w - 1));
    width += w;
  }
  if (f.signed && v >= 2 ** (width - 1)) v -= 2 ** width;
  return v * 2 ** f.shl + f.add;
}

/** The bits of `word` for `field` = value (the inverse of extractField; value must fit). */
export function insertField(f: FieldDef, value: number): number {
  let v = (value - f.add) / 2 ** f.shl;
  let out = 0;
  for (let i = f.segs.length - 1; i >= 0; i--) {
    const [hi, lo] = f.segs[i]!;
    const w = hi - lo + 1;
    const part = ((v % 2 ** w) + 2 ** w) % 2 ** w;
    out |= part << lo;
    v = Math.floor(v / 2 ** w);
  }
  return out >>> 0;
}

export interface Decoded32 {
  insn: Insn32Def;
  operands: Record<string, number>;
}

export function decode32(word: number): Decoded32 | undefined {
  const w = word >>> 0;
  const insn = byMask32.find((i) => ((w & i.mask) >>> 0) === i.match);
  if (!insn) return undefined;
  const operands: Record<string, number> = {};
  for (const op of formats[insn.format]!.operands) operands[op.field] = extractField(fields32[op.field]!, w);
  return { insn, operands };
}

export function encode32(name: string, operands: Record<string, number> = {}): number {
  const insn = insnByName.get(name);
  if (!insn) throw new Error(`no instruction ${name}`);
  let w = insn.match;
  for (const op of formats[insn.format]!.operands) {
    const v = operands[op.field] ?? 0;
    const bits = insertField(fields32[op.field]!, v);
    if (extractField(fields32[op.field]!, bits) !== v) throw new RangeError(`${name}: ${op.field}=${v} does not fit`);
    w |= bits;
  }
  return w >>> 0;
}

export interface Decoded16 {
  insn: Insn16Def;
  /** The 32-bit instruction it stands for. */
  expansion: number;
}

/** The compressed instruction in `half` and its expansion; undefined if illegal or reserved. */
export function decode16(half: number): Decoded16 | undefined {
  const h = half & 0xffff;
  if ((h & 3) === 3) return undefined;
  const insn = byMask16.find((i) => (h & i.mask) === i.match);
  if (!insn) return undefined;
  for (const r of insn.reserved) if (extractField(fields16[r.field]!, h) === r.value) return undefined;
  const operands: Record<string, number> = {};
  for (const [dst, src] of Object.entries(insn.assign)) {
    operands[dst] = typeof src === 'number' ? src : extractField(fields16[src]!, h);
  }
  return { insn, expansion: encode32(insn.target, operands) };
}

export { insns16, insns32 };
