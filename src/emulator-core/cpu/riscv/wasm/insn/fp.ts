// Shared by the F and D handlers (unprivileged ISA chapters 11-12): the mstatus.FS gate and dirty
// tracking, rounding-mode resolution, NaN boxing, and FP loads/stores through the memory paths.
import { CONT } from '../op';
import { ST_FCSR, ST_MSTATUS, getF, getX, setF, setSt64, st64 } from '../layout';
import { MSTATUS_FS } from '../bits';
import { SLOW_FAULT, slowEvent } from '../globals';
import { loadSlow, readHost, slowExit, storeSlow, writeHost } from '../mem';
import { clearFlags, fflags } from '../fpu/index';

/** FP instructions raise illegal-instruction while mstatus.FS is Off. */
@inline export function fpOff(): bool {
  return (st64(ST_MSTATUS) & MSTATUS_FS) == 0;
}

/** An instruction that changed FP state marks it Dirty (SD follows, computed on read). */
@inline export function fpDirty(): void {
  setSt64(ST_MSTATUS, st64(ST_MSTATUS) | MSTATUS_FS);
}

/** The rounding mode to use (7 = dynamic: frm), or 8 when it is reserved (illegal instruction). */
@inline export function resolveRm(rm: u32): u32 {
  const r = rm == 7 ? <u32>(st64(ST_FCSR) >> 5) & 7 : rm;
  return r <= 4 ? r : 8;
}

/** Starts an arithmetic FP op: 8 if it must raise illegal-instruction, else the rounding mode. */
export function fpBegin(rm: u32): u32 {
  if (fpOff()) return 8;
  const r = resolveRm(rm);
  if (r <= 4) clearFlags();
  return r;
}

/** Accrues the fpu's exception flags into fcsr and marks the FP state dirty. */
export function fpEnd(): void {
  setSt64(ST_FCSR, st64(ST_FCSR) | <u64>(fflags & 0x1f));
  fpDirty();
}

export const CANONICAL_NAN_S: u32 = 0x7fc0_0000;
export const CANONICAL_NAN_D: u64 = 0x7ff8_0000_0000_0000;
const BOX: u64 = 0xffff_ffff_0000_0000;

/** A single read from an f register: improperly NaN-boxed values read as the canonical NaN. */
@inline export function getS(r: u32): u32 {
  const v = getF(r);
  return (v & BOX) == BOX ? <u32>v : CANONICAL_NAN_S;
}
@inline export function setS(r: u32, v: u32): void {
  setF(r, BOX | <u64>v);
}

export function fpLoad(rec: u32, rd: u32, rs1: u32, imm: u64, size: u32): u64 {
  const a = getX(rs1) + imm;
  const h = readHost(a, size);
  let v: u64;
  if (h) v = size == 8 ? load<u64>(h) : <u64>load<u32>(h);
  else {
    v = loadSlow(a, size);
    if (slowEvent == SLOW_FAULT) return slowExit(rec);
  }
  setF(rd, size == 8 ? v : BOX | v);
  fpDirty();
  return slowEvent ? slowExit(rec) : CONT;
}

export function fpStore(rec: u32, rs1: u32, rs2: u32, imm: u64, size: u32): u64 {
  const a = getX(rs1) + imm;
  const v = getF(rs2);
  const h = writeHost(a, size);
  if (h) {
    if (size == 8) store<u64>(h, v);
    else store<u32>(h, <u32>v);
  } else {
    storeSlow(a, v, size);
    if (slowEvent) return slowExit(rec);
  }
  return CONT;
}
