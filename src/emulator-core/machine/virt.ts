// The riscv `virt` board (QEMU 7.2's hw/riscv/virt.c): a CPU with 1..8 harts, RAM at 0x80000000,
// the mask ROM, CLINT, PLIC, ns16550a UART, goldfish RTC, sifive_test and eight virtio-mmio slots,
// wired as QEMU wires them, with the firmware and images placed as QEMU places them. The run loop
// that drives it is run-loop.ts.
import { Irq, type RiscvCpu, type RiscvCpuOptions } from '../cpu/riscv/cpu';
import { Clint } from '../devices/clint';
import type { MmioDevice } from '../devices/device';
import { GoldfishRtc, type RtcTimeSource } from '../devices/goldfish-rtc';
import { GuestMemory } from '../devices/guest-memory';
import { Plic } from '../devices/plic';
import { SifiveTest, type FinisherEvent } from '../devices/sifive-test';
import { Uart16550, UartRegs } from '../devices/uart16550';
import { VirtioMmio } from '../devices/virtio/mmio';
import type { VirtioDevice } from '../devices/virtio/virtio-device';
import { planBoot, placeFdt, type BiosChoice, type BootPlan } from './boot-plan';
import { Bus } from './bus';
import { WallClock, IcountClock, type MachineClock } from './clock';
import { Csr } from './csr';
import { SbiFirmware, type ResetKind } from './firmware/sbi';
import { hasSstc } from './firmware/supervisor-entry';
import { Htif } from './firmware/htif';
import { maskRomImage } from './mask-rom';
import { RAM_BASE, VIRTIO_COUNT, VirtIrq, VirtMemmap } from './memory-map';
import { virtFdt } from './virt-fdt';

export interface VirtConfig {
  harts: number;
  ramSize: number;
  bios: BiosChoice;
  kernel?: { name: string; data: Uint8Array };
  initrd?: { name: string; data: Uint8Array };
  append?: string;
  /** -icount shift=N: guest time from the instruction count. */
  icountShift?: number;
  /** -no-reboot: a guest reboot ends the run instead. */
  noReboot?: boolean;
  /** -device virtio-*-device: placed from the last virtio-mmio slot down, as QEMU places them. */
  virtioDevices?: VirtioDevice[];
}

export type CpuFactory = (options: RiscvCpuOptions) => RiscvCpu | Promise<RiscvCpu>;

/** Why a run ended, and the process exit status QEMU would give. */
export type MachineExit =
  | { kind: 'poweroff'; code: 0 }
  | { kind: 'test-fail'; code: number }
  | { kind: 'htif-exit'; code: number }
  | { kind: 'reboot-refused'; code: 0 }
  | { kind: 'quit'; code: 0 }
  | { kind: 'firmware-panic'; code: 1; message: string };

/** Fixed -icount RTC start (2025-01-01T00:00:00Z): the guest's date must not depend on the host either. */
const ICOUNT_RTC_EPOCH_NS = 1_735_689_600n * 1_000_000_000n;

export class VirtMachine {
  readonly mem: GuestMemory;
  /** The CPU's report of memory written outside it (RiscvCpu.trackExternalWrites), if it has one. */
  private readonly externalWrite: ((offset?: number, length?: number) => void) | undefined;
  /** The board (or a snapshot load) rewrote the mask ROM: code there may have changed. */
  romWritten(): void {
    this.externalWrite?.();
  }
  readonly clint: Clint;
  readonly plic: Plic;
  readonly uart: Uart16550;
  readonly rtc: GoldfishRtc;
  readonly test: SifiveTest;
  readonly virtio: VirtioMmio[] = [];
  readonly sbi: SbiFirmware | undefined;
  readonly htif: Htif | undefined;
  readonly fdt: Uint8Array;
  readonly fdtAddr: number;
  readonly plan: BootPlan;
  /** Set by a device or the firmware; the run loop ends the run when it sees it. */
  pendingExit: MachineExit | undefined;
  /** A guest reboot was requested; the run loop resets the machine. */
  pendingReset = false;
  /**
   * A device got work from outside the guest (a network frame) and raised its interrupt: the run
   * loop sets this to its wake(), so a guest idle in WFI runs now rather than at its next timer.
   */
  onIo: () => void = () => {};
  /** The hart inside cpu.run() now (set by the run loop), or undefined between runs. */
  runningHart: number | undefined;
  /** A device started host work from a guest access (hostTurn); the run loop lets it run. */
  hostTurnPending = false;

