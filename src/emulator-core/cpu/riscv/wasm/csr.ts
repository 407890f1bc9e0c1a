// The CSR file (privileged ISA chapters 2-4, Zicntr, Sstc): access checks, reads, and WARL writes
// that legalise values as QEMU 7.2's virt CPU does. csrWrite returns true when the write can
// change translation or interrupt state, so the instruction ends with STOP (the loop then drops
// its cached code page and re-checks interrupts).
import {
  ST_FCSR, ST_MCAUSE, ST_MCOUNTEREN, ST_MCOUNTINHIBIT, ST_MCYCLE, ST_MEDELEG, ST_MENVCFG, ST_MEPC,
  ST_MHARTID, ST_MIDELEG, ST_MIE, ST_MINSTRET, ST_MIP, ST_MSCRATCH, ST_MSTATUS, ST_MTVAL, ST_MTVEC, ST_PRIV,
  ST_SATP, ST_SCAUSE, ST_SCOUNTEREN, ST_SENVCFG, ST_SEPC, ST_SSCRATCH, ST_STIMECMP, ST_STVAL, ST_STVEC, setSt64,
  st64,
} from './layout';
import * as B from './bits';
import { retiredInSlice, timeNow } from './globals';
import { tlbFlushAll, tlbFlushTranslated, updateTlbBases } from './mmu';
import { pmpaddrRead, pmpaddrWrite, pmpcfgRead, pmpcfgWrite } from './pmp';
import { effectiveMip } from './trap';

/** Set by csrRead/csrWrite for a CSR the core does not implement. */
export let csrMissing: bool = false;

const INHIBIT_CY: u64 = 1;
const INHIBIT_IR: u64 = 4;

// ---- counters: live value = slice-start value + instructions retired in this slice ----
function counterLive(off: u32, inhibitBit: u64): u64 {
  const v = st64(off);
  return st64(ST_MCOUNTINHIBIT) & inhibitBit ? v : v + retiredInSlice();
}
/**
 * Sets a counter's live value. Inside a run the writing instruction has already been counted, and
 * the next instruction must read exactly v (the write suppresses the increment, spec 3.1.11).
 */
function setCounterLive(off: u32, inhibitBit: u64, v: u64): void {
  const counted = retiredInSlice();
  setSt64(off, st64(ST_MCOUNTINHIBIT) & inhibitBit ? v : v - counted - (counted ? 1 : 0));
}
export function instretLive(): u64 {
  return counterLive(ST_MINSTRET, INHIBIT_IR);
}
/** Folds the slice's instructions into mcycle/minstret (end of run). */
export function retireSlice(n: u64): void {
  const inhibit = st64(ST_MCOUNTINHIBIT);
  if (!(inhibit & INHIBIT_IR)) setSt64(ST_MINSTRET, st64(ST_MINSTRET) + n);
  if (!(inhibit & INHIBIT_CY)) setSt64(ST_MCYCLE, st64(ST_MCYCLE) + n);
}

@inline function mstatusRead(): u64 {
  const ms = st64(ST_MSTATUS);
  return (ms & B.MSTATUS_FS) == B.MSTATUS_FS ? ms | B.MSTATUS_SD : ms;
}

/** Whether the current privilege may access `csr` (and write it when `write`). */
export function csrAllowed(csr: u32, write: bool): bool {
  const p = <u32>st64(ST_PRIV);
  if (((csr >> 8) & 3) > p) return false;
  if (write && csr >> 10 == 3) return false;
  if (csr >= B.CSR_FFLAGS && csr <= B.CSR_FCSR) return (st64(ST_MSTATUS) & B.MSTATUS_FS) != 0;
  if (csr == B.CSR_SATP) return !(p == B.PRV_S && st64(ST_MSTATUS) & B.MSTATUS_TVM);
  if (csr >= B.CSR_CYCLE && csr <= B.CSR_HPMCOUNTER31) {
    const bit = csr - B.CSR_CYCLE;
    if (p < B.PRV_M && !((st64(ST_MCOUNTEREN) >> bit) & 1)) return false;
    if (p == B.PRV_U && !((st64(ST_SCOUNTEREN) >> bit) & 1)) return false;
    return true;
  }
  if (csr == B.CSR_STIMECMP && p < B.PRV_M) {
    // Sstc: S-mode needs mcounteren.TM and menvcfg.STCE (as QEMU's sstc predicate).
    return (st64(ST_MCOUNTEREN) & 2) != 0 && (st64(ST_MENVCFG) & B.MENVCFG_STCE) != 0;
  }
  return true;
}

