// The RISC-V front end: one guest instruction -> IR ops (and a terminator when it ends a block).
// RV64I and M are expressed in the IR, so the back end inlines them (loads and stores with the
// TLB fast path); everything else (CSRs, atomics, floating point, privileged instructions,
// anything illegal) is an `exec` of the interpreter's own handler, so there is one definition of
// what those instructions do. QEMU's target/riscv/insn_trans/trans_rvi.c.inc is the model: a
// handler per mnemonic, most of them one line.
import type { Arg, BinOp, Cond, InsnRef, Op, Terminator } from '../ir';
import { writesX, type GuestInsn } from './decode';

const M64 = (1n << 64n) - 1n;
const c64 = (v: number | bigint): bigint => BigInt.asUintN(64, BigInt(v));

export interface FrontendEnv {
  /** Writes the one-op block the interpreter's handler runs for this instruction; its address. */
  execRecord(raw: number, len: 2 | 4): number;
  /** A fresh block-local temp. */
  temp(): number;
}

export interface Translated {
  ops: Op[];
  /** Set when the instruction ends its block. */
  end?: Terminator;
}

/** Reading register r: x0 is the constant 0. */
const R = (r: number): Arg => (r === 0 ? 0n : r);

const BIN_R: Record<string, BinOp> = {
  add: 'add', sub: 'sub', sll: 'shl', slt: 'lt', sltu: 'ltu', xor: 'xor', srl: 'shr', sra: 'sar', or: 'or', and: 'and',
  addw: 'add32', subw: 'sub32', sllw: 'shl32', srlw: 'shr32', sraw: 'sar32',
  mul: 'mul', mulh: 'mulh', mulhsu: 'mulhsu', mulhu: 'mulhu', div: 'div', divu: 'divu', rem: 'rem', remu: 'remu',
  mulw: 'mul32', divw: 'div32', divuw: 'divu32', remw: 'rem32', remuw: 'remu32',
};
const BIN_I: Record<string, BinOp> = {
  addi: 'add', slti: 'lt', sltiu: 'ltu', xori: 'xor', ori: 'or', andi: 'and', addiw: 'add32',
};
const SHIFT_I: Record<string, BinOp> = {
  slli: 'shl', srli: 'shr', srai: 'sar', slliw: 'shl32', srliw: 'shr32', sraiw: 'sar32',
};
const BRANCH: Record<string, Cond> = { beq: 'eq', bne: 'ne', blt: 'lt', bge: 'ge', bltu: 'ltu', bgeu: 'geu' };
const LOAD: Record<string, { size: 1 | 2 | 4 | 8; signed: boolean }> = {
  lb: { size: 1, signed: true }, lh: { size: 2, signed: true }, lw: { size: 4, signed: true }, ld: { size: 8, signed: false },
  lbu: { size: 1, signed: false }, lhu: { size: 2, signed: false }, lwu: { size: 4, signed: false },
};
const STORE: Record<string, 1 | 2 | 4 | 8> = { sb: 1, sh: 2, sw: 4, sd: 8 };

/** The IR of one instruction at `pc` (its `index`-th in the block). */
export function translateInsn(i: GuestInsn, pc: bigint, index: number, env: FrontendEnv): Translated {
  const f = i.f;
  const npc = (pc + BigInt(i.len)) & M64;
  const insn: InsnRef = { pc, npc, index };
  const rd = f.rd ?? 0;
  const ops: Op[] = [];
  const name = i.name;

  const bin = BIN_R[name];
  if (bin) {
    if (rd) ops.push({ kind: 'bin', op: bin, d: rd, a: R(f.rs1!), b: R(f.rs2!) });
    return { ops };
  }
  const binI = BIN_I[name];
  if (binI) {
    if (rd) ops.push({ kind: 'bin', op: binI, d: rd, a: R(f.rs1!), b: c64(f.imm_i!) });
    return { ops };
  }
  const sh = SHIFT_I[name];
  if (sh) {
    if (rd) ops.push({ kind: 'bin', op: sh, d: rd, a: R(f.rs1!), b: c64(f.shamt ?? f.shamtw!) });
    return { ops };
  }
  const ld = LOAD[name];
  if (ld) {
    // A load into x0 still accesses memory (it can fault, or touch a device).
    ops.push({ kind: 'load', d: rd || env.temp(), addr: R(f.rs1!), off: c64(f.imm_i!), size: ld.size, signed: ld.signed, insn });
    return { ops };
  }
  const st = STORE[name];
  if (st) {
    ops.push({ kind: 'store', addr: R(f.rs1!), off: c64(f.imm_s!), v: R(f.rs2!), size: st, insn });
    return { ops };
  }
  const cond = BRANCH[name];
  if (cond) {
    return { ops, end: { kind: 'branch', cond, a: R(f.rs1!), b: R(f.rs2!), taken: (pc + c64(f.imm_b!)) & M64, next: npc } };
  }
  switch (name) {
    case 'lui':
      if (rd) ops.push({ kind: 'mov', d: rd, a: c64(f.imm_u!) });
      return { ops };
    case 'auipc':
      if (rd) ops.push({ kind: 'mov', d: rd, a: (pc + c64(f.imm_u!)) & M64 });
      return { ops };
    case 'jal':
      if (rd) ops.push({ kind: 'mov', d: rd, a: npc });
      return { ops, end: { kind: 'jump', target: (pc + c64(f.imm_j!)) & M64 } };
    case 'jalr': {
      // The target is computed before rd is written (rd may be rs1).
      const t = env.temp();
      ops.push({ kind: 'bin', op: 'add', d: t, a: R(f.rs1!), b: c64(f.imm_i!) });
      ops.push({ kind: 'bin', op: 'and', d: t, a: t, b: M64 - 1n });
      if (rd) ops.push({ kind: 'mov', d: rd, a: npc });
      return { ops, end: { kind: 'indirect', target: t } };
    }
    case 'fence':
      // Harts never run at the same time: a no-op, as in the interpreter; but PAUSE (pred = W,
      // succ = 0, fm = 0) may end the hart's turn, so the interpreter's handler decides.
      if (!(f.pred === 1 && f.succ === 0 && f.fm === 0)) return { ops };
      break;
  }
  // Everything else runs the interpreter's handler.
  ops.push({ kind: 'exec', record: env.execRecord(i.raw, i.len), writes: writesX(i.def) ? rd : 0, text: name, insn });
  return i.def.endsBlock ? { ops, end: { kind: 'jump', target: npc } } : { ops };
}

/** An instruction the decoder does not know: the handler raises illegal-instruction. */
export function translateIllegal(raw: number, len: 2 | 4, pc: bigint, index: number, env: FrontendEnv): Translated {
  const npc = (pc + BigInt(len)) & M64;
  return {
    ops: [{ kind: 'exec', record: env.execRecord(raw, len), writes: 0, text: 'illegal', insn: { pc, npc, index } }],
    end: { kind: 'jump', target: npc },
  };
}
