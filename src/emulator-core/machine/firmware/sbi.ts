// The built-in firmware (-bios default): an SBI v2.0 implementation (RISC-V Supervisor Binary
// Interface spec v2.0) that answers the kernel's ECALLs, which the CPU hands back as
// Exit.FirmwareCall. It lives in the emulator core, not in a guest binary: see
// docs/decisions/builtin-sbi.md (no cross toolchain at build time; a call costs one run exit).
// Extensions: Base, TIME, IPI, RFENCE, HSM, SRST, DBCN and the legacy console/timer/IPI/fence/
// shutdown calls (earlycon=sbi uses legacy putchar on firmwares without DBCN).
import { Irq, type RiscvCpu } from '../../cpu/riscv/cpu';
import type { GuestMemory } from '../../devices/guest-memory';
import { Csr } from '../csr';
import { enterSupervisor } from './supervisor-entry';

export const SbiError = {
  Success: 0n,
  Failed: -1n,
  NotSupported: -2n,
  InvalidParam: -3n,
  Denied: -4n,
  InvalidAddress: -5n,
  AlreadyAvailable: -6n,
  AlreadyStarted: -7n,
  AlreadyStopped: -8n,
} as const;

export const Ext = {
  Base: 0x10,
  Time: 0x54494d45,
  Ipi: 0x735049,
  Rfence: 0x52464e43,
  Hsm: 0x48534d,
  Srst: 0x53525354,
  Dbcn: 0x4442434e,
  LegacySetTimer: 0x00,
  LegacyPutchar: 0x01,
  LegacyGetchar: 0x02,
  LegacyClearIpi: 0x03,
  LegacySendIpi: 0x04,
  LegacyRemoteFenceI: 0x05,
  LegacyRemoteSfenceVma: 0x06,
  LegacyRemoteSfenceVmaAsid: 0x07,
  LegacyShutdown: 0x08,
} as const;

/** SBI 2.0: (major << 24) | minor. */
export const SBI_SPEC_VERSION = 2n << 24n;
/** Not in the SBI spec's registry of implementation ids: ours, "Vv". */
export const SBI_IMPL_ID = 0x5676n;
export const SBI_IMPL_VERSION = 1n;

/** HSM states (SBI spec 9.1). */
export const HartState = {
  Started: 0,
  Stopped: 1,
  StartPending: 2,
  StopPending: 3,
  Suspended: 4,
  SuspendPending: 5,
  ResumePending: 6,
} as const;
export type HartStateValue = (typeof HartState)[keyof typeof HartState];

const SUSPEND_RETENTIVE = 0x0000_0000n;
const SUSPEND_NON_RETENTIVE = 0x8000_0000n;

export type ResetKind = 'shutdown' | 'cold-reboot' | 'warm-reboot';

/** What the firmware needs from the machine around it. */
export interface SbiPlatform {
  readonly cpu: RiscvCpu;
  readonly mem: GuestMemory;
  /** mtime as the harts see it. */
  mtime(): bigint;
  consolePutchar(byte: number): void;
  /** The next input byte, or -1. */
  consoleGetchar(): number;
  systemReset(kind: ResetKind, reason: number): void;
}

/** What the run loop does with the calling hart after a call. */
export type CallOutcome = 'continue' | 'stopped' | 'suspended' | 'reset';

export interface SbiHartSnapshot {
  state: HartStateValue;
  timer: bigint | undefined;
  suspension: Suspension | undefined;
}

export interface Suspension {
  retentive: boolean;
  resumeAddr: number;
  opaque: bigint;
}

const U64 = (v: bigint) => BigInt.asUintN(64, v);
const MIP_SSIP = 1n << 1n;
const XLEN_MINUS_ONE = (1n << 64n) - 1n;

export class SbiFirmware {
  private readonly state: HartStateValue[];
  /** S-mode timer deadline per hart (SBI set_timer), undefined when none is armed. */
  private readonly timer: (bigint | undefined)[];
  private readonly suspension: (Suspension | undefined)[];

  constructor(private readonly p: SbiPlatform) {
    const n = p.cpu.harts;
    this.state = new Array<HartStateValue>(n).fill(HartState.Stopped);
    this.timer = new Array<bigint | undefined>(n).fill(undefined);
    this.suspension = new Array<Suspension | undefined>(n).fill(undefined);
  }

