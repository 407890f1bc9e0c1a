// Runs a VirtMachine: guest time in slices of a few milliseconds, harts round-robin within a
// slice (a hart never interleaves with another inside a run, so AMOs are atomic by construction),
// Node's event loop served between slices (serial input, signals, sockets). A hart in WFI, or
// stopped/suspended through SBI HSM, is not run until an interrupt is pending for it; when no
// hart can run the loop sleeps until the next timer deadline or an I/O wake-up, instead of
// spinning. Under -icount the budgets end exactly at timer deadlines and idle time is skipped,
// so two runs execute the same instructions and print the same output.
import { Exit } from '../cpu/riscv/cpu';
import { Csr } from './csr';
import { HartState } from './firmware/sbi';
import type { MachineExit, VirtMachine } from './virt';
import { WallTime } from './wall-time';

/** Wall-clock mode: how long we run guests before Node's event loop gets a turn. */
const SLICE_MS = 4;
/**
 * Wall-clock mode: the length of one round of all harts. Short, because a hart that waits for
 * another (OpenSBI's remote fences, Linux's smp_call_function) spins until that one runs: the
 * wait costs up to a round. Env VIVARIUM_ROUND_MS overrides it (for measurements).
 */
const ROUND_MS = Number(process.env.VIVARIUM_ROUND_MS ?? 1);
/** Icount mode: instructions per hart per round (fixed, so runs are reproducible). */
const ICOUNT_SLICE_INSNS = 200_000;
/** Bounds on a hart's budget in wall-clock mode. */
const MIN_BUDGET = 2_000;
const MAX_BUDGET = 20_000_000;
/** A sleeping loop still wakes this often (ms) to re-check its deadlines. */
const MAX_SLEEP_MS = 250;
const U64_MAX = (1n << 64n) - 1n;

export interface RunStats {
  instructions: number;
  slices: number;
  idleMs: number;
}

export class RunLoop {
  private readonly inWfi: boolean[];
  private stopRequest: MachineExit | undefined;
  private wakeUp: (() => void) | undefined;
  /** QMP stop: set while paused; resolving it lets the loop go on. */
  private held: { promise: Promise<void>; release: () => void } | undefined;
  /** Wall-clock mode: the instruction rate, and the time CSR within runs (wall-time.ts). */
  private readonly wall = new WallTime();
  readonly stats: RunStats = { instructions: 0, slices: 0, idleMs: 0 };

  constructor(private readonly m: VirtMachine) {
    this.inWfi = new Array<boolean>(m.config.harts).fill(false);
    m.onIo = () => this.wake();
  }

  /** Ends the run at the next slice boundary (Ctrl-A x, a QMP quit, a signal). */
  stop(exit: MachineExit): void {
    this.stopRequest ??= exit;
    this.held?.release();
    this.wake();
  }

  /**
   * QMP `stop`: no hart runs after the current slice until `resume`; guest time stands still
   * meanwhile (QEMU stops its virtual clock with the vCPUs).
   */
  pause(): void {
    if (this.held) return;
    let release!: () => void;
    const promise = new Promise<void>((r) => (release = r));
    this.held = { promise, release };
    this.m.clock.hold?.(true);
    this.wake();
  }

  /** QMP `cont`. */
  resume(): void {
    const held = this.held;
    if (!held) return;
    this.held = undefined;
    this.m.clock.hold?.(false);
    held.release();
  }

  get paused(): boolean {
    return this.held !== undefined;
  }

  /** Harts asleep in WFI (part of the machine's vmstate: host/machine-vmstate.ts). */
  wfiState(): boolean[] {
    return [...this.inWfi];
  }
  setWfiState(asleep: readonly boolean[]): void {
    if (asleep.length !== this.inWfi.length) throw new RangeError(`WFI state for ${asleep.length} harts, the machine has ${this.inWfi.length}`);
    asleep.forEach((v, h) => (this.inWfi[h] = v));
  }

  /** Called after every slice, before Node's event loop runs (a test pauses at an exact point). */
  onSlice: (() => void) | undefined;

