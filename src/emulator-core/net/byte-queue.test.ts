import { describe, expect, it } from 'vitest';
import { ByteQueue } from './byte-queue';

describe('ByteQueue', () => {
  it('reads any range across chunks and drops from the front', () => {
    const q = new ByteQueue();
    const all: number[] = [];
    for (let i = 0; i < 50; i++) {
      const c = Uint8Array.from({ length: 1 + (i % 7) }, (_, j) => (i * 31 + j) & 255);
      q.push(c);
      all.push(...c);
    }
    let dropped = 0;
    for (let step = 0; q.length > 0; step++) {
      const off = step % Math.max(1, q.length);
      const len = Math.min(q.length - off, 9);
      const out = new Uint8Array(len + 2);
      q.copyOut(off, len, out, 1);
      expect(Array.from(out.subarray(1, 1 + len))).toEqual(all.slice(dropped + off, dropped + off + len));
      const n = Math.min(q.length, 3);
      q.consume(n);
      dropped += n;
    }
    expect(dropped).toBe(all.length);
  });

  it('refuses reads past the end', () => {
    const q = new ByteQueue();
    q.push(new Uint8Array(4));
    expect(() => q.copyOut(2, 3, new Uint8Array(3), 0)).toThrow(RangeError);
    expect(() => q.consume(5)).toThrow(RangeError);
    q.copyOut(4, 0, new Uint8Array(0), 0);
  });
});