  /** Power-on: the boot hart enters the kernel, the others wait for hart_start (as with OpenSBI's HSM). */
  boot(bootHart: number, entry: number, fdtAddr: number): void {
    const n = this.p.cpu.harts;
    for (let h = 0; h < n; h++) {
      this.state[h] = HartState.Stopped;
      this.timer[h] = undefined;
      this.suspension[h] = undefined;
      this.p.cpu.setIrq(h, Irq.SupervisorTimer, false);
      this.p.cpu.setCsr(h, Csr.mip, 0n);
    }
    enterSupervisor(this.p.cpu, bootHart, entry, BigInt(bootHart), BigInt(fdtAddr));
    this.state[bootHart] = HartState.Started;
  }

  /** The firmware's per-hart state, for a snapshot (host/machine-vmstate.ts declares it). */
  saveState(): SbiHartSnapshot[] {
    return this.state.map((state, h) => ({ state, timer: this.timer[h], suspension: this.suspension[h] && { ...this.suspension[h] } }));
  }
  loadState(harts: readonly SbiHartSnapshot[]): void {
    if (harts.length !== this.state.length) throw new RangeError(`SBI state for ${harts.length} harts, the machine has ${this.state.length}`);
    harts.forEach((s, h) => {
      if (!Object.values(HartState).includes(s.state)) throw new RangeError(`SBI hart ${h}: HSM state ${s.state} does not exist`);
      this.state[h] = s.state;
      this.timer[h] = s.timer;
      this.suspension[h] = s.suspension && { ...s.suspension };
    });
  }

  hartState(hart: number): HartStateValue {
    return this.state[hart]!;
  }

  /** The earliest armed SBI timer deadline (for the run loop's sleep), or undefined. */
  nextTimer(hart: number): bigint | undefined {
    return this.timer[hart];
  }

  /** Raises STIP on every hart whose SBI timer has expired (OpenSBI does it from its MTIP handler). */
  checkTimers(now: bigint): void {
    for (let h = 0; h < this.timer.length; h++) {
      const t = this.timer[h];
      if (t !== undefined && now >= t) {
        this.timer[h] = undefined;
        this.p.cpu.setIrq(h, Irq.SupervisorTimer, true);
      }
    }
  }

  /** A suspended hart with an interrupt pending wakes (retentive: after the call; else at resume_addr). */
  wakeIfPending(hart: number): boolean {
    if (this.state[hart] !== HartState.Suspended) return false;
    if (!this.p.cpu.hasPendingInterrupt(hart)) return false;
    const s = this.suspension[hart]!;
    this.suspension[hart] = undefined;
    this.state[hart] = HartState.Started;
    if (!s.retentive) enterSupervisor(this.p.cpu, hart, s.resumeAddr, BigInt(hart), s.opaque);
    return true;
  }

  /** Answers the ECALL the hart is stopped at (pc at the ECALL; a0..a7 hold the call). */
  handleCall(hart: number): CallOutcome {
    const cpu = this.p.cpu;
    const a = (i: number) => cpu.getX(hart, 10 + i);
    const eid = Number(a(7) & 0xffff_ffffn);
    const fid = Number(a(6) & 0xffff_ffffn);
    let outcome: CallOutcome = 'continue';
    let result: { error: bigint; value?: bigint; legacy?: boolean };
    switch (eid) {
      case Ext.Base:
        result = this.base(hart, fid, a(0));
        break;
      case Ext.Time:
        result = fid === 0 ? this.setTimer(hart, a(0)) : { error: SbiError.NotSupported };
        break;
      case Ext.Ipi:
        result = fid === 0 ? this.forHarts(a(0), a(1), (h) => this.raiseIpi(h)) : { error: SbiError.NotSupported };
        break;
      case Ext.Rfence:
        result = fid <= 2 ? this.forHarts(a(0), a(1), (h) => cpu.flushTlb(h)) : { error: SbiError.NotSupported }; // 3..6: hypervisor fences, no H extension
        break;
      case Ext.Hsm: {
        const r = this.hsm(hart, fid, a(0), a(1), a(2));
        result = r.result;
        outcome = r.outcome;
        break;
      }
      case Ext.Srst:
        result = this.srst(fid, a(0), a(1));
        if (result.error === SbiError.Success) outcome = 'reset';
        break;
      case Ext.Dbcn:
        result = this.dbcn(fid, a(0), a(1), a(2));
        break;
      case Ext.LegacySetTimer:
        result = { ...this.setTimer(hart, a(0)), legacy: true };
        break;
      case Ext.LegacyPutchar:
        this.p.consolePutchar(Number(a(0) & 0xffn));
        result = { error: 0n, legacy: true };
        break;
      case Ext.LegacyGetchar:
        result = { error: BigInt(this.p.consoleGetchar()), legacy: true };
        break;
      case Ext.LegacyClearIpi:
        cpu.setCsr(hart, Csr.mip, 0n);
        result = { error: 0n, legacy: true };
        break;
      case Ext.LegacySendIpi:
      case Ext.LegacyRemoteFenceI:
      case Ext.LegacyRemoteSfenceVma:
      case Ext.LegacyRemoteSfenceVmaAsid: {
        const mask = this.legacyMask(hart, a(0));
        if (mask === undefined) {
          result = { error: SbiError.InvalidAddress, legacy: true };
          break;
        }
        const act = eid === Ext.LegacySendIpi ? (h: number) => this.raiseIpi(h) : (h: number) => cpu.flushTlb(h);
        result = { ...this.forHarts(mask, 0n, act), legacy: true };
        break;
      }
      case Ext.LegacyShutdown:
        this.p.systemReset('shutdown', 0);
        result = { error: 0n, legacy: true };
        outcome = 'reset';
        break;
      default:
        result = { error: SbiError.NotSupported };
    }

    if (outcome === 'stopped') return outcome; // hart_stop does not return
    if (outcome === 'suspended' && !this.suspension[hart]!.retentive) return outcome; // resumes elsewhere
    cpu.setX(hart, 10, U64(result.error));
    if (!result.legacy) cpu.setX(hart, 11, U64(result.value ?? 0n));
    cpu.setPc(hart, cpu.getPc(hart) + 4n);
    return outcome;
  }

