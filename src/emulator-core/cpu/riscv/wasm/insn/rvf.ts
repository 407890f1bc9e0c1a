// F (unprivileged ISA chapter 11): single precision, NaN-boxed in the 64-bit f registers.
// Arithmetic goes to the soft-float library (../fpu), which gives RISC-V results and flags for
// every rounding mode; sign injection, moves and loads/stores are bit operations here.
import { CONT, pcOf, rawOf } from '../op';
import { getF, getX, setX } from '../layout';
import { illegalInstruction } from '../trap';
import {
  f32_add, f32_classify, f32_div, f32_eq, f32_fma, f32_le, f32_lt, f32_max, f32_min, f32_mul, f32_sqrt, f32_sub,
  f32_to_i32, f32_to_i64, f32_to_u32, f32_to_u64, i32_to_f32, i64_to_f32, u32_to_f32, u64_to_f32,
} from '../fpu/index';
import { fpBegin, fpDirty, fpEnd, fpLoad, fpOff, fpStore, getS, setS } from './fp';

const SIGN: u32 = 0x8000_0000;

export function exec_flw(rec: u32, rd: u32, rs1: u32, imm: u64): u64 {
  if (fpOff()) return illegalInstruction(rawOf(rec), pcOf(rec));
  return fpLoad(rec, rd, rs1, imm, 4);
}
export function exec_fsw(rec: u32, rs1: u32, rs2: u32, imm: u64): u64 {
  if (fpOff()) return illegalInstruction(rawOf(rec), pcOf(rec));
  return fpStore(rec, rs1, rs2, imm, 4);
}

// ---- fused multiply-add: the variants negate the product and/or the addend ----
function fma(rec: u32, rd: u32, rs1: u32, rs2: u32, rs3: u32, rm: u32, negProd: u32, negAdd: u32): u64 {
  const r = fpBegin(rm);
  if (r > 4) return illegalInstruction(rawOf(rec), pcOf(rec));
  setS(rd, f32_fma(getS(rs1) ^ negProd, getS(rs2), getS(rs3) ^ negAdd, r));
  fpEnd();
  return CONT;
}
export function exec_fmadd_s(rec: u32, rd: u32, rs1: u32, rs2: u32, rs3: u32, rm: u32): u64 {
  return fma(rec, rd, rs1, rs2, rs3, rm, 0, 0);
}
export function exec_fmsub_s(rec: u32, rd: u32, rs1: u32, rs2: u32, rs3: u32, rm: u32): u64 {
  return fma(rec, rd, rs1, rs2, rs3, rm, 0, SIGN);
}
export function exec_fnmsub_s(rec: u32, rd: u32, rs1: u32, rs2: u32, rs3: u32, rm: u32): u64 {
  return fma(rec, rd, rs1, rs2, rs3, rm, SIGN, 0);
}
export function exec_fnmadd_s(rec: u32, rd: u32, rs1: u32, rs2: u32, rs3: u32, rm: u32): u64 {
  return fma(rec, rd, rs1, rs2, rs3, rm, SIGN, SIGN);
}

// ---- arithmetic ----
const OP_ADD: u32 = 0;
const OP_SUB: u32 = 1;
const OP_MUL: u32 = 2;
const OP_DIV: u32 = 3;
function arith(rec: u32, rd: u32, rs1: u32, rs2: u32, rm: u32, op: u32): u64 {
  const r = fpBegin(rm);
  if (r > 4) return illegalInstruction(rawOf(rec), pcOf(rec));
  const a = getS(rs1);
  const b = getS(rs2);
  let v: u32;
  if (op == OP_ADD) v = f32_add(a, b, r);
  else if (op == OP_SUB) v = f32_sub(a, b, r);
  else if (op == OP_MUL) v = f32_mul(a, b, r);
  else v = f32_div(a, b, r);
  setS(rd, v);
  fpEnd();
  return CONT;
}
export function exec_fadd_s(rec: u32, rd: u32, rs1: u32, rs2: u32, rm: u32): u64 {
  return arith(rec, rd, rs1, rs2, rm, OP_ADD);
}
export function exec_fsub_s(rec: u32, rd: u32, rs1: u32, rs2: u32, rm: u32): u64 {
  return arith(rec, rd, rs1, rs2, rm, OP_SUB);
}
export function exec_fmul_s(rec: u32, rd: u32, rs1: u32, rs2: u32, rm: u32): u64 {
  return arith(rec, rd, rs1, rs2, rm, OP_MUL);
}
export function exec_fdiv_s(rec: u32, rd: u32, rs1: u32, rs2: u32, rm: u32): u64 {
  return arith(rec, rd, rs1, rs2, rm, OP_DIV);
}
export function exec_fsqrt_s(rec: u32, rd: u32, rs1: u32, rm: u32): u64 {
  const r = fpBegin(rm);
  if (r > 4) return illegalInstruction(rawOf(rec), pcOf(rec));
  setS(rd, f32_sqrt(getS(rs1), r));
  fpEnd();
  return CONT;
}

// ---- sign injection (no flags, no rounding) ----
function sgnj(rec: u32, rd: u32, rs1: u32, rs2: u32, mode: u32): u64 {
  if (fpOff()) return illegalInstruction(rawOf(rec), pcOf(rec));
  const a = getS(rs1);
  const b = getS(rs2);
  const s = mode == 0 ? b & SIGN : mode == 1 ? ~b & SIGN : (a ^ b) & SIGN;
  setS(rd, (a & ~SIGN) | s);
  fpDirty();
  return CONT;
}
export function exec_fsgnj_s(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  return sgnj(rec, rd, rs1, rs2, 0);
}
export function exec_fsgnjn_s(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  return sgnj(rec, rd, rs1, rs2, 1);
}
export function exec_fsgnjx_s(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  return sgnj(rec, rd, rs1, rs2, 2);
}

