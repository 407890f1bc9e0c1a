// RV64I (unprivileged ISA chapters 2 and 5): the hot path, so every handler is inlined into the
// interpreter loop. Register operands are byte offsets into the register file (op.ts). Handlers
// read all their sources before writing rd (rd may be x0, which the loop re-zeroes before each
// instruction).
import { CONT, npcOf, pcOf } from '../op';
import { getX, priv, setX } from '../layout';
import { EXIT_REQUESTED, SLOW_FAULT, exitAt, pauseYields, slowEvent } from '../globals';
import { loadSlow, readHost, slowExit, storeSlow, writeHost } from '../mem';
import { breakpoint, takeTrap } from '../trap';
import { CAUSE_USER_ECALL } from '../bits';

@inline export function exec_lui(rec: u32, rd: u32, imm: u64): u64 {
  setX(rd, imm);
  return CONT;
}
@inline export function exec_auipc(rec: u32, rd: u32, imm: u64): u64 {
  setX(rd, pcOf(rec) + imm);
  return CONT;
}
// Jump targets keep bit 0 clear (JALR clears it; offsets are even), and with C every even
// address is aligned: no instruction-address-misaligned exception can occur.
@inline export function exec_jal(rec: u32, rd: u32, imm: u64): u64 {
  setX(rd, npcOf(rec));
  return pcOf(rec) + imm;
}
@inline export function exec_jalr(rec: u32, rd: u32, rs1: u32, imm: u64): u64 {
  const t = (getX(rs1) + imm) & ~(<u64>1);
  setX(rd, npcOf(rec));
  return t;
}
@inline export function exec_beq(rec: u32, rs1: u32, rs2: u32, imm: u64): u64 {
  return getX(rs1) == getX(rs2) ? pcOf(rec) + imm : CONT;
}
@inline export function exec_bne(rec: u32, rs1: u32, rs2: u32, imm: u64): u64 {
  return getX(rs1) != getX(rs2) ? pcOf(rec) + imm : CONT;
}
@inline export function exec_blt(rec: u32, rs1: u32, rs2: u32, imm: u64): u64 {
  return <i64>getX(rs1) < <i64>getX(rs2) ? pcOf(rec) + imm : CONT;
}
@inline export function exec_bge(rec: u32, rs1: u32, rs2: u32, imm: u64): u64 {
  return <i64>getX(rs1) >= <i64>getX(rs2) ? pcOf(rec) + imm : CONT;
}
@inline export function exec_bltu(rec: u32, rs1: u32, rs2: u32, imm: u64): u64 {
  return getX(rs1) < getX(rs2) ? pcOf(rec) + imm : CONT;
}
@inline export function exec_bgeu(rec: u32, rs1: u32, rs2: u32, imm: u64): u64 {
  return getX(rs1) >= getX(rs2) ? pcOf(rec) + imm : CONT;
}

