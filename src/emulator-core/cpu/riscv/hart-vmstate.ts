// The vmstate of one RISC-V hart ("riscv-hart", in the spirit of QEMU's target/riscv/machine.c):
// pc, privilege, x1..x31, f0..f31, every CSR that holds state, mip's software-written bits apart
// from the interrupt line levels the board drives, and mhartid as a check. Taken and restored
// through the CPU's accessors (so a change of the core's memory layout does not change the
// format), between runs only. What is not state: the TLB and the decoded-block cache (flushed on
// load), the LR reservation (dropped: an SC after a restore fails, which the spec allows), the
// `time` CSR (the board's clock), WFI (the board's run loop keeps it).
import type { RiscvCpu, PrivLevel } from './cpu';

/** What the vmstate needs from the core beyond the board contract (wasm-cpu.ts implements it). */
export interface HartVmstateAccess {
  /** mip's software-written bits (SSIP, STIP, SEIP), without the line levels. */
  mipSoftware(hart: number): bigint;
  setMipSoftware(hart: number, value: bigint): void;
  /** The interrupt line levels the board drives, as mip bits. */
  irqLines(hart: number): bigint;
  clearReservation(): void;
}

export function hasVmstateAccess(cpu: RiscvCpu): cpu is RiscvCpu & HartVmstateAccess {
  const c = cpu as Partial<HartVmstateAccess>;
  return typeof c.mipSoftware === 'function' && typeof c.irqLines === 'function' && typeof c.clearReservation === 'function';
}

/**
 * The CSRs saved, in restore order: fcsr before mstatus (writing fcsr marks FS dirty),
 * mcountinhibit before the counters, pmpaddr before pmpcfg (a locked entry ignores address
 * writes), mstatus last. Read-only CSRs (misa, mvendorid, ...) and views (sstatus, sie, sip) are
 * not state; mhartid is kept apart as a check.
 */
export const HART_CSRS: Readonly<Record<string, number>> = {
  fcsr: 0x003,
  mcountinhibit: 0x320,
  mcycle: 0xb00,
  minstret: 0xb02,
  medeleg: 0x302,
  mideleg: 0x303,
  mie: 0x304,
  mtvec: 0x305,
  mcounteren: 0x306,
  menvcfg: 0x30a,
  mscratch: 0x340,
  mepc: 0x341,
  mcause: 0x342,
  mtval: 0x343,
  stvec: 0x105,
  scounteren: 0x106,
  senvcfg: 0x10a,
  sscratch: 0x140,
  sepc: 0x141,
  scause: 0x142,
  stval: 0x143,
  stimecmp: 0x14d,
  satp: 0x180,
  ...Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`pmpaddr${i}`, 0x3b0 + i])),
  pmpcfg0: 0x3a0,
  pmpcfg2: 0x3a2,
  mstatus: 0x300,
};

/** The interrupt lines a board drives (mip bit numbers). */
const LINES = [1, 3, 5, 7, 9, 11] as const;

/** Field types as snapshot/schema.ts declares them (cpu/ imports nothing outside itself). */
export const HART_STATE_FIELDS = {
  hartid: 'u32',
  pc: 'u64',
  priv: 'u8',
  x: { array: 'u64', length: 32 },
  f: { array: 'u64', length: 32 },
  csr: { struct: Object.fromEntries(Object.keys(HART_CSRS).map((k) => [k, 'u64'])) as Record<string, 'u64'> },
  mipSoftware: 'u64',
  irqLines: 'u64',
} as const;
export const HART_STATE_NAME = 'riscv-hart';
export const HART_STATE_VERSION = 1;

export interface HartRecord {
  hartid: number;
  pc: bigint;
  priv: number;
  x: bigint[];
  f: bigint[];
  csr: Record<string, bigint>;
  mipSoftware: bigint;
  irqLines: bigint;
}

export class HartStateError extends Error {
  override readonly name = 'HartStateError';
}

export function saveHart(cpu: RiscvCpu & HartVmstateAccess, hart: number): HartRecord {
  const csr: Record<string, bigint> = {};
  for (const [name, n] of Object.entries(HART_CSRS)) {
    const v = cpu.getCsr(hart, n);
    if (v === undefined) throw new HartStateError(`hart ${hart}: the core does not implement ${name}`);
    csr[name] = v;
  }
  return {
    hartid: Number(cpu.getCsr(hart, 0xf14) ?? BigInt(hart)),
    pc: cpu.getPc(hart),
    priv: cpu.getPriv(hart),
    x: Array.from({ length: 32 }, (_, r) => cpu.getX(hart, r)),
    f: Array.from({ length: 32 }, (_, r) => cpu.getF(hart, r)),
    csr,
    mipSoftware: cpu.mipSoftware(hart),
    irqLines: cpu.irqLines(hart),
  };
}

/**
 * Restores a hart from a record already checked against HART_STATE_FIELDS. Throws
 * HartStateError when the core does not take a value back as saved (a WARL field legalised
 * differently: a snapshot of another core); the caller rolls the machine back then.
 */
export function loadHart(cpu: RiscvCpu & HartVmstateAccess, hart: number, r: HartRecord): void {
  if (r.hartid !== hart) throw new HartStateError(`hart ${hart}: the saved state is hart ${r.hartid}'s`);
  if (r.priv !== 0 && r.priv !== 1 && r.priv !== 3) throw new HartStateError(`hart ${hart}: privilege ${r.priv} does not exist`);
  // From a clean hart (PMP unlocked, counters live): every CSR below is then written as saved.
  cpu.resetHart(hart, r.pc);
  for (const [name, n] of Object.entries(HART_CSRS)) cpu.setCsr(hart, n, r.csr[name]!);
  cpu.setPriv(hart, r.priv as PrivLevel);
  cpu.setPc(hart, r.pc);
  for (let i = 1; i < 32; i++) cpu.setX(hart, i, r.x[i]!);
  for (let i = 0; i < 32; i++) cpu.setF(hart, i, r.f[i]!);
  cpu.setMipSoftware(hart, r.mipSoftware);
  for (const line of LINES) cpu.setIrq(hart, line, ((r.irqLines >> BigInt(line)) & 1n) === 1n);
  cpu.flushTlb(hart);
  cpu.clearReservation();
  // Read back: what the core legalised differently is named (and the load undone by the caller).
  for (const [name, n] of Object.entries(HART_CSRS)) {
    const got = cpu.getCsr(hart, n);
    if (got !== r.csr[name]) {
      throw new HartStateError(`hart ${hart}: ${name} = 0x${r.csr[name]!.toString(16)} is not a value this core holds (it reads 0x${(got ?? 0n).toString(16)})`);
    }
  }
  if (cpu.getPc(hart) !== r.pc) throw new HartStateError(`hart ${hart}: pc 0x${r.pc.toString(16)} is not a value this core holds`);
  if (cpu.mipSoftware(hart) !== r.mipSoftware) throw new HartStateError(`hart ${hart}: mip software bits 0x${r.mipSoftware.toString(16)} are not valid`);
}
