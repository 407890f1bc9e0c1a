// The contract between the RISC-V CPU (an AssemblyScript core compiled to WebAssembly) and the
// board that hosts it. The board (src/emulator-core/machine) sees only this file; the CPU knows
// nothing of devices: physical accesses outside RAM and ROM leave the core through `MmioPort`,
// interrupts arrive as line levels, and calls to the built-in firmware come back as run exits.
// The implementation: `createRiscvCpu(options)` in ./wasm-cpu.ts (it needs out/wasm/riscv64.wasm,
// built by `npm run build:wasm`; $VIVARIUM_WASM_DIR overrides where it is looked for).
import type { TranslatorFactory } from './translator-port';

/** Why `RiscvCpu.run` returned. */
export const Exit = {
  /** The hart executed its whole budget of instructions. */
  Budget: 0,
  /** The hart executed WFI and no enabled interrupt is pending: it sleeps until one is. */
  Wfi: 1,
  /**
   * Built-in firmware only: an ECALL from S- or U-mode that would trap to M-mode. pc still points
   * at the ECALL; a0..a7 hold the SBI call. The machine handles it, writes a0/a1 and sets pc += 4.
   */
  FirmwareCall: 2,
  /** Built-in firmware only: any other trap into M-mode (mcause/mepc/mtval say which): a firmware panic. */
  FirmwareTrap: 3,
  /** The hart hit a debugger breakpoint (gdbstub) before executing the instruction at pc. */
  Breakpoint: 4,
  /** The board called requestExit() during the run: pc is the next instruction to execute. */
  Requested: 5,
} as const;
export type ExitReason = (typeof Exit)[keyof typeof Exit];

/** Interrupt lines the board drives (bit numbers of mip, privileged spec 3.1.9). */
export const Irq = {
  SupervisorSoftware: 1,
  MachineSoftware: 3,
  SupervisorTimer: 5,
  MachineTimer: 7,
  SupervisorExternal: 9,
  MachineExternal: 11,
} as const;
export type IrqLine = (typeof Irq)[keyof typeof Irq];

/** Privilege levels as encoded in mstatus.MPP. */
export const Priv = { User: 0, Supervisor: 1, Machine: 3 } as const;
export type PrivLevel = (typeof Priv)[keyof typeof Priv];

/**
 * Physical accesses that hit neither RAM nor ROM. Sizes are 1, 2 or 4 bytes: the CPU splits an
 * 8-byte access into two 4-byte ones, low word first (as QEMU does for devices whose
 * max_access_size is 4). Values are unsigned 32-bit numbers.
 */
export interface MmioPort {
  /** The value read, or `undefined` when nothing answers at `paddr` (the CPU raises an access fault). */
  load(paddr: number, size: 1 | 2 | 4): number | undefined;
  /** False when nothing answers at `paddr` (the CPU raises an access fault). */
  store(paddr: number, size: 1 | 2 | 4, value: number): boolean;
}

/**
 * Guest time per instruction within a run (setTime): num / den ticks per instruction; phase / den
 * ticks already elapsed past the mtime given. Integers below 2^32 (den > 0), so under -icount
 * shift=N (num 2^N ns per instruction, den 100 ns per tick) the value is exact.
 */
export interface TimeRate {
  num: number;
  den: number;
  phase: number;
}

export interface RiscvCpuOptions {
  harts: number; // 1..8
  ramBase: number; // guest physical address of RAM (0x80000000 on virt)
  ramSize: number; // bytes, a multiple of 4 KiB
  romBase: number; // guest physical address of the mask ROM (0x1000 on virt)
  romSize: number; // bytes, at most 64 KiB
  mmio: MmioPort;
  /**
   * Built-in firmware (HLE SBI): harts start in S-mode, M-mode traps come back as run exits.
   * False for real M-mode firmware (OpenSBI) and bare-metal programs.
   */
  builtinFirmware: boolean;
  /**
   * Dynamic binary translation (-accel tcg): made once the core exists, it is handed the core's
   * memory, function table and helpers (translator-port.ts). Without it the core interprets
   * (-accel tci).
   */
  translator?: TranslatorFactory;
}

/**
 * Which 4 KiB pages of guest RAM were written (QEMU's dirty memory bitmap). The core marks every
 * page its harts write (stores, AMOs and SC, page-table A/D updates); the board marks what else
 * writes RAM (device DMA, loaders) with `markWritten`. A store to a page already marked costs
 * nothing: only a page's first store after its marks were taken goes through a slow path.
 * Several readers (a snapshot's chunk cache, a display) each see every write once.
 */
export interface RamDirtyLog {
  /** Marks RAM bytes [offset, offset + length) written (offsets into `RiscvCpu.ram`). */
  markWritten(offset: number, length: number): void;
  /** A new reader; its first `take` reports at least the writes made after this call. */
  reader(): RamDirtyReader;
}

