// The translator's intermediate representation ("TCG ops"): what a guest instruction does, in
// a small machine-independent vocabulary of 64-bit operations on temps, guest memory accesses,
// calls to the interpreter's handler, and block terminators. The front end (riscv/frontend.ts)
// writes it, the passes (optimize.ts) rewrite it, the back end (backend.ts) turns it into
// WebAssembly. Its text form (formatBlock) is what the golden tests pin.
//
// Temps: 1..31 are the guest's integer registers x1..x31 (x0 is never a temp: it reads as the
// constant 0 and writes to it are dropped), FIRST_LOCAL and up are values local to one block.

/** A temp number, or a constant (a bigint, always as an unsigned 64-bit pattern). */
export type Arg = number | bigint;

export const FIRST_LOCAL = 32;

export const isConst = (a: Arg): a is bigint => typeof a === 'bigint';
export const isGuestReg = (t: number): boolean => t > 0 && t < FIRST_LOCAL;

/**
 * Binary operations on 64-bit values. The `32` forms operate on the low 32 bits and sign-extend
 * the 32-bit result (RV64's W instructions). Comparisons give 1 or 0. Division and remainder
 * follow the RISC-V M extension (no traps: by zero gives all ones / the dividend; the signed
 * overflow gives the dividend / 0). Shift counts use their low 6 bits (5 for the 32 forms).
 */
export type BinOp =
  | 'add' | 'sub' | 'and' | 'or' | 'xor' | 'shl' | 'shr' | 'sar' | 'mul' | 'mulh' | 'mulhsu' | 'mulhu'
  | 'div' | 'divu' | 'rem' | 'remu'
  | 'add32' | 'sub32' | 'shl32' | 'shr32' | 'sar32' | 'mul32' | 'div32' | 'divu32' | 'rem32' | 'remu32'
  | 'lt' | 'ltu' | 'eq' | 'ne' | 'ge' | 'geu';

export type Cond = 'eq' | 'ne' | 'lt' | 'ge' | 'ltu' | 'geu';

/** Where an op came from: the guest instruction (for precise faults and the budget). */
export interface InsnRef {
  pc: bigint;
  /** The address of the next instruction. */
  npc: bigint;
  /** The instruction's position in its block (0-based). */
  index: number;
}

export type Op =
  | { kind: 'mov'; d: number; a: Arg }
  | { kind: 'bin'; op: BinOp; d: number; a: Arg; b: Arg }
  /** d = guest memory[addr + off], size bytes, sign- or zero-extended. */
  | { kind: 'load'; d: number; addr: Arg; off: bigint; size: 1 | 2 | 4 | 8; signed: boolean; insn: InsnRef }
  /** guest memory[addr + off] = low size bytes of v. */
  | { kind: 'store'; addr: Arg; off: bigint; v: Arg; size: 1 | 2 | 4 | 8; insn: InsnRef }
  /**
   * The interpreter's handler runs the instruction (its one-op block is at `record` in the core's
   * memory): it may read any register, write `writes` (a guest register, or 0), and leave (a trap,
   * a stop, a firmware exit).
   */
  | { kind: 'exec'; record: number; writes: number; text: string; insn: InsnRef }
  /**
   * The instruction `insn` crosses into the page at virtual `va`, whose first 16 bits were `half`
   * when it was translated: unless the fetch TLB maps va and those bits are still there, leave
   * before the instruction (the interpreter runs it).
   */
  | { kind: 'guard'; va: bigint; half: number; insn: InsnRef };

export type Terminator =
  /** Continue at a known pc. */
  | { kind: 'jump'; target: bigint }
  /** Continue at `taken` if cond(a, b), else at `next`. */
  | { kind: 'branch'; cond: Cond; a: Arg; b: Arg; taken: bigint; next: bigint }
  /** Continue at a computed pc (the value of `target`). */
  | { kind: 'indirect'; target: Arg };

export interface IrBlock {
  pc: bigint;
  /** Guest instructions in the block (what it costs of the budget). */
  insns: number;
  ops: Op[];
  end: Terminator;
}

const M64 = (1n << 64n) - 1n;
const u64 = (v: bigint): bigint => v & M64;
const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const s32 = (v: bigint): bigint => BigInt.asIntN(32, v);
const u32 = (v: bigint): bigint => BigInt.asUintN(32, v);
const sx32 = (v: bigint): bigint => u64(s32(v));

