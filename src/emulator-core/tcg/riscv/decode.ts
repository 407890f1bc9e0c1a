// Instruction decoding for the translator: the same table as the interpreter and the
// disassembler (cpu/riscv/isa), looked up by major opcode instead of scanned, with the 16-bit
// expansions cached, because a boot translates tens of thousands of instructions.
import { decode16, extractField } from '../../cpu/riscv/isa/decode';
import type { FieldDef } from '../../cpu/riscv/isa/types';
import { fields32, formats, insns32 } from '../../cpu/riscv/isa/table.gen';
import type { Insn32Def } from '../../cpu/riscv/isa/types';

export interface GuestInsn {
  /** The mnemonic of the 32-bit instruction (a compressed one's expansion). */
  name: string;
  def: Insn32Def;
  /** The 32-bit form (a compressed instruction's expansion). */
  word: number;
  /** The bits as fetched (16 or 32 of them). */
  raw: number;
  len: 2 | 4;
  /** Operand fields by name (registers as numbers, immediates sign-extended). */
  f: Record<string, number>;
}

const popcount = (n: number): number => {
  let c = 0;
  for (let v = n >>> 0; v; v &= v - 1) c++;
  return c;
};

/** Candidates by major opcode (bits 6:0), most specific pattern first, as decode32 orders them. */
const byOpcode: Insn32Def[][] = Array.from({ length: 128 }, () => []);
for (const i of [...insns32].sort((a, b) => popcount(b.mask) - popcount(a.mask))) {
  for (let op = 0; op < 128; op++) if (((op & i.mask & 0x7f) >>> 0) === (i.match & 0x7f)) byOpcode[op]!.push(i);
}

/** 16-bit word -> its 32-bit expansion; 0 = not decoded yet, -1 = illegal. */
const expansions = new Int32Array(0x10000);

function expand(half: number): number | undefined {
  let x = expansions[half]!;
  if (x === 0) {
    x = decode16(half)?.expansion ?? -1;
    expansions[half] = x;
  }
  return x === -1 ? undefined : x >>> 0;
}

/**
 * A field's extractor in 32-bit integer operations (extractField computes in doubles with powers
 * of two, which showed in the worker's profile); every field of the table fits 32 bits.
 */
function extractor(f: FieldDef): (w: number) => number {
  const segs = f.segs.map(([hi, lo]) => ({ lo, n: hi - lo + 1, mask: hi - lo + 1 >= 32 ? -1 : (1 << (hi - lo + 1)) - 1 }));
  const width = segs.reduce((a, s) => a + s.n, 0);
  const shift = 32 - width;
  return (w: number): number => {
    let v = 0;
    for (const s of segs) v = (v << s.n) | ((w >>> s.lo) & s.mask);
    if (f.signed) v = (v << shift) >> shift;
    else v >>>= 0;
    return v * 2 ** f.shl + f.add;
  };
}
const extract32 = Object.fromEntries(Object.entries(fields32).map(([name, f]) => [name, extractor(f)]));
/** Each format's operand fields with their extractors. */
const operandsOf = Object.fromEntries(
  Object.entries(formats).map(([name, fmt]) => [name, fmt.operands.map((o) => [o.field, extract32[o.field]!] as const)]),
);

function decodeWord(word: number): { def: Insn32Def; f: Record<string, number> } | undefined {
  const w = word >>> 0;
  const def = byOpcode[w & 0x7f]!.find((i) => ((w & i.mask) >>> 0) === i.match);
  if (!def) return undefined;
  const f: Record<string, number> = {};
  for (const [field, x] of operandsOf[def.format]!) f[field] = x(w);
  return { def, f };
}

/** The table's own extraction, for the test that the fast one agrees with it. */
export const referenceField = (field: string, w: number): number => extractField(fields32[field]!, w >>> 0);
export const fastField = (field: string, w: number): number => extract32[field]!(w >>> 0);

/**
 * The instruction whose first 16 bits are `lo` (and next 16 `hi`, read only for a 32-bit one);
 * undefined if it is illegal (the interpreter's handler raises the trap).
 */
export function decodeGuest(lo: number, hi: () => number): GuestInsn | undefined {
  if ((lo & 3) !== 3) {
    const x = expand(lo & 0xffff);
    if (x === undefined) return undefined;
    const d = decodeWord(x);
    return d && { name: d.def.name, def: d.def, word: x, raw: lo & 0xffff, len: 2, f: d.f };
  }
  const word = ((lo & 0xffff) | (hi() << 16)) >>> 0;
  const d = decodeWord(word);
  return d && { name: d.def.name, def: d.def, word, raw: word, len: 4, f: d.f };
}

/** Whether the instruction writes integer register rd (its format's rd is an x register). */
export function writesX(def: Insn32Def): boolean {
  return formats[def.format]!.operands.some((o) => o.field === 'rd' && o.kind === 'x');
}
