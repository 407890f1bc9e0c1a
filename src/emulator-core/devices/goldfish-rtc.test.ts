import { describe, expect, it } from 'vitest';
import { GoldfishRtc } from './goldfish-rtc';

function setup(startNs = 1_700_000_000_123_456_789n) {
  const clock = { ns: startNs, nowNs: () => clock.ns };
  const levels: boolean[] = [];
  const rtc = new GoldfishRtc(clock, (l) => levels.push(l));
  return { clock, rtc, levels };
}

describe('goldfish RTC', () => {
  it('reads a consistent 64-bit time: TIME_LOW latches TIME_HIGH', () => {
    const { rtc, clock } = setup();
    const low = rtc.read(0x00, 4);
    clock.ns += 1n << 40n; // time moves on between the two reads
    const high = rtc.read(0x04, 4);
    expect((BigInt(high) << 32n) | BigInt(low)).toBe(1_700_000_000_123_456_789n);
  });
  it('shifts the clock when the guest sets the time', () => {
    const { rtc, clock } = setup(5_000_000_000n);
    rtc.write(0x04, 4, 1);
    rtc.write(0x00, 4, 7);
    expect(rtc.now()).toBe((1n << 32n) | 7n);
    clock.ns += 10n;
    expect(rtc.now()).toBe((1n << 32n) | 17n);
  });
  it('fires the alarm at its time, interrupts while enabled, and clears', () => {
    const { rtc, clock, levels } = setup(1000n);
    rtc.write(0x10, 4, 1);
    rtc.write(0x0c, 4, 0);
    rtc.write(0x08, 4, 1500);
    expect(rtc.read(0x18, 4)).toBe(1);
    expect(rtc.nsUntilAlarm()).toBe(500n);
    rtc.update();
    expect(levels).toEqual([]);
    clock.ns = 1500n;
    rtc.update();
    expect(levels).toEqual([true]);
    expect(rtc.read(0x18, 4)).toBe(0);
    rtc.write(0x1c, 4, 1);
    expect(levels).toEqual([true, false]);
    // An alarm set in the past fires at once.
    rtc.write(0x08, 4, 10);
    expect(levels).toEqual([true, false, true]);
  });
  it('round-trips its state', () => {
    const a = setup();
    a.rtc.write(0x10, 4, 1);
    a.rtc.write(0x00, 4, 99);
    const b = setup();
    b.rtc.loadState(a.rtc.saveState());
    expect(b.rtc.saveState()).toEqual(a.rtc.saveState());
    expect(b.rtc.now()).toBe(a.rtc.now());
  });
});