/** Reads `csr` (no access check); sets csrMissing for an unimplemented one. */
export function csrRead(csr: u32): u64 {
  csrMissing = false;
  switch (csr) {
    case B.CSR_FFLAGS: return st64(ST_FCSR) & 0x1f;
    case B.CSR_FRM: return (st64(ST_FCSR) >> 5) & 7;
    case B.CSR_FCSR: return st64(ST_FCSR) & 0xff;
    case B.CSR_CYCLE: return counterLive(ST_MCYCLE, INHIBIT_CY);
    case B.CSR_TIME: return timeNow();
    case B.CSR_INSTRET: return counterLive(ST_MINSTRET, INHIBIT_IR);
    case B.CSR_SSTATUS: return mstatusRead() & B.SSTATUS_MASK;
    case B.CSR_SIE: return st64(ST_MIE) & st64(ST_MIDELEG);
    case B.CSR_STVEC: return st64(ST_STVEC);
    case B.CSR_SCOUNTEREN: return st64(ST_SCOUNTEREN);
    case B.CSR_SENVCFG: return st64(ST_SENVCFG);
    case B.CSR_SSCRATCH: return st64(ST_SSCRATCH);
    case B.CSR_SEPC: return st64(ST_SEPC);
    case B.CSR_SCAUSE: return st64(ST_SCAUSE);
    case B.CSR_STVAL: return st64(ST_STVAL);
    case B.CSR_SIP: return effectiveMip() & st64(ST_MIDELEG);
    case B.CSR_STIMECMP: return st64(ST_STIMECMP);
    case B.CSR_SATP: return st64(ST_SATP);
    case B.CSR_MVENDORID: return 0;
    case B.CSR_MARCHID: return 0;
    case B.CSR_MIMPID: return 0;
    case B.CSR_MHARTID: return st64(ST_MHARTID);
    case B.CSR_MCONFIGPTR: return 0;
    case B.CSR_MSTATUS: return mstatusRead();
    case B.CSR_MISA: return B.MISA;
    case B.CSR_MEDELEG: return st64(ST_MEDELEG);
    case B.CSR_MIDELEG: return st64(ST_MIDELEG);
    case B.CSR_MIE: return st64(ST_MIE);
    case B.CSR_MTVEC: return st64(ST_MTVEC);
    case B.CSR_MCOUNTEREN: return st64(ST_MCOUNTEREN);
    case B.CSR_MENVCFG: return st64(ST_MENVCFG);
    case B.CSR_MCOUNTINHIBIT: return st64(ST_MCOUNTINHIBIT);
    case B.CSR_MSCRATCH: return st64(ST_MSCRATCH);
    case B.CSR_MEPC: return st64(ST_MEPC);
    case B.CSR_MCAUSE: return st64(ST_MCAUSE);
    case B.CSR_MTVAL: return st64(ST_MTVAL);
    case B.CSR_MIP: return effectiveMip();
    case B.CSR_PMPCFG0: return pmpcfgRead(0);
    case B.CSR_PMPCFG2: return pmpcfgRead(2);
    case B.CSR_MCYCLE: return counterLive(ST_MCYCLE, INHIBIT_CY);
    case B.CSR_MINSTRET: return counterLive(ST_MINSTRET, INHIBIT_IR);
    // Sdtrig with no triggers (tdata1.type = 0 at every tselect; tinfo: only type 0).
    case B.CSR_TSELECT: return 0;
    case B.CSR_TDATA1: return 0;
    case B.CSR_TDATA2: return 0;
    case B.CSR_TDATA3: return 0;
    case B.CSR_TINFO: return 1;
  }
  if (csr >= B.CSR_PMPADDR0 && csr <= B.CSR_PMPADDR15) return pmpaddrRead(csr - B.CSR_PMPADDR0);
  // Performance counters 3..31 and their events exist and read zero (no events implemented).
  if (csr >= B.CSR_HPMCOUNTER3 && csr <= B.CSR_HPMCOUNTER31) return 0;
  if (csr >= B.CSR_MHPMCOUNTER3 && csr <= B.CSR_MHPMCOUNTER31) return 0;
  if (csr >= B.CSR_MHPMEVENT3 && csr <= B.CSR_MHPMEVENT31) return 0;
  csrMissing = true;
  return 0;
}

