import { describe, expect, it } from 'vitest';
import { Clint } from './clint';

function setup(harts = 2) {
  const clock = { t: 1000, mtime: () => clock.t };
  const events: string[] = [];
  const clint = new Clint(harts, clock, {
    msip: (h, l) => events.push(`msip${h}=${l}`),
    mtip: (h, l) => events.push(`mtip${h}=${l}`),
  });
  return { clock, clint, events };
}

const read64 = (c: Clint, off: number) => BigInt(c.read(off, 4)) | (BigInt(c.read(off + 4, 4)) << 32n);
const write64 = (c: Clint, off: number, v: bigint) => {
  c.write(off, 4, Number(v & 0xffff_ffffn));
  c.write(off + 4, 4, Number(v >> 32n));
};

describe('CLINT', () => {
  it('reads mtime from the guest clock at 0xbff8', () => {
    const { clint, clock } = setup();
    expect(read64(clint, 0xbff8)).toBe(1000n);
    clock.t = 0x1_2345_6789;
    expect(read64(clint, 0xbff8)).toBe(0x1_2345_6789n);
  });
  it('drives msip per hart from bit 0 of its word', () => {
    const { clint, events } = setup();
    clint.write(4, 4, 0xffff_ffff);
    expect(clint.read(4, 4)).toBe(1);
    expect(clint.read(0, 4)).toBe(0);
    clint.write(4, 4, 0);
    expect(events).toEqual(['msip1=true', 'msip1=false']);
  });
  it('raises MTIP when mtime reaches mtimecmp and lowers it when mtimecmp moves on', () => {
    const { clint, clock, events } = setup();
    write64(clint, 0x4008, 2000n);
    expect(read64(clint, 0x4008)).toBe(2000n);
    clint.update();
    expect(events).toEqual([]);
    clock.t = 2000;
    clint.update();
    expect(events).toEqual(['mtip1=true']);
    write64(clint, 0x4008, 5000n);
    expect(events).toEqual(['mtip1=true', 'mtip1=false']);
    expect(clint.timecmp(1)).toBe(5000n);
    expect(clint.timecmp(0)).toBe((1n << 64n) - 1n);
  });
  it('lets the guest set mtime (an offset on the clock)', () => {
    const { clint, clock } = setup();
    write64(clint, 0xbff8, 10n);
    clock.t += 5;
    expect(read64(clint, 0xbff8)).toBe(15n);
    expect(clint.mtime()).toBe(15n);
  });
  it('supports byte reads of its words and ignores offsets beyond the harts', () => {
    const { clint } = setup(1);
    write64(clint, 0x4000, 0x1122334455667788n);
    expect(clint.read(0x4001, 1)).toBe(0x77);
    expect(clint.read(0x4006, 2)).toBe(0x1122);
    clint.write(0x4008, 4, 1); // hart 1 does not exist
    expect(clint.read(0x4008, 4)).toBe(0);
  });
  it('round-trips its state', () => {
    const a = setup();
    write64(a.clint, 0x4000, 1234n);
    a.clint.write(0, 4, 1);
    write64(a.clint, 0xbff8, 99n);
    const b = setup();
    b.clint.loadState(a.clint.saveState());
    expect(b.clint.saveState()).toEqual(a.clint.saveState());
    expect(b.events).toContain('msip0=true');
    expect(read64(b.clint, 0xbff8)).toBe(99n);
  });
});
