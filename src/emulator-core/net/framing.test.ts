import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder, MAX_LINK_FRAME } from './framing';

describe('QEMU socket framing', () => {
  it('prefixes each frame with its length, big-endian', () => {
    expect(Array.from(encodeFrame(Uint8Array.from([7, 8, 9])))).toEqual([0, 0, 0, 3, 7, 8, 9]);
  });

  it('decodes a stream however it is split', () => {
    const frames = Array.from({ length: 20 }, (_, i) => Uint8Array.from({ length: 1 + i * 97 }, (_, j) => (i + j) & 255));
    const stream = Buffer.concat(frames.map(encodeFrame));
    for (const step of [1, 3, 7, 1000, stream.length]) {
      const d = new FrameDecoder();
      const out: Uint8Array[] = [];
      for (let i = 0; i < stream.length; i += step) expect(d.push(stream.subarray(i, i + step), (f) => out.push(f))).toBe(true);
      expect(out.map((f) => Buffer.from(f).toString('hex'))).toEqual(frames.map((f) => Buffer.from(f).toString('hex')));
    }
  });

  it('skips empty frames and refuses a length no QEMU would send', () => {
    const d = new FrameDecoder();
    const out: Uint8Array[] = [];
    expect(d.push(Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 1, 42]), (f) => out.push(f))).toBe(true);
    expect(out.map((f) => Array.from(f))).toEqual([[42]]);
    const big = new Uint8Array(4);
    new DataView(big.buffer).setUint32(0, MAX_LINK_FRAME + 1);
    expect(new FrameDecoder().push(big, () => {})).toBe(false);
  });
});