  /** Something happened outside the guest (serial input): a sleeping loop looks again now. */
  wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  async run(): Promise<MachineExit> {
    const m = this.m;
    for (;;) {
      if (this.held) {
        await this.held.promise;
        if (this.stopRequest) return this.stopRequest;
      }
      const sliceStart = performance.now();
      let executed = 0;
      let exit: MachineExit | undefined;
      // Rounds until the slice is used up, something stops the run, or every hart sleeps.
      for (;;) {
        const started = performance.now();
        const n = this.round();
        if (m.hostTurnPending) {
          // A device started host I/O during the round: its first steps are promise jobs, which
          // run here, so the I/O is under way while the harts go on.
          m.hostTurnPending = false;
          await undefined;
        }
        executed += n;
        this.stats.instructions += n;
        this.stats.slices++;
        exit = this.stopRequest ?? m.pendingExit;
        if (exit || m.pendingReset || n === 0 || this.held) break;
        const now = performance.now();
        if (!m.clock.deterministic) this.wall.measured(n, now - started);
        if (m.clock.deterministic || now - sliceStart >= SLICE_MS) break;
      }
      m.flushSerial();
      this.onSlice?.();
      if (exit) return exit;
      if (m.pendingReset) {
        // Reboot, then let the event loop run as after any slice (a guest that reboots in a
        // loop must not starve Ctrl-A x or QMP).
        m.powerOn();
        this.inWfi.fill(false);
        await new Promise<void>((r) => setImmediate(r));
        continue;
      }
      if (executed === 0) await this.idle();
      else await new Promise<void>((r) => setImmediate(r));
    }
  }

  /**
   * One round over the harts; returns the instructions executed. A round cut short by a device's
   * host turn (VirtMachine.hostTurn) goes on from the next hart, so no hart is starved by another
   * that keeps starting I/O.
   */
  private round(): number {
    const m = this.m;
    const harts = m.config.harts;
    let total = 0;
    for (let i = 0; i < harts; i++) {
      const h = (this.firstHart + i) % harts;
      this.updateTime();
      if (!this.runnable(h)) continue;
      total += this.runHart(h, this.budget(h));
      if (m.pendingExit || m.pendingReset || this.stopRequest) break;
      if (m.hostTurnPending && i < harts - 1) {
        this.firstHart = (h + 1) % harts;
        return total;
      }
    }
    this.firstHart = 0;
    return total;
  }

  /** Where the next round starts (0 unless the last one was cut short for a host turn). */
  private firstHart = 0;

  private runnable(h: number): boolean {
    const { cpu, sbi } = this.m;
    if (sbi) {
      const s = sbi.hartState(h);
      if (s === HartState.Suspended && !sbi.wakeIfPending(h)) return false;
      if (s === HartState.Stopped) return false;
    }
    if (this.inWfi[h]) {
      if (!cpu.hasPendingInterrupt(h)) return false;
      this.inWfi[h] = false;
    }
    return true;
  }

  private runHart(h: number, budget: number): number {
    const m = this.m;
    const { cpu } = m;
    let remaining = budget;
    let done = 0;
    while (remaining > 0) {
      m.runningHart = h;
      let exit;
      try {
        exit = cpu.run(h, remaining);
      } finally {
        m.runningHart = undefined;
      }
      // A firmware call retires no instruction in the core; count it so a loop of calls ends.
      const n = Math.max(cpu.lastRunInstructions, exit === Exit.FirmwareCall ? 1 : 0);
      remaining -= n;
      done += n;
      m.clock.retired(n);
      if (!m.clock.deterministic) this.wall.retired(n);
      if (m.htif) {
        const ev = m.htif.poll();
        if (ev) m.pendingExit ??= { kind: 'htif-exit', code: ev.code };
      }
      if (exit === Exit.Budget || exit === Exit.Breakpoint || exit === Exit.Requested) break;
      if (exit === Exit.Wfi) {
        this.inWfi[h] = true;
        break;
      }
      if (exit === Exit.FirmwareTrap) {
        m.pendingExit ??= { kind: 'firmware-panic', code: 1, message: this.describeTrap(h) };
        break;
      }
      if (exit === Exit.FirmwareCall) {
        if (!m.sbi) {
          m.pendingExit ??= { kind: 'firmware-panic', code: 1, message: `hart ${h}: firmware call without the built-in firmware` };
          break;
        }
        const outcome = m.sbi.handleCall(h);
        if (outcome !== 'continue' || m.pendingExit || m.pendingReset) break;
        this.updateTime();
      }
    }
    return done;
  }

