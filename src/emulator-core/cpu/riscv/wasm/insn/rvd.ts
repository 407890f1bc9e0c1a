// D (unprivileged ISA chapter 12): double precision; conversions to and from single NaN-box.
import { CONT, pcOf, rawOf } from '../op';
import { getF, getX, setF, setX } from '../layout';
import { illegalInstruction } from '../trap';
import {
  f32_to_f64, f64_add, f64_classify, f64_div, f64_eq, f64_fma, f64_le, f64_lt, f64_max, f64_min, f64_mul, f64_sqrt,
  f64_sub, f64_to_f32, f64_to_i32, f64_to_i64, f64_to_u32, f64_to_u64, i32_to_f64, i64_to_f64, u32_to_f64, u64_to_f64,
} from '../fpu/index';
import { fpBegin, fpDirty, fpEnd, fpLoad, fpOff, fpStore, getS, setS } from './fp';

const SIGN: u64 = 0x8000_0000_0000_0000;

export function exec_fld(rec: u32, rd: u32, rs1: u32, imm: u64): u64 {
  if (fpOff()) return illegalInstruction(rawOf(rec), pcOf(rec));
  return fpLoad(rec, rd, rs1, imm, 8);
}
export function exec_fsd(rec: u32, rs1: u32, rs2: u32, imm: u64): u64 {
  if (fpOff()) return illegalInstruction(rawOf(rec), pcOf(rec));
  return fpStore(rec, rs1, rs2, imm, 8);
}

function fma(rec: u32, rd: u32, rs1: u32, rs2: u32, rs3: u32, rm: u32, negProd: u64, negAdd: u64): u64 {
  const r = fpBegin(rm);
  if (r > 4) return illegalInstruction(rawOf(rec), pcOf(rec));
  setF(rd, f64_fma(getF(rs1) ^ negProd, getF(rs2), getF(rs3) ^ negAdd, r));
  fpEnd();
  return CONT;
}
export function exec_fmadd_d(rec: u32, rd: u32, rs1: u32, rs2: u32, rs3: u32, rm: u32): u64 {
  return fma(rec, rd, rs1, rs2, rs3, rm, 0, 0);
}
export function exec_fmsub_d(rec: u32, rd: u32, rs1: u32, rs2: u32, rs3: u32, rm: u32): u64 {
  return fma(rec, rd, rs1, rs2, rs3, rm, 0, SIGN);
}
export function exec_fnmsub_d(rec: u32, rd: u32, rs1: u32, rs2: u32, rs3: u32, rm: u32): u64 {
  return fma(rec, rd, rs1, rs2, rs3, rm, SIGN, 0);
}
export function exec_fnmadd_d(rec: u32, rd: u32, rs1: u32, rs2: u32, rs3: u32, rm: u32): u64 {
  return fma(rec, rd, rs1, rs2, rs3, rm, SIGN, SIGN);
}

const OP_ADD: u32 = 0;
const OP_SUB: u32 = 1;
const OP_MUL: u32 = 2;
const OP_DIV: u32 = 3;
function arith(rec: u32, rd: u32, rs1: u32, rs2: u32, rm: u32, op: u32): u64 {
  const r = fpBegin(rm);
  if (r > 4) return illegalInstruction(rawOf(rec), pcOf(rec));
  const a = getF(rs1);
  const b = getF(rs2);
  let v: u64;
  if (op == OP_ADD) v = f64_add(a, b, r);
  else if (op == OP_SUB) v = f64_sub(a, b, r);
  else if (op == OP_MUL) v = f64_mul(a, b, r);
  else v = f64_div(a, b, r);
  setF(rd, v);
  fpEnd();
  return CONT;
}
export function exec_fadd_d(rec: u32, rd: u32, rs1: u32, rs2: u32, rm: u32): u64 {
  return arith(rec, rd, rs1, rs2, rm, OP_ADD);
}
export function exec_fsub_d(rec: u32, rd: u32, rs1: u32, rs2: u32, rm: u32): u64 {
  return arith(rec, rd, rs1, rs2, rm, OP_SUB);
}
export function exec_fmul_d(rec: u32, rd: u32, rs1: u32, rs2: u32, rm: u32): u64 {
  return arith(rec, rd, rs1, rs2, rm, OP_MUL);
}
export function exec_fdiv_d(rec: u32, rd: u32, rs1: u32, rs2: u32, rm: u32): u64 {
  return arith(rec, rd, rs1, rs2, rm, OP_DIV);
}
export function exec_fsqrt_d(rec: u32, rd: u32, rs1: u32, rm: u32): u64 {
  const r = fpBegin(rm);
  if (r > 4) return illegalInstruction(rawOf(rec), pcOf(rec));
  setF(rd, f64_sqrt(getF(rs1), r));
  fpEnd();
  return CONT;
}

function sgnj(rec: u32, rd: u32, rs1: u32, rs2: u32, mode: u32): u64 {
  if (fpOff()) return illegalInstruction(rawOf(rec), pcOf(rec));
  const a = getF(rs1);
  const b = getF(rs2);
  const s = mode == 0 ? b & SIGN : mode == 1 ? ~b & SIGN : (a ^ b) & SIGN;
  setF(rd, (a & ~SIGN) | s);
  fpDirty();
  return CONT;
}
export function exec_fsgnj_d(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  return sgnj(rec, rd, rs1, rs2, 0);
}
export function exec_fsgnjn_d(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  return sgnj(rec, rd, rs1, rs2, 1);
}
export function exec_fsgnjx_d(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  return sgnj(rec, rd, rs1, rs2, 2);
}