  /**
   * An IPI sets the target's mip.SSIP as M-mode software would (OpenSBI does it in its MSIP
   * handler), not as a line: S-mode acknowledges it by clearing sip.SSIP, which a board-driven
   * level would override. Writing only SSIP leaves the line-driven STIP/SEIP alone.
   */
  private raiseIpi(hart: number): void {
    this.p.cpu.setCsr(hart, Csr.mip, MIP_SSIP);
  }

  private base(hart: number, fid: number, arg: bigint): { error: bigint; value: bigint } {
    const csr = (n: number) => this.p.cpu.getCsr(hart, n) ?? 0n;
    switch (fid) {
      case 0:
        return { error: 0n, value: SBI_SPEC_VERSION };
      case 1:
        return { error: 0n, value: SBI_IMPL_ID };
      case 2:
        return { error: 0n, value: SBI_IMPL_VERSION };
      case 3:
        return { error: 0n, value: this.implemented(arg) ? 1n : 0n };
      case 4:
        return { error: 0n, value: csr(Csr.mvendorid) };
      case 5:
        return { error: 0n, value: csr(Csr.marchid) };
      case 6:
        return { error: 0n, value: csr(Csr.mimpid) };
      default:
        return { error: SbiError.NotSupported, value: 0n };
    }
  }

  private implemented(eid: bigint): boolean {
    return (Object.values(Ext) as number[]).includes(Number(eid & 0xffff_ffffn)) && eid <= 0xffff_ffffn;
  }

  private setTimer(hart: number, deadline: bigint): { error: bigint } {
    // A new deadline clears the pending timer interrupt (SBI spec 6.1).
    this.p.cpu.setIrq(hart, Irq.SupervisorTimer, false);
    this.timer[hart] = deadline === XLEN_MINUS_ONE ? undefined : deadline;
    this.checkTimers(this.p.mtime());
    return { error: 0n };
  }

  /** Applies `act` to each hart of (hart_mask, hart_mask_base); base -1 means every hart (SBI 3.1). */
  private forHarts(mask: bigint, base: bigint, act: (hart: number) => void): { error: bigint } {
    const n = BigInt(this.p.cpu.harts);
    const targets: number[] = [];
    if (base === XLEN_MINUS_ONE) {
      for (let h = 0; h < this.p.cpu.harts; h++) targets.push(h);
    } else {
      for (let rest = mask, bit = 0n; rest !== 0n; rest >>= 1n, bit++) {
        if ((rest & 1n) === 0n) continue;
        const h = base + bit;
        if (h >= n) return { error: SbiError.InvalidParam };
        targets.push(Number(h));
      }
    }
    targets.forEach(act);
    return { error: 0n };
  }

  /**
   * Legacy IPI/fence calls pass a pointer to a hart mask in S-mode memory. Only an untranslated
   * (satp Bare) pointer or none (all harts) can be read from here; these calls are deprecated
   * since SBI 0.2 and Linux uses the IPI/RFENCE extensions instead.
   */
  private legacyMask(hart: number, ptr: bigint): bigint | undefined {
    if (ptr === 0n) return (1n << BigInt(this.p.cpu.harts)) - 1n;
    if ((this.p.cpu.getCsr(hart, Csr.satp) ?? 0n) >> 60n !== 0n) return undefined;
    const addr = Number(ptr);
    return this.p.mem.contains(addr, 8) ? this.p.mem.readU64(addr) : undefined;
  }

