import { describe, expect, it } from 'vitest';
import { GuestMemory, GuestMemoryError } from './guest-memory';

describe('GuestMemory', () => {
  const mem = new GuestMemory(0x8000_0000, new Uint8Array(0x1000));
  it('reads and writes little-endian values inside RAM', () => {
    mem.write32(0x8000_0010, 0xdeadbeef);
    expect(mem.read32(0x8000_0010)).toBe(0xdeadbeef);
    expect(mem.read16(0x8000_0010)).toBe(0xbeef);
    expect(mem.read8(0x8000_0013)).toBe(0xde);
    mem.writeU64(0x8000_0ff8, 0x1122334455667788n);
    expect(mem.readU64(0x8000_0ff8)).toBe(0x1122334455667788n);
    expect(mem.read64(0x8000_0ff8)).toBe(0x1122334455667788);
  });
  it('turns every address or length outside RAM into a GuestMemoryError', () => {
    for (const [addr, len] of [
      [0x7fff_ffff, 1],
      [0x8000_0fff, 2],
      [0x8000_0000, 0x1001],
      [0x8000_0000, -1],
      [Number.MAX_SAFE_INTEGER + 2, 1],
      [NaN, 1],
    ] as const) {
      expect(() => mem.slice(addr, len), `${addr}+${len}`).toThrow(GuestMemoryError);
    }
    expect(() => mem.read64(0x8000_0ffc)).toThrow(GuestMemoryError);
    expect(mem.slice(0x8000_0ff0, 16).length).toBe(16);
    expect(mem.slice(0x8000_1000 - 0, 0).length).toBe(0);
  });
});
