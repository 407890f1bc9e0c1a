// RV64A (unprivileged ISA chapter 8). Harts never interleave inside a slice, so an AMO is a plain
// read-modify-write. LR/SC: one reservation for the machine (globals.ts), dropped when another
// hart runs (index.ts run) and by every SC; an SC with no matching reservation fails without
// touching memory (QEMU does the same).
import { CONT } from '../op';
import { getX, setX } from '../layout';
import { dropReservation, resAddr, resValid, reserve } from '../globals';
import { afterAtomicWrite, amoHost, lrHost, slowExit } from '../mem';

@inline function sext32(v: u32): u64 {
  return <u64><i64><i32>v;
}

// ---- word ----
export function exec_lr_w(rec: u32, rd: u32, rs1: u32, aq: u32, rl: u32): u64 {
  const h = lrHost(getX(rs1), 4);
  if (!h) return slowExit(rec);
  reserve(h);
  setX(rd, sext32(load<u32>(h)));
  return CONT;
}
export function exec_sc_w(rec: u32, rd: u32, rs1: u32, rs2: u32, aq: u32, rl: u32): u64 {
  const a = getX(rs1);
  const v = getX(rs2);
  if (!resValid) {
    // Alignment is still checked first (a misaligned SC raises, reserved or not).
    if (a & 3) {
      amoHost(a, 4);
      return slowExit(rec);
    }
    setX(rd, 1);
    return CONT;
  }
  const h = amoHost(a, 4);
  if (!h) return slowExit(rec);
  const ok = h == resAddr;
  dropReservation();
  if (ok) store<u32>(h, <u32>v);
  setX(rd, ok ? 0 : 1);
  return afterAtomicWrite(rec);
}

/** op: 0 swap, 1 add, 2 xor, 3 and, 4 or, 5 min, 6 max, 7 minu, 8 maxu; a = memory, b = rs2. */
@inline function amoW(rec: u32, rd: u32, rs1: u32, rs2: u32, op: u32): u64 {
  const h = amoHost(getX(rs1), 4);
  if (!h) return slowExit(rec);
  const b = <u32>getX(rs2);
  const a = load<u32>(h);
  let r: u32;
  switch (op) {
    case 0: r = b; break;
    case 1: r = a + b; break;
    case 2: r = a ^ b; break;
    case 3: r = a & b; break;
    case 4: r = a | b; break;
    case 5: r = <i32>a < <i32>b ? a : b; break;
    case 6: r = <i32>a > <i32>b ? a : b; break;
    case 7: r = a < b ? a : b; break;
    default: r = a > b ? a : b; break;
  }
  store<u32>(h, r);
  setX(rd, sext32(a));
  return afterAtomicWrite(rec);
}
export function exec_amoswap_w(rec: u32, rd: u32, rs1: u32, rs2: u32, aq: u32, rl: u32): u64 {
  return amoW(rec, rd, rs1, rs2, 0);
}
export function exec_amoadd_w(rec: u32, rd: u32, rs1: u32, rs2: u32, aq: u32, rl: u32): u64 {
  return amoW(rec, rd, rs1, rs2, 1);
}
export function exec_amoxor_w(rec: u32, rd: u32, rs1: u32, rs2: u32, aq: u32, rl: u32): u64 {
  return amoW(rec, rd, rs1, rs2, 2);
}
export function exec_amoand_w(rec: u32, rd: u32, rs1: u32, rs2: u32, aq: u32, rl: u32): u64 {
  return amoW(rec, rd, rs1, rs2, 3);
}
export function exec_amoor_w(rec: u32, rd: u32, rs1: u32, rs2: u32, aq: u32, rl: u32): u64 {
  return amoW(rec, rd, rs1, rs2, 4);
}
export function exec_amomin_w(rec: u32, rd: u32, rs1: u32, rs2: u32, aq: u32, rl: u32): u64 {
  return amoW(rec, rd, rs1, rs2, 5);
}
export function exec_amomax_w(rec: u32, rd: u32, rs1: u32, rs2: u32, aq: u32, rl: u32): u64 {
  return amoW(rec, rd, rs1, rs2, 6);
}
export function exec_amominu_w(rec: u32, rd: u32, rs1: u32, rs2: u32, aq: u32, rl: u32): u64 {
  return amoW(rec, rd, rs1, rs2, 7);
}
export function exec_amomaxu_w(rec: u32, rd: u32, rs1: u32, rs2: u32, aq: u32, rl: u32): u64 {
  return amoW(rec, rd, rs1, rs2, 8);
}