export interface RamDirtyReader {
  /**
   * The pages written since this reader's last take (bit p & 7 of byte p >> 3: RAM page p), and
   * starts over. The array is the caller's. Call it between runs (the harts' write TLBs are dropped
   * so that they mark pages again).
   */
  take(): Uint8Array;
  /** Stops this reader (the log no longer keeps marks for it). */
  close(): void;
}

export interface RiscvCpu {
  readonly harts: number;
  /** Guest RAM, as devices see it (a view of the core's WebAssembly memory; never detached). */
  readonly ram: Uint8Array;
  /**
   * The dirty-page log of `ram` (snapshots use it to look only at RAM that changed). Optional: a
   * CPU without it makes every save and load look at all of RAM.
   */
  readonly dirtyLog?: RamDirtyLog;
  /** The mask ROM (reset vector, fw_dynamic info); writable by the board before the first run. */
  readonly rom: Uint8Array;

  /** Runs `hart` for at most `budget` instructions. */
  run(hart: number, budget: number): ExitReason;
  /** Instructions retired by the last `run`. */
  readonly lastRunInstructions: number;

  /**
   * The current mtime (10 MHz ticks): what the `time` CSR reads; Sstc compares stimecmp with it.
   * With a `rate`, time also advances within the next run by rate.num / rate.den ticks per
   * instruction retired, starting rate.phase / rate.den ticks past mtime (an instruction reads the
   * value for the instructions retired before it); without one it stands still until the next call.
   */
  setTime(mtime: number, rate?: TimeRate): void;
  /**
   * Ends the current run after the instruction being executed (callable from MmioPort callbacks,
   * e.g. a CLINT msip write that interrupts another hart): run() returns Exit.Requested. A no-op
   * outside a run.
   */
  requestExit(): void;
  /**
   * Drives an interrupt line of one hart (level-triggered). mip reads as the lines OR the bits
   * software wrote; CSR writes, CSRRS/CSRRC included, change only the software bits.
   */
  setIrq(hart: number, line: IrqLine, level: boolean): void;
  /**
   * True if the hart has an interrupt pending and enabled in mie (mip & mie != 0): what wakes a WFI
   * (spec 3.3.3; global enables do not matter, the next run takes the interrupt if they allow it).
   */
  hasPendingInterrupt(hart: number): boolean;

  /**
   * Power-on reset of one hart: M-mode, pc = `pc`, CSRs at their reset values (stimecmp = all
   * ones; interrupt line levels set by setIrq are kept).
   * With `builtinFirmware` the hart instead comes out in S-mode with the M-mode CSRs as OpenSBI
   * leaves them for a kernel: medeleg = 0xb1ff (every exception but S-mode ECALL), mideleg =
   * SSIP|STIP|SEIP, mcounteren = all ones, menvcfg.STCE = 1 (Sstc), pmp0 = NAPOT over all memory
   * with RWX. The board still sets pc and a0/a1 (or calls setPriv/setCsr to change any of it).
   */
  resetHart(hart: number, pc: bigint): void;
  getPc(hart: number): bigint;
  setPc(hart: number, pc: bigint): void;
  getX(hart: number, reg: number): bigint;
  setX(hart: number, reg: number, value: bigint): void;
  getF(hart: number, reg: number): bigint;
  setF(hart: number, reg: number, value: bigint): void;
  /** undefined for a CSR the core does not implement. */
  getCsr(hart: number, csr: number): bigint | undefined;
  /** Writes as M-mode would (WARL rules apply); false for a CSR the core does not implement. */
  setCsr(hart: number, csr: number, value: bigint): boolean;
  getPriv(hart: number): PrivLevel;
  setPriv(hart: number, priv: PrivLevel): void;
  /** Instructions retired by the hart since reset (minstret). */
  instret(hart: number): number;
  /** Drops the hart's cached translations (SBI remote SFENCE.VMA; satp changes do this themselves). */
  flushTlb(hart: number): void;
  /**
   * Precise tracking of guest memory written outside the core. Once called, the core no longer
   * assumes memory may have changed at every run() and every device access (which makes it check
   * its decoded blocks and translations against guest memory again): the caller reports every RAM
   * range it writes (offset, length) through the returned function, and calls it with no range
   * after writing the ROM or anything wholesale. Optional: a core without it checks as before.
   */
  trackExternalWrites?(): (offset?: number, length?: number) => void;
  /**
   * Debugger breakpoints (virtual addresses, every hart; at most 32; [] clears them): run() returns
   * Exit.Breakpoint with pc at one before executing it, except at the pc the run starts from (so
   * resuming from a breakpoint executes it). Optional: cores without a debugger need not have it.
   */
  setBreakpoints?(pcs: readonly bigint[]): void;
}
