import { describe, expect, it } from 'vitest';
import { IcountClock, WallClock } from './clock';

describe('guest clocks', () => {
  it('icount: time is instructions x 2^shift ns at 10 MHz, and idle skips ahead', () => {
    const c = new IcountClock(3); // 8 ns per instruction
    expect(c.mtime()).toBe(0);
    c.retired(1000); // 8000 ns = 80 ticks
    expect(c.mtime()).toBe(80);
    expect(c.instructionsUntil(100)).toBe(250); // 20 ticks = 2000 ns = 250 instructions
    expect(c.instructionsUntil(50)).toBe(0);
    c.skipTo(1_000_000);
    expect(c.mtime()).toBe(1_000_000);
    c.retired(125);
    expect(c.mtime()).toBe(1_000_010);
    expect(() => new IcountClock(11)).toThrow(RangeError);
  });
  it('wall clock: 10 MHz from the host, monotonic, not deterministic', async () => {
    const c = new WallClock();
    const a = c.mtime();
    await new Promise((r) => setTimeout(r, 20));
    const b = c.mtime();
    expect(b - a).toBeGreaterThanOrEqual(150_000);
    expect(b - a).toBeLessThan(5_000_000);
    expect(c.deterministic).toBe(false);
    expect(c.instructionsUntil()).toBeUndefined();
  });
});