export function exec_fmin_d(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  if (fpBegin(0) > 4) return illegalInstruction(rawOf(rec), pcOf(rec));
  setF(rd, f64_min(getF(rs1), getF(rs2)));
  fpEnd();
  return CONT;
}
export function exec_fmax_d(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  if (fpBegin(0) > 4) return illegalInstruction(rawOf(rec), pcOf(rec));
  setF(rd, f64_max(getF(rs1), getF(rs2)));
  fpEnd();
  return CONT;
}
export function exec_feq_d(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  if (fpBegin(0) > 4) return illegalInstruction(rawOf(rec), pcOf(rec));
  setX(rd, <u64>f64_eq(getF(rs1), getF(rs2)));
  fpEnd();
  return CONT;
}
export function exec_flt_d(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  if (fpBegin(0) > 4) return illegalInstruction(rawOf(rec), pcOf(rec));
  setX(rd, <u64>f64_lt(getF(rs1), getF(rs2)));
  fpEnd();
  return CONT;
}
export function exec_fle_d(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  if (fpBegin(0) > 4) return illegalInstruction(rawOf(rec), pcOf(rec));
  setX(rd, <u64>f64_le(getF(rs1), getF(rs2)));
  fpEnd();
  return CONT;
}
export function exec_fclass_d(rec: u32, rd: u32, rs1: u32): u64 {
  if (fpOff()) return illegalInstruction(rawOf(rec), pcOf(rec));
  setX(rd, <u64>f64_classify(getF(rs1)));
  return CONT;
}

// ---- conversions ----
export function exec_fcvt_s_d(rec: u32, rd: u32, rs1: u32, rm: u32): u64 {
  const r = fpBegin(rm);
  if (r > 4) return illegalInstruction(rawOf(rec), pcOf(rec));
  setS(rd, f64_to_f32(getF(rs1), r));
  fpEnd();
  return CONT;
}
/** Exact, but the rm field is still checked (a reserved rm is illegal, as QEMU). */
export function exec_fcvt_d_s(rec: u32, rd: u32, rs1: u32, rm: u32): u64 {
  const r = fpBegin(rm);
  if (r > 4) return illegalInstruction(rawOf(rec), pcOf(rec));
  setF(rd, f32_to_f64(getS(rs1)));
  fpEnd();
  return CONT;
}
export function exec_fcvt_w_d(rec: u32, rd: u32, rs1: u32, rm: u32): u64 {
  const r = fpBegin(rm);
  if (r > 4) return illegalInstruction(rawOf(rec), pcOf(rec));
  setX(rd, <u64><i64>f64_to_i32(getF(rs1), r));
  fpEnd();
  return CONT;
}
export function exec_fcvt_wu_d(rec: u32, rd: u32, rs1: u32, rm: u32): u64 {
  const r = fpBegin(rm);
  if (r > 4) return illegalInstruction(rawOf(rec), pcOf(rec));
  setX(rd, <u64><i64><i32>f64_to_u32(getF(rs1), r));
  fpEnd();
  return CONT;
}
export function exec_fcvt_l_d(rec: u32, rd: u32, rs1: u32, rm: u32): u64 {
  const r = fpBegin(rm);
  if (r > 4) return illegalInstruction(rawOf(rec), pcOf(rec));
  setX(rd, <u64>f64_to_i64(getF(rs1), r));
  fpEnd();
  return CONT;
}
export function exec_fcvt_lu_d(rec: u32, rd: u32, rs1: u32, rm: u32): u64 {
  const r = fpBegin(rm);
  if (r > 4) return illegalInstruction(rawOf(rec), pcOf(rec));
  setX(rd, f64_to_u64(getF(rs1), r));
  fpEnd();
  return CONT;
}
export function exec_fcvt_d_w(rec: u32, rd: u32, rs1: u32, rm: u32): u64 {
  const r = fpBegin(rm);
  if (r > 4) return illegalInstruction(rawOf(rec), pcOf(rec));
  setF(rd, i32_to_f64(<i32>getX(rs1), r));
  fpEnd();
  return CONT;
}
export function exec_fcvt_d_wu(rec: u32, rd: u32, rs1: u32, rm: u32): u64 {
  const r = fpBegin(rm);
  if (r > 4) return illegalInstruction(rawOf(rec), pcOf(rec));
  setF(rd, u32_to_f64(<u32>getX(rs1), r));
  fpEnd();
  return CONT;
}
export function exec_fcvt_d_l(rec: u32, rd: u32, rs1: u32, rm: u32): u64 {
  const r = fpBegin(rm);
  if (r > 4) return illegalInstruction(rawOf(rec), pcOf(rec));
  setF(rd, i64_to_f64(<i64>getX(rs1), r));
  fpEnd();
  return CONT;
}
export function exec_fcvt_d_lu(rec: u32, rd: u32, rs1: u32, rm: u32): u64 {
  const r = fpBegin(rm);
  if (r > 4) return illegalInstruction(rawOf(rec), pcOf(rec));
  setF(rd, u64_to_f64(getX(rs1), r));
  fpEnd();
  return CONT;
}

export function exec_fmv_x_d(rec: u32, rd: u32, rs1: u32): u64 {
  if (fpOff()) return illegalInstruction(rawOf(rec), pcOf(rec));
  setX(rd, getF(rs1));
  return CONT;
}
export function exec_fmv_d_x(rec: u32, rd: u32, rs1: u32): u64 {
  if (fpOff()) return illegalInstruction(rawOf(rec), pcOf(rec));
  setF(rd, getX(rs1));
  fpDirty();
  return CONT;
}