/**
 * The value a CSRRS/CSRRC sets or clears bits in: what csrRead returns, except for mip and sip,
 * whose reads OR in the board's interrupt lines (the PLIC's SEIP). Privileged ISA 3.1.9: the
 * read-modify-write uses only the software-writable bits, or `csrs mip, SSIP` (OpenSBI's IPI
 * handler) would latch a momentary SEIP as a software bit that outlives the PLIC's line.
 */
export function csrRmwBase(csr: u32, read: u64): u64 {
  return csr == B.CSR_MIP || csr == B.CSR_SIP ? st64(ST_MIP) : read;
}

function setMstatus(v: u64, writable: u64): void {
  const old = st64(ST_MSTATUS);
  let nv = (old & ~writable) | (v & writable);
  // MPP is WARL over the implemented modes: 2 (reserved) keeps the old value.
  if (((nv >> B.MSTATUS_MPP_SHIFT) & 3) == 2) nv = (nv & ~B.MSTATUS_MPP) | (old & B.MSTATUS_MPP);
  nv = (nv & ~B.MSTATUS_SD) | B.MSTATUS_XLEN64;
  setSt64(ST_MSTATUS, nv);
  if ((old ^ nv) & B.MSTATUS_MXR) tlbFlushTranslated();
  updateTlbBases();
}

@inline function fsDirty(): void {
  setSt64(ST_MSTATUS, st64(ST_MSTATUS) | B.MSTATUS_FS);
}

/**
 * Writes `csr` as its WARL rules allow (no access check). Returns true when the instruction must
 * end with STOP; sets csrMissing for an unimplemented CSR.
 */
