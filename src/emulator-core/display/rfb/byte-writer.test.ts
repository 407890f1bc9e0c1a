import { describe, expect, it } from 'vitest';
import { ByteWriter } from './byte-writer';

describe('ByteWriter', () => {
  it('writes big-endian integers and keeps them across growth', () => {
    const w = new ByteWriter(2);
    w.u8(1).u16(0x0203).u32(0x04050607).s32(-2).bytesOf(Uint8Array.of(9, 9, 9));
    for (let i = 0; i < 100; i++) w.u8(i);
    const at = w.reserve(0);
    w.patchU32(1, 0xaabbccdd);
    const b = w.take();
    expect([...b.subarray(0, 14)]).toEqual([1, 0xaa, 0xbb, 0xcc, 0xdd, 6, 7, 0xff, 0xff, 0xff, 0xfe, 9, 9, 9]);
    expect(b[at - 1]).toBe(99);
    expect(b.length).toBe(114);
  });
});
