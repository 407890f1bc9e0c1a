import { describe, expect, it } from 'vitest';
import { alignedBytes } from './aligned';

describe('alignedBytes', () => {
  it('gives zeroed memory of the size asked, each call its own', () => {
    const a = alignedBytes(3 * 65536 + 5);
    const b = alignedBytes(4096);
    expect(a.length).toBe(3 * 65536 + 5);
    expect(a.byteOffset).toBe(0);
    expect(a.every((x) => x === 0)).toBe(true);
    a.fill(1);
    expect(b.every((x) => x === 0)).toBe(true);
  });

  it('refuses sizes it cannot serve', () => {
    expect(() => alignedBytes(-1)).toThrow(RangeError);
    expect(() => alignedBytes(1.5)).toThrow(RangeError);
    expect(() => alignedBytes(2 ** 31)).toThrow(RangeError);
  });
});
