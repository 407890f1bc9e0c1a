// RV64I (unprivileged ISA chapters 2 and 5): the hot path, so every handler is inlined into the
// interpreter loop. Handlers read all their sources before writing rd (rd may be x0, which the
// loop re-zeroes before each instruction).
import { getX, priv, setX } from '../layout';
import { SLOW_FAULT, slowEvent } from '../globals';
import { loadSlow, readHost, slowExit, storeSlow, writeHost } from '../mem';
import { breakpoint, takeTrap } from '../trap';
import { CAUSE_USER_ECALL } from '../bits';

@inline export function exec_lui(raw: u32, pc: u64, npc: u64, rd: u32, imm: u64): u64 {
  setX(rd, imm);
  return npc;
}
@inline export function exec_auipc(raw: u32, pc: u64, npc: u64, rd: u32, imm: u64): u64 {
  setX(rd, pc + imm);
  return npc;
}
// Jump targets keep bit 0 clear (JALR clears it; offsets are even), and with C every even
// address is aligned: no instruction-address-misaligned exception can occur.
@inline export function exec_jal(raw: u32, pc: u64, npc: u64, rd: u32, imm: u64): u64 {
  setX(rd, npc);
  return pc + imm;
}
@inline export function exec_jalr(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, imm: u64): u64 {
  const t = (getX(rs1) + imm) & ~(<u64>1);
  setX(rd, npc);
  return t;
}
@inline export function exec_beq(raw: u32, pc: u64, npc: u64, rs1: u32, rs2: u32, imm: u64): u64 {
  return getX(rs1) == getX(rs2) ? pc + imm : npc;
}
@inline export function exec_bne(raw: u32, pc: u64, npc: u64, rs1: u32, rs2: u32, imm: u64): u64 {
  return getX(rs1) != getX(rs2) ? pc + imm : npc;
}
@inline export function exec_blt(raw: u32, pc: u64, npc: u64, rs1: u32, rs2: u32, imm: u64): u64 {
  return <i64>getX(rs1) < <i64>getX(rs2) ? pc + imm : npc;
}
@inline export function exec_bge(raw: u32, pc: u64, npc: u64, rs1: u32, rs2: u32, imm: u64): u64 {
  return <i64>getX(rs1) >= <i64>getX(rs2) ? pc + imm : npc;
}
@inline export function exec_bltu(raw: u32, pc: u64, npc: u64, rs1: u32, rs2: u32, imm: u64): u64 {
  return getX(rs1) < getX(rs2) ? pc + imm : npc;
}
@inline export function exec_bgeu(raw: u32, pc: u64, npc: u64, rs1: u32, rs2: u32, imm: u64): u64 {
  return getX(rs1) >= getX(rs2) ? pc + imm : npc;
}

