// Wall-clock mode: the time CSR within runs. Each run starts at the host clock (the guest-visible
// mtime) and advances per instruction at half the measured instruction rate, so rdtime moves
// between two reads inside a run (Linux's delay loops and jitterentropy need that) and rarely
// runs ahead of the host clock. Rarely is not never (the rate is an estimate, and a loaded host
// makes it a poor one), so two rules keep it a clock: a run never starts below what an earlier
// run could have shown (time never goes back), and while an earlier run showed more than the host
// clock has reached, the next one holds time still (it never drifts ahead by more than a run).
// The rate is learnt from rounds of any size: a low estimate shrinks the budgets, and must not
// thereby stop its own correction.
import type { TimeRate } from '../cpu/riscv/cpu';

/** mtime ticks per host millisecond (10 MHz), and the denominator of the per-instruction rate. */
const TICKS_PER_MS = 10_000;
const RATE_DEN = 1 << 16;
/** A rate sample spans at least this many instructions and host milliseconds. */
const SAMPLE_INSNS = 10_000;
const SAMPLE_MS = 0.05;

export class WallTime {
  /** Estimated guest instructions per host millisecond. */
  rate = 50_000;
  /** The highest time a run could have shown the guest. */
  private shown = 0n;
  /** The clock at the last start: guest-visible mtime goes back only when it is set. */
  private lastClock = 0n;
  private base = 0n;
  private perInsn: TimeRate = { num: 0, den: RATE_DEN, phase: 0 };
  private sampleInsns = 0;
  private sampleMs = 0;

  /** The time CSR for the next run: where it starts and how it moves, given mtime now. */
  start(clock: bigint): { mtime: bigint; rate: TimeRate } {
    // The host clock never goes back; mtime does when it is set (loadvm, a guest write to mtime),
    // and then time follows it.
    if (clock < this.lastClock) this.shown = 0n;
    this.lastClock = clock;
    if (clock < this.shown) {
      this.base = this.shown;
      this.perInsn = { num: 0, den: RATE_DEN, phase: 0 };
    } else {
      this.base = clock;
      const num = Math.min(0xffff_ffff, Math.max(0, Math.round((TICKS_PER_MS * RATE_DEN) / (2 * this.rate))));
      this.perInsn = { num, den: RATE_DEN, phase: 0 };
    }
    return { mtime: this.base, rate: this.perInsn };
  }

  /** The run that start() set up retired `n` instructions: the last one read this much time. */
  retired(n: number): void {
    if (n === 0) return;
    const r = this.perInsn;
    const shown = this.base + BigInt(Math.floor((r.phase + (n - 1) * r.num) / r.den));
    if (shown > this.shown) this.shown = shown;
  }

  /** A round of the harts ran `n` instructions in `ms` host milliseconds. */
  measured(n: number, ms: number): void {
    this.sampleInsns += n;
    this.sampleMs += ms;
    if (this.sampleInsns < SAMPLE_INSNS || this.sampleMs < SAMPLE_MS) return;
    this.rate = 0.8 * this.rate + 0.2 * (this.sampleInsns / this.sampleMs);
    this.sampleInsns = 0;
    this.sampleMs = 0;
  }
}
