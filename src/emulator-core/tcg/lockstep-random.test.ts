// Differential testing of the translator on random programs (testing/random-program.ts): each
// runs on an interpreting core and a translating one in lockstep, slice by slice, and must leave
// identical state after every slice and identical RAM at the end. Slices, the hot threshold and
// the batch size vary with the seed, so translations appear at the start of a run, in the middle
// of one (batch 1 translates inside the run), and code runs partly translated, partly not.
// A run looks at VIV_TCG_PROGRAMS programs (default 32) from seed VIV_TCG_SEED (default 1); a
// failure names its seed and options and prints the program.
import { describe, expect, test } from 'vitest';
import { runLockstep } from './testing/lockstep';
import { randomProgram } from './testing/random-program';

const COUNT = Number(process.env.VIV_TCG_PROGRAMS ?? 32);
const FIRST = Number(process.env.VIV_TCG_SEED ?? 1);
const SLICES = [1, 3, 17, 100, 1000];

function programOptions(seed: number): { compressed: boolean; steps: number; slice: number; hotThreshold: number; batch: number } {
  return {
    compressed: seed % 2 === 0,
    steps: 40 + (seed % 7) * 15,
    slice: SLICES[seed % SLICES.length]!,
    hotThreshold: 1 + (seed % 3),
    batch: seed % 4 === 3 ? 1 : 64,
  };
}

describe('random RV64IMC programs: tci and tcg in lockstep', () => {
  test(`${COUNT} programs from seed ${FIRST}`, () => {
    const failures: string[] = [];
    let firstListing = '';
    let regions = 0;
    let entered = 0;
    let ranTranslated = 0;
    let traps = 0;
    let interrupts = 0;
    for (let seed = FIRST; seed < FIRST + COUNT; seed++) {
      const o = programOptions(seed);
      const p = randomProgram(seed, o);
      const r = runLockstep(p.elf, { slice: o.slice, maxInstructions: 2_000_000, ramSize: 1 << 20, tcg: { hotThreshold: o.hotThreshold, batch: o.batch } });
      const counters = (r.tcg as unknown as { perfCounters(): { jitEnter: number; exception: number; interrupt: number } }).perfCounters();
      const enters = counters.jitEnter;
      traps += counters.exception;
      interrupts += counters.interrupt;
      regions += r.tcg.codeTranslator?.stats.regions ?? 0;
      entered += enters;
      if (enters > 0) ranTranslated++;
      if (r.mismatch || r.status !== 'pass' || r.tcg.codeTranslator?.stats.failures) {
        failures.push(`seed ${seed} ${JSON.stringify(o)}: ${r.status} ${r.mismatch ?? ''} ${r.tcg.codeTranslator?.stats.lastFailure ?? ''}`);
        firstListing ||= p.listing();
      }
    }
    if (failures.length) console.log(`first failing program:\n${firstListing}`);
    expect(failures).toEqual([]);
    // Not vacuous: code was translated, translated code ran in most programs, traps and the timer's
    // interrupts were taken.
    expect(regions).toBeGreaterThan(COUNT);
    expect(entered).toBeGreaterThan(COUNT * 10);
    expect(ranTranslated).toBeGreaterThan(COUNT * 0.75);
    expect(traps).toBeGreaterThan(COUNT * 10);
    expect(interrupts).toBeGreaterThan(COUNT);
  }, Math.max(120_000, COUNT * 1000));
});