// ---- loads: TLB hit inline, everything else in loadSlow ----
/** After a slow load: a fault leaves rd untouched; an MMIO stop completes the load first. */
function loadEvent(rd: u32, v: u64, rec: u32): u64 {
  if (slowEvent != SLOW_FAULT) setX(rd, v);
  return slowExit(rec);
}
@inline export function exec_lb(rec: u32, rd: u32, rs1: u32, imm: u64): u64 {
  const a = getX(rs1) + imm;
  const h = readHost(a, 1);
  let v: u64;
  if (h) v = <u64>load<i8>(h);
  else {
    v = <u64><i8>loadSlow(a, 1);
    if (slowEvent) return loadEvent(rd, v, rec);
  }
  setX(rd, v);
  return CONT;
}
@inline export function exec_lh(rec: u32, rd: u32, rs1: u32, imm: u64): u64 {
  const a = getX(rs1) + imm;
  const h = readHost(a, 2);
  let v: u64;
  if (h) v = <u64>load<i16>(h);
  else {
    v = <u64><i16>loadSlow(a, 2);
    if (slowEvent) return loadEvent(rd, v, rec);
  }
  setX(rd, v);
  return CONT;
}
@inline export function exec_lw(rec: u32, rd: u32, rs1: u32, imm: u64): u64 {
  const a = getX(rs1) + imm;
  const h = readHost(a, 4);
  let v: u64;
  if (h) v = <u64>load<i32>(h);
  else {
    v = <u64><i32>loadSlow(a, 4);
    if (slowEvent) return loadEvent(rd, v, rec);
  }
  setX(rd, v);
  return CONT;
}
@inline export function exec_ld(rec: u32, rd: u32, rs1: u32, imm: u64): u64 {
  const a = getX(rs1) + imm;
  const h = readHost(a, 8);
  let v: u64;
  if (h) v = load<u64>(h);
  else {
    v = loadSlow(a, 8);
    if (slowEvent) return loadEvent(rd, v, rec);
  }
  setX(rd, v);
  return CONT;
}
@inline export function exec_lbu(rec: u32, rd: u32, rs1: u32, imm: u64): u64 {
  const a = getX(rs1) + imm;
  const h = readHost(a, 1);
  let v: u64;
  if (h) v = <u64>load<u8>(h);
  else {
    v = loadSlow(a, 1);
    if (slowEvent) return loadEvent(rd, v, rec);
  }
  setX(rd, v);
  return CONT;
}
@inline export function exec_lhu(rec: u32, rd: u32, rs1: u32, imm: u64): u64 {
  const a = getX(rs1) + imm;
  const h = readHost(a, 2);
  let v: u64;
  if (h) v = <u64>load<u16>(h);
  else {
    v = loadSlow(a, 2);
    if (slowEvent) return loadEvent(rd, v, rec);
  }
  setX(rd, v);
  return CONT;
}
@inline export function exec_lwu(rec: u32, rd: u32, rs1: u32, imm: u64): u64 {
  const a = getX(rs1) + imm;
  const h = readHost(a, 4);
  let v: u64;
  if (h) v = <u64>load<u32>(h);
  else {
    v = loadSlow(a, 4);
    if (slowEvent) return loadEvent(rd, v, rec);
  }
  setX(rd, v);
  return CONT;
}

// ---- stores ----
@inline export function exec_sb(rec: u32, rs1: u32, rs2: u32, imm: u64): u64 {
  const a = getX(rs1) + imm;
  const h = writeHost(a, 1);
  if (h) store<u8>(h, <u8>getX(rs2));
  else {
    storeSlow(a, getX(rs2), 1);
    if (slowEvent) return slowExit(rec);
  }
  return CONT;
}
@inline export function exec_sh(rec: u32, rs1: u32, rs2: u32, imm: u64): u64 {
  const a = getX(rs1) + imm;
  const h = writeHost(a, 2);
  if (h) store<u16>(h, <u16>getX(rs2));
  else {
    storeSlow(a, getX(rs2), 2);
    if (slowEvent) return slowExit(rec);
  }
  return CONT;
}
@inline export function exec_sw(rec: u32, rs1: u32, rs2: u32, imm: u64): u64 {
  const a = getX(rs1) + imm;
  const h = writeHost(a, 4);
  if (h) store<u32>(h, <u32>getX(rs2));
  else {
    storeSlow(a, getX(rs2), 4);
    if (slowEvent) return slowExit(rec);
  }
  return CONT;
}
@inline export function exec_sd(rec: u32, rs1: u32, rs2: u32, imm: u64): u64 {
  const a = getX(rs1) + imm;
  const h = writeHost(a, 8);
  if (h) store<u64>(h, getX(rs2));
  else {
    storeSlow(a, getX(rs2), 8);
    if (slowEvent) return slowExit(rec);
  }
  return CONT;
}

