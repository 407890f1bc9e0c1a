import { describe, expect, it } from 'vitest';
import { finishChecksum, internetChecksum, pseudoHeaderSum, sumWords } from './checksum';
import { refChecksum } from './testing/packets';

describe('Internet checksum (RFC 1071)', () => {
  it('matches a known IPv4 header (192.168.0.1 -> 192.168.0.199, checksum 0xb861)', () => {
    const h = Uint8Array.from([0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0, 0, 0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0, 0xc7]);
    expect(internetChecksum(h, 0, 20)).toBe(0xb861);
    h[10] = 0xb8;
    h[11] = 0x61;
    expect(internetChecksum(h, 0, 20)).toBe(0);
  });

  it('matches RFC 1071 section 3 example sums', () => {
    // 00 01 f2 03 f4 f5 f6 f7: the one's complement sum is 0xddf2 (RFC 1071 3.), checksum ~0xddf2.
    const b = Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
    expect(internetChecksum(b, 0, 8)).toBe(~0xddf2 & 0xffff);
  });

  it('pads an odd trailing byte with zero and agrees with the reference on random data', () => {
    for (let n = 0; n < 300; n++) {
      const b = Uint8Array.from({ length: n }, () => (Math.random() * 256) | 0);
      expect(internetChecksum(b, 0, n)).toBe(refChecksum(b));
    }
  });

  it('includes the pseudo-header exactly as a prefix of its bytes would', () => {
    const src = 0x0a00020f;
    const dst = 0x5db8d822;
    const body = Uint8Array.from([1, 2, 3, 4, 5]);
    const withPrefix = Uint8Array.from([10, 0, 2, 15, 0x5d, 0xb8, 0xd8, 0x22, 0, 6, 0, 5, ...body]);
    expect(finishChecksum(sumWords(body, 0, 5, pseudoHeaderSum(src, dst, 6, 5)))).toBe(refChecksum(withPrefix));
  });
});