// ---- doubleword ----
export function exec_lr_d(rec: u32, rd: u32, rs1: u32, aq: u32, rl: u32): u64 {
  const h = lrHost(getX(rs1), 8);
  if (!h) return slowExit(rec);
  reserve(h);
  setX(rd, load<u64>(h));
  return CONT;
}
export function exec_sc_d(rec: u32, rd: u32, rs1: u32, rs2: u32, aq: u32, rl: u32): u64 {
  const a = getX(rs1);
  const v = getX(rs2);
  if (!resValid) {
    if (a & 7) {
      amoHost(a, 8);
      return slowExit(rec);
    }
    setX(rd, 1);
    return CONT;
  }
  const h = amoHost(a, 8);
  if (!h) return slowExit(rec);
  const ok = h == resAddr;
  dropReservation();
  if (ok) store<u64>(h, v);
  setX(rd, ok ? 0 : 1);
  return afterAtomicWrite(rec);
}

@inline function amoD(rec: u32, rd: u32, rs1: u32, rs2: u32, op: u32): u64 {
  const h = amoHost(getX(rs1), 8);
  if (!h) return slowExit(rec);
  const b = getX(rs2);
  const a = load<u64>(h);
  let r: u64;
  switch (op) {
    case 0: r = b; break;
    case 1: r = a + b; break;
    case 2: r = a ^ b; break;
    case 3: r = a & b; break;
    case 4: r = a | b; break;
    case 5: r = <i64>a < <i64>b ? a : b; break;
    case 6: r = <i64>a > <i64>b ? a : b; break;
    case 7: r = a < b ? a : b; break;
    default: r = a > b ? a : b; break;
  }
  store<u64>(h, r);
  setX(rd, a);
  return afterAtomicWrite(rec);
}
export function exec_amoswap_d(rec: u32, rd: u32, rs1: u32, rs2: u32, aq: u32, rl: u32): u64 {
  return amoD(rec, rd, rs1, rs2, 0);
}
export function exec_amoadd_d(rec: u32, rd: u32, rs1: u32, rs2: u32, aq: u32, rl: u32): u64 {
  return amoD(rec, rd, rs1, rs2, 1);
}
export function exec_amoxor_d(rec: u32, rd: u32, rs1: u32, rs2: u32, aq: u32, rl: u32): u64 {
  return amoD(rec, rd, rs1, rs2, 2);
}
export function exec_amoand_d(rec: u32, rd: u32, rs1: u32, rs2: u32, aq: u32, rl: u32): u64 {
  return amoD(rec, rd, rs1, rs2, 3);
}
export function exec_amoor_d(rec: u32, rd: u32, rs1: u32, rs2: u32, aq: u32, rl: u32): u64 {
  return amoD(rec, rd, rs1, rs2, 4);
}
export function exec_amomin_d(rec: u32, rd: u32, rs1: u32, rs2: u32, aq: u32, rl: u32): u64 {
  return amoD(rec, rd, rs1, rs2, 5);
}
export function exec_amomax_d(rec: u32, rd: u32, rs1: u32, rs2: u32, aq: u32, rl: u32): u64 {
  return amoD(rec, rd, rs1, rs2, 6);
}
export function exec_amominu_d(rec: u32, rd: u32, rs1: u32, rs2: u32, aq: u32, rl: u32): u64 {
  return amoD(rec, rd, rs1, rs2, 7);
}
export function exec_amomaxu_d(rec: u32, rd: u32, rs1: u32, rs2: u32, aq: u32, rl: u32): u64 {
  return amoD(rec, rd, rs1, rs2, 8);
}
