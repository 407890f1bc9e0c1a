// Traps (privileged ISA 3.1.6.1, 3.1.9, 3.1.15, 4.1): taking exceptions and interrupts with
// delegation, interrupt selection by priority, and the built-in firmware's exits.
import {
  MEM_STATE, ST_IRQ_LINES, ST_MCAUSE, ST_MEDELEG, ST_MENVCFG, ST_MEPC, ST_MIDELEG, ST_MIE, ST_MIP, ST_MSTATUS,
  ST_MTVAL, ST_MTVEC, ST_PRIV, ST_SCAUSE, ST_SEPC, ST_STIMECMP, ST_STVAL, ST_STVEC, setSt64, st64,
} from './layout';
import {
  CAUSE_BREAKPOINT, CAUSE_ILLEGAL_INSTRUCTION, CAUSE_INTERRUPT, CAUSE_SUPERVISOR_ECALL, CAUSE_USER_ECALL,
  IRQ_MEI, IRQ_MSI, IRQ_MTI, IRQ_SEI, IRQ_SSI, IRQ_STI, MENVCFG_STCE, MIP_STIP, MSTATUS_MIE, MSTATUS_MPIE,
  MSTATUS_MPP, MSTATUS_MPP_SHIFT, MSTATUS_SIE, MSTATUS_SPIE, MSTATUS_SPP, PRV_M, PRV_S,
} from './bits';
import { EXIT_FIRMWARE_CALL, EXIT_FIRMWARE_TRAP, builtinFirmware, exitAt, stopAt, timeNow } from './globals';
import { updateTlbBases } from './mmu';
import { C_EXCEPTION, C_INTERRUPT, count } from './counters';

/** mip as software reads it: software-set bits, the board's lines, and Sstc's timer compare. */
export function effectiveMipAt(base: u32): u64 {
  let mip = load<u64>(base + ST_MIP) | load<u64>(base + ST_IRQ_LINES);
  if (load<u64>(base + ST_MENVCFG) & MENVCFG_STCE) {
    // Sstc: STIP reflects time >= stimecmp; software writes to it are ignored (menvcfg.STCE = 1).
    mip = (mip & ~MIP_STIP) | (load<u64>(base + ST_IRQ_LINES) & MIP_STIP);
    if (timeNow() >= load<u64>(base + ST_STIMECMP)) mip |= MIP_STIP;
  }
  return mip;
}

@inline export function effectiveMip(): u64 {
  return effectiveMipAt(MEM_STATE);
}

/** Highest-priority interrupt in `bits`: MEI, MSI, MTI, SEI, SSI, STI (spec 3.1.9). */
function highest(bits: u64): i32 {
  if (bits & (1 << IRQ_MEI)) return IRQ_MEI;
  if (bits & (1 << IRQ_MSI)) return IRQ_MSI;
  if (bits & (1 << IRQ_MTI)) return IRQ_MTI;
  if (bits & (1 << IRQ_SEI)) return IRQ_SEI;
  if (bits & (1 << IRQ_SSI)) return IRQ_SSI;
  if (bits & (1 << IRQ_STI)) return IRQ_STI;
  return -1;
}

/** The interrupt the hart takes now, or -1. */
export function pendingInterrupt(): i32 {
  const pending = effectiveMip() & st64(ST_MIE);
  if (!pending) return -1;
  const p = <u32>st64(ST_PRIV);
  const ms = st64(ST_MSTATUS);
  const deleg = st64(ST_MIDELEG);
  // M-level interrupts are enabled below M always, in M when MIE; S-level ones likewise for S.
  const m = pending & ~deleg;
  if (m && (p < PRV_M || ms & MSTATUS_MIE)) return highest(m);
  const s = pending & deleg;
  if (s && (p < PRV_S || (p == PRV_S && ms & MSTATUS_SIE))) return highest(s);
  return -1;
}

/**
 * Enters the trap handler for `cause` (with CAUSE_INTERRUPT for an interrupt) from the instruction
 * at `pc`; returns STOP with the handler's address in resumePc (or a firmware exit).
 */
export function takeTrap(cause: u64, tval: u64, pc: u64): u64 {
  const p = <u32>st64(ST_PRIV);
  const irq = (cause & CAUSE_INTERRUPT) != 0;
  count(irq ? C_INTERRUPT : C_EXCEPTION);
  const code = cause & 63;
  const deleg = st64(irq ? ST_MIDELEG : ST_MEDELEG);
  let ms = st64(ST_MSTATUS);
  if (p <= PRV_S && (deleg >> code) & 1) {
    ms = (ms & ~(MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SIE)) | (ms & MSTATUS_SIE ? MSTATUS_SPIE : 0) | (p == PRV_S ? MSTATUS_SPP : 0);
    setSt64(ST_MSTATUS, ms);
    setSt64(ST_SCAUSE, cause);
    setSt64(ST_SEPC, pc);
    setSt64(ST_STVAL, tval);
    setSt64(ST_PRIV, PRV_S);
    updateTlbBases();
    const vec = st64(ST_STVEC);
    return stopAt((vec & ~3) + (irq && (vec & 3) == 1 ? code << 2 : 0));
  }
  // Built-in firmware answers S/U ECALLs itself: the hart stays at the ECALL, untouched.
  if (builtinFirmware && !irq && (cause == CAUSE_USER_ECALL || cause == CAUSE_SUPERVISOR_ECALL)) {
    return exitAt(pc, EXIT_FIRMWARE_CALL);
  }
  ms = (ms & ~(MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_MIE)) | (ms & MSTATUS_MIE ? MSTATUS_MPIE : 0) | (<u64>p << MSTATUS_MPP_SHIFT);
  setSt64(ST_MSTATUS, ms);
  setSt64(ST_MCAUSE, cause);
  setSt64(ST_MEPC, pc);
  setSt64(ST_MTVAL, tval);
  setSt64(ST_PRIV, PRV_M);
  updateTlbBases();
  const vec = st64(ST_MTVEC);
  const handler = (vec & ~3) + (irq && (vec & 3) == 1 ? code << 2 : 0);
  return builtinFirmware ? exitAt(handler, EXIT_FIRMWARE_TRAP) : stopAt(handler);
}

export function takeInterrupt(irq: i32, pc: u64): u64 {
  return takeTrap(CAUSE_INTERRUPT | <u64>irq, 0, pc);
}

/** Illegal instruction: tval is the instruction's bits (16 or 32), as QEMU gives them. */
export function illegalInstruction(raw: u32, pc: u64): u64 {
  return takeTrap(CAUSE_ILLEGAL_INSTRUCTION, <u64>raw, pc);
}

/** EBREAK: tval is the pc (QEMU's badaddr for breakpoints). */
export function breakpoint(pc: u64): u64 {
  return takeTrap(CAUSE_BREAKPOINT, pc, pc);
}