// ---- loads: TLB hit inline, everything else in loadSlow ----
/** After a slow load: a fault leaves rd untouched; an MMIO stop completes the load first. */
function loadEvent(rd: u32, v: u64, pc: u64, npc: u64): u64 {
  if (slowEvent != SLOW_FAULT) setX(rd, v);
  return slowExit(pc, npc);
}
@inline export function exec_lb(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, imm: u64): u64 {
  const a = getX(rs1) + imm;
  const h = readHost(a, 1);
  let v: u64;
  if (h) v = <u64>load<i8>(h);
  else {
    v = <u64><i8>loadSlow(a, 1);
    if (slowEvent) return loadEvent(rd, v, pc, npc);
  }
  setX(rd, v);
  return npc;
}
@inline export function exec_lh(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, imm: u64): u64 {
  const a = getX(rs1) + imm;
  const h = readHost(a, 2);
  let v: u64;
  if (h) v = <u64>load<i16>(h);
  else {
    v = <u64><i16>loadSlow(a, 2);
    if (slowEvent) return loadEvent(rd, v, pc, npc);
  }
  setX(rd, v);
  return npc;
}
@inline export function exec_lw(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, imm: u64): u64 {
  const a = getX(rs1) + imm;
  const h = readHost(a, 4);
  let v: u64;
  if (h) v = <u64>load<i32>(h);
  else {
    v = <u64><i32>loadSlow(a, 4);
    if (slowEvent) return loadEvent(rd, v, pc, npc);
  }
  setX(rd, v);
  return npc;
}
@inline export function exec_ld(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, imm: u64): u64 {
  const a = getX(rs1) + imm;
  const h = readHost(a, 8);
  let v: u64;
  if (h) v = load<u64>(h);
  else {
    v = loadSlow(a, 8);
    if (slowEvent) return loadEvent(rd, v, pc, npc);
  }
  setX(rd, v);
  return npc;
}
@inline export function exec_lbu(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, imm: u64): u64 {
  const a = getX(rs1) + imm;
  const h = readHost(a, 1);
  let v: u64;
  if (h) v = <u64>load<u8>(h);
  else {
    v = loadSlow(a, 1);
    if (slowEvent) return loadEvent(rd, v, pc, npc);
  }
  setX(rd, v);
  return npc;
}
@inline export function exec_lhu(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, imm: u64): u64 {
  const a = getX(rs1) + imm;
  const h = readHost(a, 2);
  let v: u64;
  if (h) v = <u64>load<u16>(h);
  else {
    v = loadSlow(a, 2);
    if (slowEvent) return loadEvent(rd, v, pc, npc);
  }
  setX(rd, v);
  return npc;
}
@inline export function exec_lwu(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, imm: u64): u64 {
  const a = getX(rs1) + imm;
  const h = readHost(a, 4);
  let v: u64;
  if (h) v = <u64>load<u32>(h);
  else {
    v = loadSlow(a, 4);
    if (slowEvent) return loadEvent(rd, v, pc, npc);
  }
  setX(rd, v);
  return npc;
}

// ---- stores ----
@inline export function exec_sb(raw: u32, pc: u64, npc: u64, rs1: u32, rs2: u32, imm: u64): u64 {
  const a = getX(rs1) + imm;
  const h = writeHost(a, 1);
  if (h) store<u8>(h, <u8>getX(rs2));
  else {
    storeSlow(a, getX(rs2), 1);
    if (slowEvent) return slowExit(pc, npc);
  }
  return npc;
}
@inline export function exec_sh(raw: u32, pc: u64, npc: u64, rs1: u32, rs2: u32, imm: u64): u64 {
  const a = getX(rs1) + imm;
  const h = writeHost(a, 2);
  if (h) store<u16>(h, <u16>getX(rs2));
  else {
    storeSlow(a, getX(rs2), 2);
    if (slowEvent) return slowExit(pc, npc);
  }
  return npc;
}
@inline export function exec_sw(raw: u32, pc: u64, npc: u64, rs1: u32, rs2: u32, imm: u64): u64 {
  const a = getX(rs1) + imm;
  const h = writeHost(a, 4);
  if (h) store<u32>(h, <u32>getX(rs2));
  else {
    storeSlow(a, getX(rs2), 4);
    if (slowEvent) return slowExit(pc, npc);
  }
  return npc;
}
@inline export function exec_sd(raw: u32, pc: u64, npc: u64, rs1: u32, rs2: u32, imm: u64): u64 {
  const a = getX(rs1) + imm;
  const h = writeHost(a, 8);
  if (h) store<u64>(h, getX(rs2));
  else {
    storeSlow(a, getX(rs2), 8);
    if (slowEvent) return slowExit(pc, npc);
  }
  return npc;
}