  /**
   * A device started asynchronous host work during a guest access (a virtio-blk request: its
   * first steps are promise jobs, which only run when the run loop awaits): the running hart
   * stops after this instruction and the run loop lets the host start the work before any hart
   * runs on, instead of after the rest of the slice (up to SLICE_MS of guest time).
   */
  hostTurn(): void {
    this.hostTurnPending = true;
    if (this.runningHart !== undefined) this.cpu.requestExit();
  }

  private outBuf = new Uint8Array(4096);
  private outLen = 0;

  private constructor(
    readonly bus: Bus,
    readonly config: VirtConfig,
    readonly cpu: RiscvCpu,
    readonly clock: MachineClock,
    private readonly serialOut: (bytes: Uint8Array) => void,
    rngSeed: Uint8Array | undefined,
  ) {
    const harts = config.harts;
    this.mem = new GuestMemory(RAM_BASE, cpu.ram);
    // What devices and loaders write to RAM goes into the CPU's dirty-page log beside what its
    // harts write (a save looks only at pages written since the last one).
    const dirty = cpu.dirtyLog;
    if (dirty) this.mem.onWrite((offset, length) => dirty.markWritten(offset, length));
    // And they are what can change code under the CPU's decoded blocks and translations: reported,
    // so the CPU need not assume memory changed at every run and every device access.
    this.externalWrite = cpu.trackExternalWrites?.();
    const written = this.externalWrite;
    if (written) this.mem.onWrite((offset, length) => written(offset, length));
    this.bus.reserve('mrom', VirtMemmap.mrom.base, VirtMemmap.mrom.size);
    this.bus.reserve('ram', RAM_BASE, config.ramSize);

    this.clint = new Clint(harts, clock, {
      msip: (h, l) => {
        cpu.setIrq(h, Irq.MachineSoftware, l);
        // An IPI to another hart (OpenSBI's remote fences wait for it to answer): end this hart's
        // run so the target gets its turn now rather than after this one spins out its budget.
        if (l && this.runningHart !== undefined && h !== this.runningHart) cpu.requestExit();
      },
      mtip: (h, l) => cpu.setIrq(h, Irq.MachineTimer, l),
    });
    this.plic = new Plic(harts, (h, mode, l) => cpu.setIrq(h, mode === 'M' ? Irq.MachineExternal : Irq.SupervisorExternal, l));
    this.uart = new Uart16550(this.plic.line(VirtIrq.uart0), (b) => this.putSerial(b));
    const rtcTime: RtcTimeSource = clock.deterministic
      ? { nowNs: () => ICOUNT_RTC_EPOCH_NS + BigInt(clock.mtime()) * 100n }
      : { nowNs: () => BigInt(Date.now()) * 1_000_000n };
    this.rtc = new GoldfishRtc(rtcTime, this.plic.line(VirtIrq.rtc));
    this.test = new SifiveTest((e) => this.finisher(e));

    const map = (base: number, d: MmioDevice) => this.bus.map(base, d);
    map(VirtMemmap.test.base, this.test);
    map(VirtMemmap.rtc.base, this.rtc);
    map(VirtMemmap.clint.base, this.clint);
    map(VirtMemmap.plic.base, this.plic);
    map(VirtMemmap.uart0.base, this.uart);
    const devices = config.virtioDevices ?? [];
    if (devices.length > VIRTIO_COUNT) throw new RangeError(`${devices.length} virtio devices for ${VIRTIO_COUNT} virtio-mmio slots`);
    for (let i = 0; i < VIRTIO_COUNT; i++) {
      const base = VirtMemmap.virtio.base + i * VirtMemmap.virtio.size;
      const device = devices[VIRTIO_COUNT - 1 - i];
      const slot = new VirtioMmio(`virtio-mmio@${base.toString(16)}`, this.mem, this.plic.line(VirtIrq.virtio + i), device, () => this.hostTurn());
      this.virtio.push(slot);
      map(base, slot);
    }

    // Images, device tree, ROM.
    this.plan = planBoot({ ramSize: config.ramSize, bios: config.bios, kernel: config.kernel, initrd: config.initrd });
    this.fdt = virtFdt({
      harts,
      ramSize: config.ramSize,
      isa: isaString(cpu),
      mmuType: 'riscv,sv48',
      bootargs: config.append,
      initrd: this.plan.initrd,
      rngSeed,
    });
    this.fdtAddr = placeFdt(this.plan, config.ramSize, this.fdt);
    if (config.bios.kind === 'default') {
      this.sbi = new SbiFirmware({
        cpu,
        mem: this.mem,
        mtime: () => this.clint.mtime(),
        consolePutchar: (b) => this.putSerial(b),
        consoleGetchar: () => this.sbiGetchar(),
        systemReset: (kind, reason) => this.systemReset(kind, reason),
      });
    }
    if (this.plan.htif) this.htif = new Htif(this.mem, this.plan.htif.tohost, this.plan.htif.fromhost, (b) => this.putSerial(b));
    this.powerOn();
  }

