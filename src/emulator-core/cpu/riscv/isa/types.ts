// The shapes of the generated instruction table (table.gen.ts, from insn32.decode/insn16.decode).

/** A bit field: segments [hi, lo] most significant first, concatenated, then << shl, sign-extended if signed, + add. */
export interface FieldDef {
  readonly segs: readonly (readonly [number, number])[];
  readonly signed: boolean;
  readonly shl: number;
  readonly add: number;
}

/** How an operand is shown: x/f registers, immediates, pc-relative offsets, CSR numbers, ... */
export type OperandKind = 'x' | 'f' | 'imm' | 'pcrel' | 'csr' | 'rm' | 'fence' | 'ord';

export interface FormatDef {
  readonly operands: readonly { readonly field: string; readonly kind: OperandKind }[];
  /** Disassembly template: {field} is replaced by the operand. */
  readonly asm: string;
}

export interface Insn32Def {
  readonly name: string;
  /** The extension; its handlers live in wasm/insn/<ext>.ts. */
  readonly ext: string;
  readonly format: string;
  readonly mask: number;
  readonly match: number;
  /** Ends a decoded block: it may transfer control, reads the instruction count, or is SYSTEM. */
  readonly endsBlock: boolean;
}

export interface Insn16Def {
  readonly name: string;
  readonly mask: number;
  readonly match: number;
  /** The 32-bit instruction it expands to, with each operand a constant or a 16-bit field. */
  readonly target: string;
  readonly assign: Readonly<Record<string, number | string>>;
  /** Encodings the spec reserves: the word is illegal when the field has this value. */
  readonly reserved: readonly { readonly field: string; readonly value: number }[];
}