// ---- min/max, compares, classify ----
export function exec_fmin_s(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  if (fpBegin(0) > 4) return illegalInstruction(rawOf(rec), pcOf(rec));
  setS(rd, f32_min(getS(rs1), getS(rs2)));
  fpEnd();
  return CONT;
}
export function exec_fmax_s(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  if (fpBegin(0) > 4) return illegalInstruction(rawOf(rec), pcOf(rec));
  setS(rd, f32_max(getS(rs1), getS(rs2)));
  fpEnd();
  return CONT;
}
export function exec_feq_s(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  if (fpBegin(0) > 4) return illegalInstruction(rawOf(rec), pcOf(rec));
  setX(rd, <u64>f32_eq(getS(rs1), getS(rs2)));
  fpEnd();
  return CONT;
}
export function exec_flt_s(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  if (fpBegin(0) > 4) return illegalInstruction(rawOf(rec), pcOf(rec));
  setX(rd, <u64>f32_lt(getS(rs1), getS(rs2)));
  fpEnd();
  return CONT;
}
export function exec_fle_s(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  if (fpBegin(0) > 4) return illegalInstruction(rawOf(rec), pcOf(rec));
  setX(rd, <u64>f32_le(getS(rs1), getS(rs2)));
  fpEnd();
  return CONT;
}
export function exec_fclass_s(rec: u32, rd: u32, rs1: u32): u64 {
  if (fpOff()) return illegalInstruction(rawOf(rec), pcOf(rec));
  setX(rd, <u64>f32_classify(getS(rs1)));
  return CONT;
}

// ---- conversions (W results are sign-extended to 64 bits, WU included) ----
export function exec_fcvt_w_s(rec: u32, rd: u32, rs1: u32, rm: u32): u64 {
  const r = fpBegin(rm);
  if (r > 4) return illegalInstruction(rawOf(rec), pcOf(rec));
  setX(rd, <u64><i64>f32_to_i32(getS(rs1), r));
  fpEnd();
  return CONT;
}
export function exec_fcvt_wu_s(rec: u32, rd: u32, rs1: u32, rm: u32): u64 {
  const r = fpBegin(rm);
  if (r > 4) return illegalInstruction(rawOf(rec), pcOf(rec));
  setX(rd, <u64><i64><i32>f32_to_u32(getS(rs1), r));
  fpEnd();
  return CONT;
}
export function exec_fcvt_l_s(rec: u32, rd: u32, rs1: u32, rm: u32): u64 {
  const r = fpBegin(rm);
  if (r > 4) return illegalInstruction(rawOf(rec), pcOf(rec));
  setX(rd, <u64>f32_to_i64(getS(rs1), r));
  fpEnd();
  return CONT;
}
export function exec_fcvt_lu_s(rec: u32, rd: u32, rs1: u32, rm: u32): u64 {
  const r = fpBegin(rm);
  if (r > 4) return illegalInstruction(rawOf(rec), pcOf(rec));
  setX(rd, f32_to_u64(getS(rs1), r));
  fpEnd();
  return CONT;
}
export function exec_fcvt_s_w(rec: u32, rd: u32, rs1: u32, rm: u32): u64 {
  const r = fpBegin(rm);
  if (r > 4) return illegalInstruction(rawOf(rec), pcOf(rec));
  setS(rd, i32_to_f32(<i32>getX(rs1), r));
  fpEnd();
  return CONT;
}
export function exec_fcvt_s_wu(rec: u32, rd: u32, rs1: u32, rm: u32): u64 {
  const r = fpBegin(rm);
  if (r > 4) return illegalInstruction(rawOf(rec), pcOf(rec));
  setS(rd, u32_to_f32(<u32>getX(rs1), r));
  fpEnd();
  return CONT;
}
export function exec_fcvt_s_l(rec: u32, rd: u32, rs1: u32, rm: u32): u64 {
  const r = fpBegin(rm);
  if (r > 4) return illegalInstruction(rawOf(rec), pcOf(rec));
  setS(rd, i64_to_f32(<i64>getX(rs1), r));
  fpEnd();
  return CONT;
}
export function exec_fcvt_s_lu(rec: u32, rd: u32, rs1: u32, rm: u32): u64 {
  const r = fpBegin(rm);
  if (r > 4) return illegalInstruction(rawOf(rec), pcOf(rec));
  setS(rd, u64_to_f32(getX(rs1), r));
  fpEnd();
  return CONT;
}

// ---- moves: rawOf(rec) bits, no NaN-box check on FMV.X.W (it moves the low 32 bits as they are) ----
export function exec_fmv_x_w(rec: u32, rd: u32, rs1: u32): u64 {
  if (fpOff()) return illegalInstruction(rawOf(rec), pcOf(rec));
  setX(rd, <u64><i64><i32>getF(rs1));
  return CONT;
}
export function exec_fmv_w_x(rec: u32, rd: u32, rs1: u32): u64 {
  if (fpOff()) return illegalInstruction(rawOf(rec), pcOf(rec));
  setS(rd, <u32>getX(rs1));
  fpDirty();
  return CONT;
}