// ---- integer register-immediate and register-register ----
@inline export function exec_addi(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, imm: u64): u64 {
  setX(rd, getX(rs1) + imm);
  return npc;
}
@inline export function exec_slti(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, imm: u64): u64 {
  setX(rd, <u64>(<i64>getX(rs1) < <i64>imm));
  return npc;
}
@inline export function exec_sltiu(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, imm: u64): u64 {
  setX(rd, <u64>(getX(rs1) < imm));
  return npc;
}
@inline export function exec_xori(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, imm: u64): u64 {
  setX(rd, getX(rs1) ^ imm);
  return npc;
}
@inline export function exec_ori(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, imm: u64): u64 {
  setX(rd, getX(rs1) | imm);
  return npc;
}
@inline export function exec_andi(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, imm: u64): u64 {
  setX(rd, getX(rs1) & imm);
  return npc;
}
@inline export function exec_slli(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, sh: u32): u64 {
  setX(rd, getX(rs1) << <u64>sh);
  return npc;
}
@inline export function exec_srli(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, sh: u32): u64 {
  setX(rd, getX(rs1) >> <u64>sh);
  return npc;
}
@inline export function exec_srai(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, sh: u32): u64 {
  setX(rd, <u64>(<i64>getX(rs1) >> <i64>sh));
  return npc;
}
@inline export function exec_add(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, rs2: u32): u64 {
  setX(rd, getX(rs1) + getX(rs2));
  return npc;
}
@inline export function exec_sub(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, rs2: u32): u64 {
  setX(rd, getX(rs1) - getX(rs2));
  return npc;
}
@inline export function exec_sll(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, rs2: u32): u64 {
  setX(rd, getX(rs1) << (getX(rs2) & 63));
  return npc;
}
@inline export function exec_slt(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, rs2: u32): u64 {
  setX(rd, <u64>(<i64>getX(rs1) < <i64>getX(rs2)));
  return npc;
}
@inline export function exec_sltu(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, rs2: u32): u64 {
  setX(rd, <u64>(getX(rs1) < getX(rs2)));
  return npc;
}
@inline export function exec_xor(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, rs2: u32): u64 {
  setX(rd, getX(rs1) ^ getX(rs2));
  return npc;
}
@inline export function exec_srl(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, rs2: u32): u64 {
  setX(rd, getX(rs1) >> (getX(rs2) & 63));
  return npc;
}
@inline export function exec_sra(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, rs2: u32): u64 {
  setX(rd, <u64>(<i64>getX(rs1) >> <i64>(getX(rs2) & 63)));
  return npc;
}
@inline export function exec_or(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, rs2: u32): u64 {
  setX(rd, getX(rs1) | getX(rs2));
  return npc;
}
@inline export function exec_and(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, rs2: u32): u64 {
  setX(rd, getX(rs1) & getX(rs2));
  return npc;
}

// ---- RV64 word operations: 32-bit results sign-extended ----
@inline function sext32(v: u64): u64 {
  return <u64><i64><i32>v;
}
@inline export function exec_addiw(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, imm: u64): u64 {
  setX(rd, sext32(getX(rs1) + imm));
  return npc;
}
@inline export function exec_slliw(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, sh: u32): u64 {
  setX(rd, <u64><i64>(<i32>getX(rs1) << sh));
  return npc;
}
@inline export function exec_srliw(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, sh: u32): u64 {
  setX(rd, <u64><i64><i32>(<u32>getX(rs1) >>> sh));
  return npc;
}
@inline export function exec_sraiw(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, sh: u32): u64 {
  setX(rd, <u64><i64>(<i32>getX(rs1) >> sh));
  return npc;
}
@inline export function exec_addw(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, rs2: u32): u64 {
  setX(rd, sext32(getX(rs1) + getX(rs2)));
  return npc;
}
@inline export function exec_subw(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, rs2: u32): u64 {
  setX(rd, sext32(getX(rs1) - getX(rs2)));
  return npc;
}
@inline export function exec_sllw(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, rs2: u32): u64 {
  setX(rd, <u64><i64>(<i32>getX(rs1) << (<u32>getX(rs2) & 31)));
  return npc;
}
@inline export function exec_srlw(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, rs2: u32): u64 {
  setX(rd, <u64><i64><i32>(<u32>getX(rs1) >>> (<u32>getX(rs2) & 31)));
  return npc;
}
@inline export function exec_sraw(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, rs2: u32): u64 {
  setX(rd, <u64><i64>(<i32>getX(rs1) >> (<u32>getX(rs2) & 31)));
  return npc;
}

// ---- FENCE, ECALL, EBREAK ----
/** Harts never interleave inside a slice and memory is coherent: FENCE (and PAUSE) is a no-op. */
@inline export function exec_fence(raw: u32, pc: u64, npc: u64, fm: u32, pred: u32, succ: u32): u64 {
  return npc;
}
export function exec_ecall(raw: u32, pc: u64, npc: u64): u64 {
  // U 8, S 9, M 11: the cause encodes the privilege the ECALL came from.
  return takeTrap(CAUSE_USER_ECALL + <u64>priv(), 0, pc);
}
export function exec_ebreak(raw: u32, pc: u64, npc: u64): u64 {
  return breakpoint(pc);
}
