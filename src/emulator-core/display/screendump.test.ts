import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Framebuffer } from './framebuffer';
import { crc32, screendump, writeScreendump } from './screendump';
import { drawTestPattern } from './test-patterns';

/** A PNG reader for what a PNG decoder must check: signature, chunk CRCs, IHDR, filters 0-4. */
function decodePng(png: Uint8Array): { width: number; height: number; rgb: Uint8Array } {
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const v = new DataView(png.buffer, png.byteOffset);
  let o = 8;
  let width = 0;
  let height = 0;
  const idat: Uint8Array[] = [];
  for (;;) {
    const len = v.getUint32(o);
    const type = String.fromCharCode(...png.subarray(o + 4, o + 8));
    const data = png.subarray(o + 8, o + 8 + len);
    expect(v.getUint32(o + 8 + len), `${type} CRC`).toBe(crc32(png.subarray(o + 4, o + 8 + len)));
    if (type === 'IHDR') {
      width = v.getUint32(o + 8);
      height = v.getUint32(o + 12);
      expect([...data.subarray(8)]).toEqual([8, 2, 0, 0, 0]);
    } else if (type === 'IDAT') idat.push(data);
    o += 12 + len;
    if (type === 'IEND') break;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * 3;
  const rgb = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]!;
    for (let i = 0; i < stride; i++) {
      const x = raw[y * (stride + 1) + 1 + i]!;
      const a = i >= 3 ? rgb[y * stride + i - 3]! : 0;
      const b = y > 0 ? rgb[(y - 1) * stride + i]! : 0;
      const c = i >= 3 && y > 0 ? rgb[(y - 1) * stride + i - 3]! : 0;
      const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
      const paeth = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      rgb[y * stride + i] = (x + [0, a, b, (a + b) >> 1, paeth][f]!) & 255;
    }
  }
  return { width, height, rgb };
}

describe('screendump', () => {
  it('CRC-32 matches the standard check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('writes a PNG whose pixels are the framebuffer', () => {
    const fb = new Framebuffer(37, 23);
    drawTestPattern(fb, 5);
    const { width, height, rgb } = decodePng(screendump(fb, 'png'));
    expect([width, height]).toEqual([37, 23]);
    for (let i = 0; i < 37 * 23; i++) {
      const p = fb.pixels[i]!;
      expect([rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2]]).toEqual([p >>> 16, (p >>> 8) & 255, p & 255]);
    }
  });

  it('writes a binary PPM', () => {
    const fb = new Framebuffer(2, 1);
    fb.pixels.set([0x010203, 0xfffefd]);
    const ppm = screendump(fb, 'ppm');
    expect(Buffer.from(ppm).toString('latin1')).toBe('P6\n2 1\n255\n\x01\x02\x03\xff\xfe\xfd');
  });

  it('writes a file in the named format, PPM by default as QEMU does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'viv-screendump-'));
    const fb = new Framebuffer(3, 2);
    drawTestPattern(fb, 1);
    await writeScreendump(fb, join(dir, 'a.ppm'));
    await writeScreendump(fb, join(dir, 'b.png'), 'png');
    expect(readdirSync(dir).sort()).toEqual(['a.ppm', 'b.png']);
    expect(readFileSync(join(dir, 'a.ppm')).subarray(0, 2).toString()).toBe('P6');
    expect(decodePng(readFileSync(join(dir, 'b.png'))).width).toBe(3);
  });
});
