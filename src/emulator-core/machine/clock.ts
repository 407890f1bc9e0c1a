// Guest time. QEMU virt's mtime runs at 10 MHz; by default from the host's monotonic clock, and
// under -icount shift=N from the instruction count, each instruction taking 2^N ns of guest time
// (QEMU's icount), so a run's output is a function of its inputs alone. When every hart sleeps,
// an icount machine skips ahead to the next timer at once (QEMU's -icount sleep=off) instead of
// waiting for the host.
import type { TimeRate } from '../cpu/riscv/cpu';
import type { GuestClock } from '../devices/device';
import { TIMEBASE_HZ } from './memory-map';

export interface MachineClock extends GuestClock {
  readonly deterministic: boolean;
  /** Counts instructions the harts retired (icount: that is what moves time). */
  retired(instructions: number): void;
  /** Instructions needed before mtime reaches `ticks` (icount only; wall clocks answer undefined). */
  instructionsUntil(ticks: number): number | undefined;
  /**
   * How mtime moves per instruction from now on, exactly (icount: the CPU's `time` CSR then
   * advances within a run as this clock will); undefined for a wall clock (the run loop estimates).
   */
  timeRate(): TimeRate | undefined;
  /** Idle with nothing runnable: an icount clock jumps to `ticks`; a wall clock is left alone. */
  skipTo(ticks: number): void;
  /** The VM is paused (true) or resumed (false): a wall clock does not count the pause. */
  hold?(paused: boolean): void;
  /** For a snapshot: guest time, and under icount what it is made of (host/machine-vmstate.ts). */
  saveState(): ClockState;
  /** Guest time continues from a snapshot's: a wall clock from its mtime, an icount clock exactly. */
  loadState(state: ClockState): void;
}

export interface ClockState {
  /** mtime (10 MHz ticks) at the save. */
  mtime: number;
  /** Icount only: instructions retired and idle ticks skipped (0 for a wall clock). */
  instructions: number;
  skippedTicks: number;
}

const TICKS_PER_MS = TIMEBASE_HZ / 1000;

export class WallClock implements MachineClock {
  readonly deterministic = false;
  private start = performance.now();
  private heldAt: number | undefined;
  mtime(): number {
    return Math.floor(((this.heldAt ?? performance.now()) - this.start) * TICKS_PER_MS);
  }
  hold(paused: boolean): void {
    if (paused) this.heldAt ??= performance.now();
    else if (this.heldAt !== undefined) {
      this.start += performance.now() - this.heldAt; // the pause never happened, for the guest
      this.heldAt = undefined;
    }
  }
  saveState(): ClockState {
    return { mtime: this.mtime(), instructions: 0, skippedTicks: 0 };
  }
  loadState(state: ClockState): void {
    this.start = (this.heldAt ?? performance.now()) - state.mtime / TICKS_PER_MS;
  }
  retired(): void {}
  timeRate(): undefined {
    return undefined;
  }
  instructionsUntil(): undefined {
    return undefined;
  }
  skipTo(): void {}
}

/** 1 tick = 100 ns at 10 MHz. */
const NS_PER_TICK = 1e9 / TIMEBASE_HZ;

export class IcountClock implements MachineClock {
  readonly deterministic = true;
  private instructions = 0;
  private skippedTicks = 0;
  private readonly nsPerInsn: number;

  constructor(readonly shift: number) {
    if (!Number.isInteger(shift) || shift < 0 || shift > 10) throw new RangeError(`icount shift ${shift} is not in 0..10`);
    this.nsPerInsn = 2 ** shift;
  }

  mtime(): number {
    return Math.floor((this.instructions * this.nsPerInsn) / NS_PER_TICK) + this.skippedTicks;
  }
  retired(instructions: number): void {
    this.instructions += instructions;
  }
  /** 2^shift ns per instruction over 100 ns per tick; the phase is what mtime()'s floor drops. */
  timeRate(): TimeRate {
    const den = NS_PER_TICK;
    return { num: this.nsPerInsn, den, phase: ((this.instructions % den) * this.nsPerInsn) % den };
  }
  saveState(): ClockState {
    return { mtime: this.mtime(), instructions: this.instructions, skippedTicks: this.skippedTicks };
  }
  loadState(state: ClockState): void {
    this.instructions = state.instructions;
    this.skippedTicks = state.skippedTicks;
  }
  instructionsUntil(ticks: number): number {
    const d = ticks - this.mtime();
    return d <= 0 ? 0 : Math.ceil((d * NS_PER_TICK) / this.nsPerInsn);
  }
  skipTo(ticks: number): void {
    const now = this.mtime();
    if (ticks > now) this.skippedTicks += ticks - now;
  }
}
