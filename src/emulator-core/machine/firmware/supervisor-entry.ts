// What the built-in firmware does before a hart enters the kernel (OpenSBI's job on a real
// machine): delegate the traps and interrupts Linux handles itself, open the counters and Sstc
// to S-mode, give S-mode all of memory through PMP, then drop to S-mode at `pc` with a0/a1 set
// (SBI spec, "Hart State Management": a0 = hartid, a1 = opaque; boot: a1 = the FDT).
import { Priv, type RiscvCpu } from '../../cpu/riscv/cpu';
import { Csr } from '../csr';

/**
 * Exceptions S-mode handles: misaligned/faulting fetch, illegal instruction, breakpoint,
 * misaligned/faulting load and store, ECALL from U, and page faults (OpenSBI delegates the page
 * faults, ECALL-U and breakpoints and redirects the others to S itself; we have no M-mode code).
 */
export const MEDELEG = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 12) | (1 << 13) | (1 << 15);
/** SSIP, STIP, SEIP. */
export const MIDELEG = (1 << 1) | (1 << 5) | (1 << 9);
/** CY, TM, IR readable from S (and U, if S allows). */
const MCOUNTEREN = 0x7;
const MENVCFG_STCE = 1n << 63n;

/** True if the core implements Sstc (stimecmp), which the FDT then advertises. */
export function hasSstc(cpu: RiscvCpu, hart = 0): boolean {
  return cpu.getCsr(hart, Csr.stimecmp) !== undefined;
}

export function enterSupervisor(cpu: RiscvCpu, hart: number, pc: number, a0: bigint, a1: bigint): void {
  cpu.resetHart(hart, BigInt(pc));
  cpu.setCsr(hart, Csr.medeleg, BigInt(MEDELEG));
  cpu.setCsr(hart, Csr.mideleg, BigInt(MIDELEG));
  cpu.setCsr(hart, Csr.mcounteren, BigInt(MCOUNTEREN));
  // U-mode may read cycle/time/instret too, as OpenSBI's mstatus_init sets scounteren = 7: Linux
  // only enables TM itself from its SBI PMU driver, so without this the vDSO's rdtime (udhcpc,
  // date, ping) dies with SIGILL.
  cpu.setCsr(hart, Csr.scounteren, BigInt(MCOUNTEREN));
  if (hasSstc(cpu, hart)) cpu.setCsr(hart, Csr.menvcfg, MENVCFG_STCE);
  // One NAPOT region over the whole address space, RWX (OpenSBI's last-resort "all access" entry).
  cpu.setCsr(hart, Csr.pmpaddr0, (1n << 54n) - 1n);
  cpu.setCsr(hart, Csr.pmpcfg0, 0x1fn);
  cpu.setCsr(hart, Csr.satp, 0n);
  cpu.setPriv(hart, Priv.Supervisor);
  cpu.setX(hart, 10, a0);
  cpu.setX(hart, 11, a1);
  cpu.setPc(hart, BigInt(pc));
}
