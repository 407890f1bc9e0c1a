import { describe, expect, it } from 'vitest';
import { Bus, BusOverlapError } from './bus';
import { saveState, StateError, type AccessSize, type MmioDevice } from '../devices/device';

function dev(name: string, size: number, log: string[] = []): MmioDevice {
  return {
    name,
    size,
    read: (off: number, s: AccessSize) => (log.push(`${name} r ${off} ${s}`), off + 1),
    write: (off: number, s: AccessSize, v: number) => void log.push(`${name} w ${off} ${s} ${v}`),
    reset: () => {},
    saveState: () => saveState({ name, version: 1, fields: {} }, {}),
    loadState: () => {},
  };
}

describe('bus', () => {
  it('dispatches to the device holding the address, with the offset in its window', () => {
    const log: string[] = [];
    const bus = new Bus();
    bus.map(0x1000_0000, dev('uart', 0x100, log));
    bus.map(0x1000_1000, dev('virtio0', 0x1000, log));
    expect(bus.load(0x1000_0005, 1)).toBe(6);
    expect(bus.store(0x1000_1070, 4, 0xffff_ffff)).toBe(true);
    expect(bus.load(0x1000_1ffc, 4)).toBe(0xffd);
    expect(log).toEqual(['uart r 5 1', 'virtio0 w 112 4 4294967295', 'virtio0 r 4092 4']);
  });
  it('answers nothing for holes, reserved ranges and accesses that straddle a window end', () => {
    const bus = new Bus();
    bus.map(0x1000_0000, dev('uart', 0x100));
    bus.reserve('ram', 0x8000_0000, 0x1000_0000);
    expect(bus.load(0x1000_0100, 1)).toBeUndefined();
    expect(bus.load(0x1000_00fe, 4)).toBeUndefined();
    expect(bus.store(0x8000_0000, 4, 1)).toBe(false);
    expect(bus.load(0, 4)).toBeUndefined();
  });
  it('rejects overlapping windows with a typed error', () => {
    const bus = new Bus();
    bus.map(0x1000_0000, dev('uart', 0x100));
    bus.reserve('ram', 0x8000_0000, 0x1000_0000);
    expect(() => bus.map(0x1000_00ff, dev('other', 0x10))).toThrow(BusOverlapError);
    expect(() => bus.map(0x8fff_f000, dev('inram', 0x1000))).toThrow(/'inram' overlaps 'ram'/);
    expect(() => bus.map(0x0fff_ff00, dev('below', 0x100))).not.toThrow();
    expect(() => bus.map(-1, dev('neg', 0x10))).toThrow(RangeError);
    expect(bus.devices().map((d) => d.name)).toEqual(['below', 'uart']);
  });
  it('refuses a device without a declared state', () => {
    const bus = new Bus();
    const adhoc = { ...dev('adhoc', 0x10), saveState: () => ({ name: 'adhoc', version: 1, fields: {} }) };
    expect(() => bus.map(0x1000, adhoc)).toThrow(StateError);
    expect(bus.devices()).toEqual([]);
  });
});
