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

describe('GuestMemory write reports', () => {
  const setup = () => {
    const mem = new GuestMemory(0x8000_0000, new Uint8Array(0x2000));
    const seen: Array<[number, number]> = [];
    const stop = mem.onWrite((off, len) => seen.push([off, len]));
    return { mem, seen, stop };
  };

  it('reports every write method with its RAM offset and length, reads and views not', () => {
    const { mem, seen, stop } = setup();
    mem.write8(0x8000_0001, 1);
    mem.write16(0x8000_0010, 2);
    mem.write32(0x8000_0020, 3);
    mem.writeU64(0x8000_0ff8, 4n);
    mem.writeBytes(0x8000_1000, new Uint8Array(300));
    mem.writeBytes(0x8000_1000, new Uint8Array(0)); // nothing written, nothing reported
    mem.fill(0x8000_0100, 0x40, 0xff);
    mem.noteWritten(0x8000_1800, 16);
    mem.read32(0x8000_0020);
    mem.readBytes(0x8000_0000, 64);
    mem.slice(0x8000_0000, 64);
    expect(seen).toEqual([[1, 1], [0x10, 2], [0x20, 4], [0xff8, 8], [0x1000, 300], [0x100, 0x40], [0x1800, 16]]);
    expect(() => mem.noteWritten(0x8000_1ff0, 32)).toThrow(GuestMemoryError);
    stop();
    mem.write8(0x8000_0001, 1);
    expect(seen).toHaveLength(7);
  });

  it('writeInPlace reports once the fill has settled, also when it fails', async () => {
    const { mem, seen } = setup();
    let release!: () => void;
    const done = mem.writeInPlace(0x8000_0200, 512, async (view) => {
      await new Promise<void>((r) => (release = r));
      view.fill(7);
      return 'read';
    });
    await Promise.resolve();
    expect(seen).toEqual([]); // not before the data is in
    release();
    expect(await done).toBe('read');
    expect(seen).toEqual([[0x200, 512]]);
    await expect(
      mem.writeInPlace(0x8000_0400, 100, async (view) => {
        view[0] = 1;
        throw new Error('I/O error');
      }),
    ).rejects.toThrow('I/O error');
    expect(seen).toEqual([[0x200, 512], [0x400, 100]]);
    await expect(mem.writeInPlace(0x8000_1f00, 0x200, async () => undefined)).rejects.toThrow(GuestMemoryError);
  });
});
