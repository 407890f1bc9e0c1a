// The operations the FPU oracle tests exercise, numbered as in the batch format shared by the
// three engines: our wasm build (fpu/test-entry.ts runBatch), the bare-metal RISC-V program run
// under qemu-system-riscv64 (riscv-oracle.c) and the x86-64 SSE program (x86-oracle.c). The C
// programs get these numbers from a header generated from this table (cHeader below).

/** What the operand bits mean (for the vector generator). */
export type OperandKind = 'f32' | 'f64' | 'i32' | 'u32' | 'i64' | 'u64';

export interface FpuOp {
  readonly id: number;
  readonly name: string;
  /** Operand count and kind. */
  readonly arity: 1 | 2 | 3;
  readonly operand: OperandKind;
  /** Whether rm matters (otherwise the op runs once, with rm 0). */
  readonly rounds: boolean;
  /** Significant result bits: results are compared modulo 2^resultBits (RISC-V sign-extends 32-bit results in x registers). */
  readonly resultBits: 32 | 64;
  /** The result is a float of this format (NaN results must be canonical). */
  readonly resultFloat?: 'f32' | 'f64';
}

function table(): FpuOp[] {
  const ops: FpuOp[] = [];
  const add = (name: string, arity: 1 | 2 | 3, operand: OperandKind, rounds: boolean, resultBits: 32 | 64, resultFloat?: 'f32' | 'f64') =>
    ops.push({ id: ops.length, name, arity, operand, rounds, resultBits, resultFloat });
  for (const f of ['f32', 'f64'] as const) {
    const w = f === 'f32' ? 32 : 64;
    add(`${f}_add`, 2, f, true, w, f);
    add(`${f}_sub`, 2, f, true, w, f);
    add(`${f}_mul`, 2, f, true, w, f);
    add(`${f}_div`, 2, f, true, w, f);
    add(`${f}_sqrt`, 1, f, true, w, f);
    add(`${f}_fma`, 3, f, true, w, f);
    add(`${f}_eq`, 2, f, false, 64);
    add(`${f}_lt`, 2, f, false, 64);
    add(`${f}_le`, 2, f, false, 64);
    add(`${f}_min`, 2, f, false, w, f);
    add(`${f}_max`, 2, f, false, w, f);
    add(`${f}_classify`, 1, f, false, 64);
    add(`${f}_to_i32`, 1, f, true, 32);
    add(`${f}_to_u32`, 1, f, true, 32);
    add(`${f}_to_i64`, 1, f, true, 64);
    add(`${f}_to_u64`, 1, f, true, 64);
    add(`i32_to_${f}`, 1, 'i32', true, w, f);
    add(`u32_to_${f}`, 1, 'u32', true, w, f);
    add(`i64_to_${f}`, 1, 'i64', true, w, f);
    add(`u64_to_${f}`, 1, 'u64', true, w, f);
  }
  add('f32_to_f64', 1, 'f32', false, 64, 'f64');
  add('f64_to_f32', 1, 'f64', true, 32, 'f32');
  return ops;
}

export const FPU_OPS: readonly FpuOp[] = table();

export function opByName(name: string): FpuOp {
  const op = FPU_OPS.find((o) => o.name === name);
  if (!op) throw new Error(`unknown FPU op ${name}`);
  return op;
}

export const ROUNDING_MODES = ['RNE', 'RTZ', 'RDN', 'RUP', 'RMM'] as const;

/** `#define OP_F32_ADD 0` ... for the C oracles. */
export function cHeader(): string {
  return FPU_OPS.map((o) => `#define OP_${o.name.toUpperCase()} ${o.id}\n`).join('');
}

// The batch format (little-endian): a record is {op: u32, rm: u32, a: u64, b: u64, c: u64},
// a result is {value: u64, fflags: u64}. Single-precision operands sit in the low 32 bits.
export const RECORD_BYTES = 32;
export const RESULT_BYTES = 16;