// ---- integer register-immediate and register-register ----
@inline export function exec_addi(rec: u32, rd: u32, rs1: u32, imm: u64): u64 {
  setX(rd, getX(rs1) + imm);
  return CONT;
}
@inline export function exec_slti(rec: u32, rd: u32, rs1: u32, imm: u64): u64 {
  setX(rd, <u64>(<i64>getX(rs1) < <i64>imm));
  return CONT;
}
@inline export function exec_sltiu(rec: u32, rd: u32, rs1: u32, imm: u64): u64 {
  setX(rd, <u64>(getX(rs1) < imm));
  return CONT;
}
@inline export function exec_xori(rec: u32, rd: u32, rs1: u32, imm: u64): u64 {
  setX(rd, getX(rs1) ^ imm);
  return CONT;
}
@inline export function exec_ori(rec: u32, rd: u32, rs1: u32, imm: u64): u64 {
  setX(rd, getX(rs1) | imm);
  return CONT;
}
@inline export function exec_andi(rec: u32, rd: u32, rs1: u32, imm: u64): u64 {
  setX(rd, getX(rs1) & imm);
  return CONT;
}
@inline export function exec_slli(rec: u32, rd: u32, rs1: u32, sh: u32): u64 {
  setX(rd, getX(rs1) << <u64>sh);
  return CONT;
}
@inline export function exec_srli(rec: u32, rd: u32, rs1: u32, sh: u32): u64 {
  setX(rd, getX(rs1) >> <u64>sh);
  return CONT;
}
@inline export function exec_srai(rec: u32, rd: u32, rs1: u32, sh: u32): u64 {
  setX(rd, <u64>(<i64>getX(rs1) >> <i64>sh));
  return CONT;
}
@inline export function exec_add(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  setX(rd, getX(rs1) + getX(rs2));
  return CONT;
}
@inline export function exec_sub(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  setX(rd, getX(rs1) - getX(rs2));
  return CONT;
}
@inline export function exec_sll(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  setX(rd, getX(rs1) << (getX(rs2) & 63));
  return CONT;
}
@inline export function exec_slt(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  setX(rd, <u64>(<i64>getX(rs1) < <i64>getX(rs2)));
  return CONT;
}
@inline export function exec_sltu(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  setX(rd, <u64>(getX(rs1) < getX(rs2)));
  return CONT;
}
@inline export function exec_xor(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  setX(rd, getX(rs1) ^ getX(rs2));
  return CONT;
}
@inline export function exec_srl(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  setX(rd, getX(rs1) >> (getX(rs2) & 63));
  return CONT;
}
@inline export function exec_sra(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  setX(rd, <u64>(<i64>getX(rs1) >> <i64>(getX(rs2) & 63)));
  return CONT;
}
@inline export function exec_or(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  setX(rd, getX(rs1) | getX(rs2));
  return CONT;
}
@inline export function exec_and(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  setX(rd, getX(rs1) & getX(rs2));
  return CONT;
}

// ---- RV64 word operations: 32-bit results sign-extended ----
@inline function sext32(v: u64): u64 {
  return <u64><i64><i32>v;
}
@inline export function exec_addiw(rec: u32, rd: u32, rs1: u32, imm: u64): u64 {
  setX(rd, sext32(getX(rs1) + imm));
  return CONT;
}
@inline export function exec_slliw(rec: u32, rd: u32, rs1: u32, sh: u32): u64 {
  setX(rd, <u64><i64>(<i32>getX(rs1) << sh));
  return CONT;
}
@inline export function exec_srliw(rec: u32, rd: u32, rs1: u32, sh: u32): u64 {
  setX(rd, <u64><i64><i32>(<u32>getX(rs1) >>> sh));
  return CONT;
}
@inline export function exec_sraiw(rec: u32, rd: u32, rs1: u32, sh: u32): u64 {
  setX(rd, <u64><i64>(<i32>getX(rs1) >> sh));
  return CONT;
}
@inline export function exec_addw(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  setX(rd, sext32(getX(rs1) + getX(rs2)));
  return CONT;
}
@inline export function exec_subw(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  setX(rd, sext32(getX(rs1) - getX(rs2)));
  return CONT;
}
@inline export function exec_sllw(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  setX(rd, <u64><i64>(<i32>getX(rs1) << (<u32>getX(rs2) & 31)));
  return CONT;
}
@inline export function exec_srlw(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  setX(rd, <u64><i64><i32>(<u32>getX(rs1) >>> (<u32>getX(rs2) & 31)));
  return CONT;
}
@inline export function exec_sraw(rec: u32, rd: u32, rs1: u32, rs2: u32): u64 {
  setX(rd, <u64><i64>(<i32>getX(rs1) >> (<u32>getX(rs2) & 31)));
  return CONT;
}

// ---- FENCE, ECALL, EBREAK ----
/**
 * Harts never interleave inside a slice and memory is coherent: FENCE is a no-op. PAUSE (pred = W,
 * succ = 0, fm = 0) is a spin-wait hint: with several harts it ends this one's turn (globals.ts
 * pauseYields).
 */
@inline export function exec_fence(rec: u32, fm: u32, pred: u32, succ: u32): u64 {
  if (pauseYields && pred == 1 && succ == 0 && fm == 0) return exitAt(npcOf(rec), EXIT_REQUESTED);
  return CONT;
}
export function exec_ecall(rec: u32): u64 {
  // U 8, S 9, M 11: the cause encodes the privilege the ECALL came from.
  return takeTrap(CAUSE_USER_ECALL + <u64>priv(), 0, pcOf(rec));
}
export function exec_ebreak(rec: u32): u64 {
  return breakpoint(pcOf(rec));
}
