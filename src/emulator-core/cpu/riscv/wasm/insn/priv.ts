// Privileged instructions (privileged ISA 3.3): SRET, MRET, WFI, SFENCE.VMA, with the TSR, TW
// and TVM traps of mstatus.
import { CONT, npcOf, pcOf, rawOf } from '../op';
import { ST_MEPC, ST_MIE, ST_MSTATUS, ST_PRIV, ST_SEPC, getX, setSt64, st64 } from '../layout';
import {
  MSTATUS_MIE, MSTATUS_MPIE, MSTATUS_MPP, MSTATUS_MPP_SHIFT, MSTATUS_MPRV, MSTATUS_SIE, MSTATUS_SPIE, MSTATUS_SPP,
  MSTATUS_TSR, MSTATUS_TVM, MSTATUS_TW, PRV_M, PRV_S, PRV_U,
} from '../bits';
import { EXIT_WFI, exitAt, stopAt } from '../globals';
import { tlbFlushPage, tlbFlushTranslated, updateTlbBases } from '../mmu';
import { effectiveMip, illegalInstruction } from '../trap';

export function exec_sret(rec: u32): u64 {
  const p = <u32>st64(ST_PRIV);
  let ms = st64(ST_MSTATUS);
  if (p == PRV_U || (p == PRV_S && ms & MSTATUS_TSR)) return illegalInstruction(rawOf(rec), pcOf(rec));
  const np: u32 = ms & MSTATUS_SPP ? PRV_S : PRV_U;
  ms = (ms & ~(MSTATUS_SIE | MSTATUS_SPP)) | (ms & MSTATUS_SPIE ? MSTATUS_SIE : 0) | MSTATUS_SPIE;
  // Returning to a mode below M clears MPRV (privileged ISA 1.12, 3.1.6.3).
  ms &= ~MSTATUS_MPRV;
  setSt64(ST_MSTATUS, ms);
  setSt64(ST_PRIV, np);
  updateTlbBases();
  return stopAt(st64(ST_SEPC));
}

export function exec_mret(rec: u32): u64 {
  if (<u32>st64(ST_PRIV) != PRV_M) return illegalInstruction(rawOf(rec), pcOf(rec));
  let ms = st64(ST_MSTATUS);
  const np = <u32>((ms >> MSTATUS_MPP_SHIFT) & 3);
  ms = (ms & ~(MSTATUS_MIE | MSTATUS_MPP)) | (ms & MSTATUS_MPIE ? MSTATUS_MIE : 0) | MSTATUS_MPIE;
  if (np != PRV_M) ms &= ~MSTATUS_MPRV;
  setSt64(ST_MSTATUS, ms);
  setSt64(ST_PRIV, np);
  updateTlbBases();
  return stopAt(st64(ST_MEPC));
}

/**
 * WFI: illegal in U-mode and, with TW, in S-mode (as QEMU). Otherwise the hart sleeps unless an
 * interrupt is already pending and enabled in mie (global enables do not matter, spec 3.3.3).
 */
export function exec_wfi(rec: u32): u64 {
  const p = <u32>st64(ST_PRIV);
  if (p == PRV_U || (p == PRV_S && st64(ST_MSTATUS) & MSTATUS_TW)) return illegalInstruction(rawOf(rec), pcOf(rec));
  if (effectiveMip() & st64(ST_MIE)) return CONT;
  return exitAt(npcOf(rec), EXIT_WFI);
}

/** SFENCE.VMA: U-mode, or S-mode with TVM, is illegal. ASIDs are not cached, so rs2 is ignored. */
export function exec_sfence_vma(rec: u32, rs1: u32, rs2: u32): u64 {
  const p = <u32>st64(ST_PRIV);
  if (p == PRV_U || (p == PRV_S && st64(ST_MSTATUS) & MSTATUS_TVM)) return illegalInstruction(rawOf(rec), pcOf(rec));
  if (rs1 == 0) tlbFlushTranslated();
  else tlbFlushPage(getX(rs1));
  // The cached code page may have changed translation.
  return stopAt(npcOf(rec));
}