  static async create(config: VirtConfig, makeCpu: CpuFactory, serialOut: (bytes: Uint8Array) => void, rngSeed?: Uint8Array): Promise<VirtMachine> {
    const bus = new Bus();
    const cpu = await makeCpu({
      harts: config.harts,
      ramBase: RAM_BASE,
      ramSize: config.ramSize,
      romBase: VirtMemmap.mrom.base,
      romSize: VirtMemmap.mrom.size,
      // The bus is only a table: devices are mapped on it after the CPU exists (they need its RAM).
      mmio: bus,
      builtinFirmware: config.bios.kind === 'default',
    });
    const clock: MachineClock = config.icountShift !== undefined ? new IcountClock(config.icountShift) : new WallClock();
    return new VirtMachine(bus, config, cpu, clock, serialOut, rngSeed);
  }

  /** Bytes typed on the serial line's host side. */
  serialIn(bytes: Uint8Array): void {
    this.uart.pushInput(bytes);
  }

  /** Hands buffered guest output to the host (the run loop calls it after every slice). */
  flushSerial(): void {
    if (this.outLen === 0) return;
    this.serialOut(this.outBuf.slice(0, this.outLen));
    this.outLen = 0;
  }

  /** Power-on and reboot: images back in RAM, devices and harts reset, harts at their entry. */
  powerOn(): void {
    for (const b of this.plan.blobs) {
      this.mem.writeBytes(b.addr, b.data);
      this.mem.fill(b.addr + b.data.length, b.size - b.data.length, 0);
    }
    this.cpu.rom.fill(0);
    this.cpu.rom.set(maskRomImage({ startAddr: this.plan.entry, fdtAddr: this.fdtAddr, nextAddr: this.plan.nextAddr, bootHart: 0 }));
    this.romWritten();
    for (const d of this.bus.devices()) d.reset();
    this.pendingReset = false;
    if (this.sbi) {
      // Built-in firmware: harts start in S-mode; hart 0 boots, the others wait for HSM hart_start.
      this.sbi.boot(0, this.plan.entry, this.fdtAddr);
    } else {
      for (let h = 0; h < this.config.harts; h++) this.cpu.resetHart(h, BigInt(VirtMemmap.mrom.base));
    }
  }

  private putSerial(byte: number): void {
    if (this.outLen === this.outBuf.length) this.flushSerial();
    this.outBuf[this.outLen++] = byte;
  }

  /** Legacy/DBCN console input, read from the UART as OpenSBI's uart8250 driver does. */
  private sbiGetchar(): number {
    const LSR_DR = 1;
    if ((this.uart.read(UartRegs.LCR, 1) & 0x80) !== 0) return -1; // divisor latch selected: RBR is hidden
    return this.uart.read(UartRegs.LSR, 1) & LSR_DR ? this.uart.read(UartRegs.RBR_THR_DLL, 1) : -1;
  }

  private finisher(e: FinisherEvent): void {
    if (e.kind === 'pass') this.pendingExit ??= { kind: 'poweroff', code: 0 };
    else if (e.kind === 'fail') this.pendingExit ??= { kind: 'test-fail', code: e.code };
    else this.requestReboot();
  }

  private systemReset(kind: ResetKind, _reason: number): void {
    if (kind === 'shutdown') this.pendingExit ??= { kind: 'poweroff', code: 0 };
    else this.requestReboot();
  }

  private requestReboot(): void {
    if (this.config.noReboot) this.pendingExit ??= { kind: 'reboot-refused', code: 0 };
    else this.pendingReset = true;
  }
}

/** riscv,isa from what the core reports: misa's letters (in canonical order) and the Z/S extensions. */
export function isaString(cpu: RiscvCpu): string {
  const misa = cpu.getCsr(0, Csr.misa) ?? 0n;
  const letters = [...'imafdc'].filter((l) => (misa >> BigInt(l.charCodeAt(0) - 97)) & 1n).join('');
  return `rv64${letters}_zicsr_zifencei_zihintpause${hasSstc(cpu) ? '_sstc' : ''}`;
}