/** The value of a binary operation on constants: the reference the back end's code must match. */
export function evalBin(op: BinOp, a: bigint, b: bigint): bigint {
  switch (op) {
    case 'add': return u64(a + b);
    case 'sub': return u64(a - b);
    case 'and': return a & b;
    case 'or': return a | b;
    case 'xor': return a ^ b;
    case 'shl': return u64(a << (b & 63n));
    case 'shr': return a >> (b & 63n);
    case 'sar': return u64(s64(a) >> (b & 63n));
    case 'mul': return u64(a * b);
    case 'mulh': return u64((s64(a) * s64(b)) >> 64n);
    case 'mulhsu': return u64((s64(a) * b) >> 64n);
    case 'mulhu': return (a * b) >> 64n;
    case 'div': return b === 0n ? M64 : u64(s64(b) === -1n ? -s64(a) : bigDiv(s64(a), s64(b)));
    case 'divu': return b === 0n ? M64 : a / b;
    case 'rem': return b === 0n ? a : s64(b) === -1n ? 0n : u64(s64(a) % s64(b));
    case 'remu': return b === 0n ? a : a % b;
    case 'add32': return sx32(a + b);
    case 'sub32': return sx32(a - b);
    case 'shl32': return sx32(u32(a) << (b & 31n));
    case 'shr32': return sx32(u32(a) >> (b & 31n));
    case 'sar32': return sx32(s32(a) >> (b & 31n));
    case 'mul32': return sx32(a * b);
    case 'div32': {
      const x = s32(a);
      const y = s32(b);
      return y === 0n ? M64 : sx32(y === -1n ? -x : bigDiv(x, y));
    }
    case 'divu32': return u32(b) === 0n ? M64 : sx32(u32(a) / u32(b));
    case 'rem32': {
      const x = s32(a);
      const y = s32(b);
      return y === 0n ? sx32(x) : y === -1n ? 0n : sx32(x % y);
    }
    case 'remu32': return u32(b) === 0n ? sx32(a) : sx32(u32(a) % u32(b));
    case 'lt': return s64(a) < s64(b) ? 1n : 0n;
    case 'ltu': return a < b ? 1n : 0n;
    case 'eq': return a === b ? 1n : 0n;
    case 'ne': return a !== b ? 1n : 0n;
    case 'ge': return s64(a) >= s64(b) ? 1n : 0n;
    case 'geu': return a >= b ? 1n : 0n;
  }
}

/** Signed division rounding toward zero (bigint division already does). */
const bigDiv = (a: bigint, b: bigint): bigint => a / b;

export function evalCond(c: Cond, a: bigint, b: bigint): boolean {
  return evalBin(c, a, b) === 1n;
}

// ---- text form ----
const hex = (v: bigint): string => `0x${v.toString(16)}`;
export function formatArg(a: Arg): string {
  if (isConst(a)) return s64(a) >= -4096n && s64(a) <= 4096n ? String(s64(a)) : hex(a);
  return a < FIRST_LOCAL ? `x${a}` : `t${a - FIRST_LOCAL}`;
}

export function formatOp(op: Op): string {
  switch (op.kind) {
    case 'mov': return `${formatArg(op.d)} = ${formatArg(op.a)}`;
    case 'bin': return `${formatArg(op.d)} = ${op.op} ${formatArg(op.a)}, ${formatArg(op.b)}`;
    case 'load': return `${formatArg(op.d)} = load${op.size * 8}${op.signed ? 's' : 'u'} [${formatArg(op.addr)} + ${s64(op.off)}]  @${hex(op.insn.pc)}`;
    case 'store': return `store${op.size * 8} [${formatArg(op.addr)} + ${s64(op.off)}] = ${formatArg(op.v)}  @${hex(op.insn.pc)}`;
    case 'exec': return `exec "${op.text}"${op.writes ? ` -> x${op.writes}` : ''}  @${hex(op.insn.pc)}`;
    case 'guard': return `guard fetch16 [${hex(op.va)}] == 0x${op.half.toString(16)}  @${hex(op.insn.pc)}`;
  }
}

export function formatTerminator(t: Terminator): string {
  switch (t.kind) {
    case 'jump': return `jump ${hex(t.target)}`;
    case 'branch': return `branch ${t.cond} ${formatArg(t.a)}, ${formatArg(t.b)} ? ${hex(t.taken)} : ${hex(t.next)}`;
    case 'indirect': return `jump_indirect ${formatArg(t.target)}`;
  }
}

export function formatBlock(b: IrBlock): string {
  return [`block ${hex(b.pc)} (${b.insns} insns):`, ...b.ops.map((o) => `  ${formatOp(o)}`), `  ${formatTerminator(b.end)}`].join('\n');
}
