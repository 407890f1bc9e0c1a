import { describe, expect, it } from 'vitest';
import { Plic, PLIC_NUM_SOURCES } from './plic';

function setup(harts = 2) {
  const lines = new Map<string, boolean>();
  const plic = new Plic(harts, (h, m, l) => lines.set(`${h}${m}`, l));
  return { plic, lines };
}
const CTX = (c: number) => 0x200000 + c * 0x1000;
const ENABLE = (c: number) => 0x2000 + c * 0x80;

describe('PLIC (QEMU virt layout)', () => {
  it('numbers contexts hart*2 (M) and hart*2+1 (S)', () => {
    const { plic, lines } = setup();
    plic.write(10 * 4, 4, 1);
    plic.write(ENABLE(3), 4, 1 << 10); // hart 1, S-mode
    plic.setSource(10, true);
    expect(lines.get('1S')).toBe(true);
    expect(lines.get('0M')).toBeUndefined();
    expect(plic.read(0x1000, 4)).toBe(1 << 10);
  });
  it('claims the highest priority, lowest id first; completes; respects the threshold', () => {
    const { plic, lines } = setup(1);
    plic.write(ENABLE(1), 4, (1 << 1) | (1 << 2) | (1 << 10));
    plic.write(1 * 4, 4, 1);
    plic.write(2 * 4, 4, 1);
    plic.write(10 * 4, 4, 5);
    plic.setSource(1, true);
    plic.setSource(2, true);
    plic.setSource(10, true);
    expect(plic.read(CTX(1) + 4, 4)).toBe(10);
    expect(plic.read(CTX(1) + 4, 4)).toBe(1);
    expect(plic.read(CTX(1) + 4, 4)).toBe(2);
    expect(plic.read(CTX(1) + 4, 4)).toBe(0);
    expect(lines.get('0S')).toBe(false);
    // Completing a source whose level is still high makes it pending again (level-triggered).
    plic.write(CTX(1) + 4, 4, 10);
    expect(lines.get('0S')).toBe(true);
    plic.write(CTX(1), 4, 5);
    expect(lines.get('0S')).toBe(false);
    plic.write(CTX(1), 4, 4);
    expect(plic.read(CTX(1) + 4, 4)).toBe(10);
    // A source that drops its level while claimed is not pending after completion.
    plic.setSource(10, false);
    plic.write(CTX(1) + 4, 4, 10);
    expect(plic.read(CTX(1) + 4, 4)).toBe(0);
  });
  it('treats priorities as 3-bit WARL, source 0 as absent, and priority 0 as never', () => {
    const { plic, lines } = setup(1);
    plic.write(5 * 4, 4, 0xf);
    expect(plic.read(5 * 4, 4)).toBe(7);
    plic.write(ENABLE(0), 4, 0xffff_ffff);
    expect(plic.read(ENABLE(0), 4)).toBe(0xffff_fffe);
    plic.setSource(6, true); // priority 0
    expect(lines.get('0M')).toBeUndefined();
    expect(plic.read(CTX(0) + 4, 4)).toBe(0);
    expect(() => plic.setSource(0, true)).toThrow(RangeError);
    expect(() => plic.setSource(PLIC_NUM_SOURCES, true)).toThrow(RangeError);
    plic.setSource(PLIC_NUM_SOURCES - 1, true);
    plic.write((PLIC_NUM_SOURCES - 1) * 4, 4, 1);
    plic.write(ENABLE(0) + 8, 4, 0xffff_ffff);
    expect(plic.read(CTX(0) + 4, 4)).toBe(PLIC_NUM_SOURCES - 1);
  });
  it('ignores writes to pending and to contexts that do not exist', () => {
    const { plic } = setup(1);
    plic.write(0x1000, 4, 0xffff_ffff);
    expect(plic.read(0x1000, 4)).toBe(0);
    plic.write(CTX(2), 4, 3);
    expect(plic.read(CTX(2), 4)).toBe(0);
  });
  it('round-trips its state', () => {
    const a = setup();
    a.plic.write(3 * 4, 4, 2);
    a.plic.write(ENABLE(2), 4, 8);
    a.plic.setSource(3, true);
    a.plic.read(CTX(2) + 4, 4);
    const b = setup();
    b.plic.loadState(a.plic.saveState());
    expect(b.plic.saveState()).toEqual(a.plic.saveState());
  });
});