  private hsm(hart: number, fid: number, a0: bigint, a1: bigint, a2: bigint): { result: { error: bigint; value?: bigint }; outcome: CallOutcome } {
    const n = BigInt(this.p.cpu.harts);
    const ok = (value = 0n) => ({ result: { error: 0n, value }, outcome: 'continue' as CallOutcome });
    const err = (error: bigint) => ({ result: { error }, outcome: 'continue' as CallOutcome });
    switch (fid) {
      case 0: {
        // hart_start(hartid, start_addr, opaque)
        if (a0 >= n) return err(SbiError.InvalidParam);
        const target = Number(a0);
        if (this.state[target] !== HartState.Stopped) return err(SbiError.AlreadyAvailable);
        if (!this.executable(a1)) return err(SbiError.InvalidAddress);
        enterSupervisor(this.p.cpu, target, Number(a1), a0, a2);
        this.p.cpu.setCsr(target, Csr.mip, 0n);
        this.p.cpu.setIrq(target, Irq.SupervisorTimer, false);
        this.timer[target] = undefined;
        this.state[target] = HartState.Started;
        return ok();
      }
      case 1:
        // hart_stop(): the caller stops; the call does not return.
        this.state[hart] = HartState.Stopped;
        this.timer[hart] = undefined;
        return { result: { error: 0n }, outcome: 'stopped' };
      case 2:
        if (a0 >= n) return err(SbiError.InvalidParam);
        return ok(BigInt(this.state[Number(a0)]!));
      case 3: {
        // hart_suspend(suspend_type, resume_addr, opaque)
        const type = a0 & 0xffff_ffffn;
        const retentive = type === SUSPEND_RETENTIVE;
        if (!retentive && type !== SUSPEND_NON_RETENTIVE) {
          // Reserved types are invalid; platform-specific ones (0x10000000.., 0x90000000..) we do not have.
          const platformSpecific = (type >= 0x1000_0000n && type <= 0x7fff_ffffn) || type >= 0x9000_0000n;
          return err(platformSpecific ? SbiError.NotSupported : SbiError.InvalidParam);
        }
        if (!retentive && !this.executable(a1)) return err(SbiError.InvalidAddress);
        this.suspension[hart] = { retentive, resumeAddr: Number(a1), opaque: a2 };
        this.state[hart] = HartState.Suspended;
        return { result: { error: 0n }, outcome: 'suspended' };
      }
      default:
        return err(SbiError.NotSupported);
    }
  }

  /** An address a hart may start at: inside RAM (the only executable memory S-mode is given). */
  private executable(addr: bigint): boolean {
    return addr <= BigInt(Number.MAX_SAFE_INTEGER) && this.p.mem.contains(Number(addr), 4) && (addr & 1n) === 0n;
  }

  private srst(fid: number, type: bigint, reason: bigint): { error: bigint } {
    if (fid !== 0) return { error: SbiError.NotSupported };
    const kinds: ResetKind[] = ['shutdown', 'cold-reboot', 'warm-reboot'];
    if (type > 2n) return { error: type >= 0xf000_0000n && type <= 0xffff_ffffn ? SbiError.NotSupported : SbiError.InvalidParam };
    if (reason > 1n) return { error: reason >= 0xf000_0000n && reason <= 0xffff_ffffn ? SbiError.NotSupported : SbiError.InvalidParam };
    this.p.systemReset(kinds[Number(type)]!, Number(reason));
    return { error: 0n };
  }

  /** Debug console (SBI 12): physical buffers, checked against RAM. */
  private dbcn(fid: number, a0: bigint, a1: bigint, a2: bigint): { error: bigint; value?: bigint } {
    if (fid === 2) {
      this.p.consolePutchar(Number(a0 & 0xffn));
      return { error: 0n };
    }
    if (fid !== 0 && fid !== 1) return { error: SbiError.NotSupported };
    // On RV64 the address is a1 (low) with a2 (high XLEN bits) zero.
    const addr = Number(a1);
    const len = Number(a0 > 1n << 32n ? 1n << 32n : a0);
    if (a2 !== 0n || a1 > BigInt(Number.MAX_SAFE_INTEGER) || !this.p.mem.contains(addr, len)) return { error: SbiError.InvalidParam };
    if (fid === 0) {
      const bytes = this.p.mem.slice(addr, len);
      for (const b of bytes) this.p.consolePutchar(b);
      return { error: 0n, value: BigInt(len) };
    }
    let n = 0;
    while (n < len) {
      const c = this.p.consoleGetchar();
      if (c < 0) break;
      this.p.mem.write8(addr + n, c);
      n++;
    }
    return { error: 0n, value: BigInt(n) };
  }
}