  /**
   * Time moves: the CPU's time CSR, the CLINT's MTIP, the RTC alarm and the SBI timers follow.
   * Within the next run the time CSR advances per instruction (Linux needs rdtime to move between
   * two reads, jitterentropy too): exactly as the clock under icount; under a wall clock as
   * wall-time.ts estimates it, never going back.
   */
  private updateTime(): void {
    const m = this.m;
    let now = m.clint.mtime();
    let rate = m.clock.timeRate();
    if (!rate) ({ mtime: now, rate } = this.wall.start(now));
    m.cpu.setTime(Number(now), rate);
    m.clint.update();
    m.rtc.update();
    m.sbi?.checkTimers(now);
  }

  /** The next moment (mtime) at which some timer fires, or undefined if none is armed. */
  private nextDeadline(): bigint | undefined {
    const m = this.m;
    let next = U64_MAX;
    for (let h = 0; h < m.config.harts; h++) {
      const candidates = [m.clint.timecmp(h), m.sbi?.nextTimer(h), m.cpu.getCsr(h, Csr.stimecmp)];
      for (const c of candidates) if (c !== undefined && c < next) next = c;
    }
    const alarm = m.rtc.nsUntilAlarm();
    if (alarm !== undefined) {
      const at = m.clint.mtime() + alarm / 100n;
      if (at < next) next = at;
    }
    return next === U64_MAX ? undefined : next;
  }

  private budget(_h: number): number {
    const m = this.m;
    const deadline = this.nextDeadline();
    const now = m.clint.mtime();
    if (m.clock.deterministic) {
      if (deadline === undefined || deadline <= now) return ICOUNT_SLICE_INSNS;
      // The deadline is in guest-visible mtime, which a guest write may have offset from the clock.
      const until = m.clock.instructionsUntil(m.clock.mtime() + Number(deadline - now))!;
      return Math.max(1, Math.min(ICOUNT_SLICE_INSNS, until));
    }
    const rate = this.wall.rate;
    let b = (rate * ROUND_MS) / Math.max(1, this.runnableCount());
    if (deadline !== undefined && deadline > now) b = Math.min(b, (rate * Number(deadline - now)) / 10_000);
    return Math.round(Math.min(MAX_BUDGET, Math.max(MIN_BUDGET, b)));
  }

  private runnableCount(): number {
    let n = 0;
    for (let h = 0; h < this.m.config.harts; h++) {
      if (this.inWfi[h]) continue;
      if (this.m.sbi && this.m.sbi.hartState(h) !== HartState.Started) continue;
      n++;
    }
    return n;
  }

  /** Nothing can run: wait for the next deadline or an I/O wake-up (icount: skip to the deadline). */
  private async idle(): Promise<void> {
    const m = this.m;
    const deadline = this.nextDeadline();
    const now = m.clint.mtime();
    if (m.clock.deterministic && deadline !== undefined) {
      m.clock.skipTo(m.clock.mtime() + Number(deadline > now ? deadline - now : 0n));
      await new Promise<void>((r) => setImmediate(r));
      return;
    }
    let ms = MAX_SLEEP_MS;
    if (deadline !== undefined) ms = Math.min(ms, Math.max(0, Number(deadline - now) / 10_000));
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      const timer = m.clock.deterministic ? undefined : setTimeout(done, ms);
      this.wakeUp = done;
      function done() {
        if (timer) clearTimeout(timer);
        resolve();
      }
    });
    this.wakeUp = undefined;
    this.stats.idleMs += performance.now() - t0;
  }

  private describeTrap(h: number): string {
    const { cpu } = this.m;
    const hex = (v: bigint | undefined) => (v === undefined ? '?' : `0x${v.toString(16)}`);
    return `hart ${h}: unexpected trap into M-mode: mcause=${hex(cpu.getCsr(h, Csr.mcause))} mepc=${hex(cpu.getCsr(h, Csr.mepc))} mtval=${hex(cpu.getCsr(h, Csr.mtval))} pc=${hex(cpu.getPc(h))}`;
  }
}
