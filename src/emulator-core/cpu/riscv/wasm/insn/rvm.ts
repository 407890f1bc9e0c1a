// RV64M (unprivileged ISA chapter 7). Division by zero and signed overflow do not trap: they give
// the results table 7.1 specifies.
import { CONT } from '../op';
import { getX, setX } from '../layout';

/** High 64 bits of the unsigned 128-bit product (WebAssembly has no 64x64->128 multiply). */
export function mulhu64(a: u64, b: u64): u64 {
  const al = a & 0xffff_ffff;
  const ah = a >> 32;
  const bl = b & 0xffff_ffff;
  const bh = b >> 32;
  const ll = al * bl;
  const lh = al * bh;
  const hl = ah * bl;
  const hh = ah * bh;
  const mid = (ll >> 32) + (lh & 0xffff_ffff) + (hl & 0xffff_ffff);
  return hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

@inline function sext32(v: u64): u64 {
  return <u64><i64><i32>v;
}

@inline export function exec_mul(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  setX(rd, getX(rs1) * getX(rs2));
  return CONT;
}
export function exec_mulh(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  const a = getX(rs1);
  const b = getX(rs2);
  let h = mulhu64(a, b);
  if (<i64>a < 0) h -= b;
  if (<i64>b < 0) h -= a;
  setX(rd, h);
  return CONT;
}
export function exec_mulhsu(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  const a = getX(rs1);
  const b = getX(rs2);
  let h = mulhu64(a, b);
  if (<i64>a < 0) h -= b;
  setX(rd, h);
  return CONT;
}
export function exec_mulhu(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  setX(rd, mulhu64(getX(rs1), getX(rs2)));
  return CONT;
}
export function exec_div(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  const a = <i64>getX(rs1);
  const b = <i64>getX(rs2);
  let q: i64;
  if (b == 0) q = -1;
  else if (b == -1) q = <i64>(0 - <u64>a); // also MIN / -1 = MIN without the wasm trap
  else q = a / b;
  setX(rd, <u64>q);
  return CONT;
}
export function exec_divu(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  const a = getX(rs1);
  const b = getX(rs2);
  setX(rd, b == 0 ? <u64>-1 : a / b);
  return CONT;
}
export function exec_rem(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  const a = <i64>getX(rs1);
  const b = <i64>getX(rs2);
  let r: i64;
  if (b == 0) r = a;
  else if (b == -1) r = 0;
  else r = a % b;
  setX(rd, <u64>r);
  return CONT;
}
export function exec_remu(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  const a = getX(rs1);
  const b = getX(rs2);
  setX(rd, b == 0 ? a : a % b);
  return CONT;
}
@inline export function exec_mulw(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  setX(rd, sext32(getX(rs1) * getX(rs2)));
  return CONT;
}
export function exec_divw(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  const a = <i32>getX(rs1);
  const b = <i32>getX(rs2);
  let q: i32;
  if (b == 0) q = -1;
  else if (b == -1) q = <i32>(0 - <u32>a);
  else q = a / b;
  setX(rd, <u64><i64>q);
  return CONT;
}
export function exec_divuw(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  const a = <u32>getX(rs1);
  const b = <u32>getX(rs2);
  setX(rd, sext32(b == 0 ? 0xffff_ffff : a / b));
  return CONT;
}
export function exec_remw(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  const a = <i32>getX(rs1);
  const b = <i32>getX(rs2);
  let r: i32;
  if (b == 0) r = a;
  else if (b == -1) r = 0;
  else r = a % b;
  setX(rd, <u64><i64>r);
  return CONT;
}
export function exec_remuw(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  const a = <u32>getX(rs1);
  const b = <u32>getX(rs2);
  setX(rd, sext32(b == 0 ? a : a % b));
  return CONT;
}