export function csrWrite(csr: u32, v: u64): bool {
  csrMissing = false;
  switch (csr) {
    case B.CSR_FFLAGS: setSt64(ST_FCSR, (st64(ST_FCSR) & ~0x1f) | (v & 0x1f)); fsDirty(); return false;
    case B.CSR_FRM: setSt64(ST_FCSR, (st64(ST_FCSR) & 0x1f) | ((v & 7) << 5)); fsDirty(); return false;
    case B.CSR_FCSR: setSt64(ST_FCSR, v & 0xff); fsDirty(); return false;
    case B.CSR_SSTATUS: setMstatus(v, B.SSTATUS_WRITABLE); return true;
    case B.CSR_SIE: {
      const d = st64(ST_MIDELEG) & B.MIE_MASK;
      setSt64(ST_MIE, (st64(ST_MIE) & ~d) | (v & d));
      return true;
    }
    case B.CSR_STVEC: if ((v & 3) < 2) setSt64(ST_STVEC, v); return false;
    case B.CSR_SCOUNTEREN: setSt64(ST_SCOUNTEREN, v & 0xffff_ffff); return false;
    case B.CSR_SENVCFG: setSt64(ST_SENVCFG, v & B.MENVCFG_FIOM); return false;
    case B.CSR_SSCRATCH: setSt64(ST_SSCRATCH, v); return false;
    case B.CSR_SEPC: setSt64(ST_SEPC, v & ~1); return false;
    case B.CSR_SCAUSE: setSt64(ST_SCAUSE, v); return false;
    case B.CSR_STVAL: setSt64(ST_STVAL, v); return false;
    case B.CSR_SIP: {
      const m = B.MIP_SSIP & st64(ST_MIDELEG);
      setSt64(ST_MIP, (st64(ST_MIP) & ~m) | (v & m));
      return true;
    }
    case B.CSR_STIMECMP: setSt64(ST_STIMECMP, v); return true;
    case B.CSR_SATP: {
      // Modes other than Bare/Sv39/Sv48 (e.g. Linux probing Sv57) leave satp unchanged (WARL).
      const mode = v >> 60;
      if (mode != B.SATP_MODE_BARE && mode != B.SATP_MODE_SV39 && mode != B.SATP_MODE_SV48) return false;
      const nv = (mode << 60) | (v & (B.SATP_ASID_MASK | B.SATP_PPN_MASK));
      if (nv != st64(ST_SATP)) {
        setSt64(ST_SATP, nv);
        tlbFlushTranslated();
      }
      return true;
    }
    case B.CSR_MSTATUS: setMstatus(v, B.MSTATUS_WRITABLE); return true;
    case B.CSR_MISA: return false; // fixed extensions: writes ignored (WARL)
    case B.CSR_MEDELEG: setSt64(ST_MEDELEG, v & B.MEDELEG_MASK); return false;
    case B.CSR_MIDELEG: setSt64(ST_MIDELEG, v & B.S_INTERRUPTS); return true;
    case B.CSR_MIE: setSt64(ST_MIE, v & B.MIE_MASK); return true;
    case B.CSR_MTVEC: if ((v & 3) < 2) setSt64(ST_MTVEC, v); return false;
    case B.CSR_MCOUNTEREN: setSt64(ST_MCOUNTEREN, v & 0xffff_ffff); return false;
    case B.CSR_MENVCFG: setSt64(ST_MENVCFG, v & (B.MENVCFG_FIOM | B.MENVCFG_STCE)); return true;
    case B.CSR_MCOUNTINHIBIT: {
      const cy = counterLive(ST_MCYCLE, INHIBIT_CY);
      const ir = counterLive(ST_MINSTRET, INHIBIT_IR);
      setSt64(ST_MCOUNTINHIBIT, v & (INHIBIT_CY | INHIBIT_IR));
      setCounterLive(ST_MCYCLE, INHIBIT_CY, cy);
      setCounterLive(ST_MINSTRET, INHIBIT_IR, ir);
      return false;
    }
    case B.CSR_MSCRATCH: setSt64(ST_MSCRATCH, v); return false;
    case B.CSR_MEPC: setSt64(ST_MEPC, v & ~1); return false;
    case B.CSR_MCAUSE: setSt64(ST_MCAUSE, v); return false;
    case B.CSR_MTVAL: setSt64(ST_MTVAL, v); return false;
    case B.CSR_MIP: {
      let m = B.MIP_SSIP | B.MIP_SEIP | B.MIP_STIP;
      if (st64(ST_MENVCFG) & B.MENVCFG_STCE) m &= ~B.MIP_STIP;
      setSt64(ST_MIP, (st64(ST_MIP) & ~m) | (v & m));
      return true;
    }
    case B.CSR_PMPCFG0: pmpcfgWrite(0, v); tlbFlushAll(); return true;
    case B.CSR_PMPCFG2: pmpcfgWrite(2, v); tlbFlushAll(); return true;
    case B.CSR_MCYCLE: setCounterLive(ST_MCYCLE, INHIBIT_CY, v); return false;
    case B.CSR_MINSTRET: setCounterLive(ST_MINSTRET, INHIBIT_IR, v); return false;
    case B.CSR_TSELECT:
    case B.CSR_TDATA1:
    case B.CSR_TDATA2:
    case B.CSR_TDATA3:
    case B.CSR_TINFO:
      return false;
    // Read-only CSRs (an instruction cannot write them; the board's setCsr is ignored).
    case B.CSR_CYCLE:
    case B.CSR_TIME:
    case B.CSR_INSTRET:
    case B.CSR_MVENDORID:
    case B.CSR_MARCHID:
    case B.CSR_MIMPID:
    case B.CSR_MHARTID:
    case B.CSR_MCONFIGPTR:
      return false;
  }
  if (csr >= B.CSR_PMPADDR0 && csr <= B.CSR_PMPADDR15) {
    pmpaddrWrite(csr - B.CSR_PMPADDR0, v);
    tlbFlushAll();
    return true;
  }
  if (csr >= B.CSR_HPMCOUNTER3 && csr <= B.CSR_HPMCOUNTER31) return false;
  if (csr >= B.CSR_MHPMCOUNTER3 && csr <= B.CSR_MHPMCOUNTER31) return false;
  if (csr >= B.CSR_MHPMEVENT3 && csr <= B.CSR_MHPMEVENT31) return false;
  csrMissing = true;
  return false;
}

