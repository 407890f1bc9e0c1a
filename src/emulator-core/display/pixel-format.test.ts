import { describe, expect, it } from 'vitest';
import { CANONICAL_FORMAT, PixelConverter, PixelFormatError, parsePixelFormat, serializePixelFormat, type PixelFormat } from './pixel-format';

const rgb565: PixelFormat = { bitsPerPixel: 16, depth: 16, bigEndian: true, trueColour: true, redMax: 31, greenMax: 63, blueMax: 31, redShift: 11, greenShift: 5, blueShift: 0 };

describe('PIXEL_FORMAT', () => {
  it('round-trips through its 16-byte wire form', () => {
    for (const pf of [CANONICAL_FORMAT, rgb565]) expect(parsePixelFormat(serializePixelFormat(pf))).toEqual(pf);
  });

  it('refuses colour maps, odd sizes and channels that do not fit', () => {
    const bad = (patch: Partial<PixelFormat>) => serializePixelFormat({ ...CANONICAL_FORMAT, ...patch });
    expect(() => parsePixelFormat(bad({ trueColour: false }))).toThrow(PixelFormatError);
    expect(() => parsePixelFormat(bad({ bitsPerPixel: 24 as 32 }))).toThrow(/bits-per-pixel 24/);
    expect(() => parsePixelFormat(bad({ redMax: 200 }))).toThrow(/2\^n-1/);
    expect(() => parsePixelFormat(bad({ bitsPerPixel: 16, redShift: 16 }))).toThrow(/does not fit/);
    expect(() => parsePixelFormat(bad({ redMax: 0 }))).toThrow(PixelFormatError);
  });
});

describe('PixelConverter', () => {
  it('copies canonical pixels unchanged', () => {
    const c = new PixelConverter(CANONICAL_FORMAT);
    expect(c.identity).toBe(true);
    const out = new Uint8Array(8);
    c.writePixels(Uint32Array.of(0x123456, 0xabcdef), 0, 2, out, 0);
    expect([...out]).toEqual([0x56, 0x34, 0x12, 0, 0xef, 0xcd, 0xab, 0]);
  });

  it('packs RGB565 big-endian with rounding', () => {
    const c = new PixelConverter(rgb565);
    const out = new Uint8Array(4);
    c.writePixels(Uint32Array.of(0xff0000, 0x00ff00), 0, 2, out, 0);
    expect([...out]).toEqual([0xf8, 0x00, 0x07, 0xe0]);
    expect(c.pixel(0x808080)).toBe((16 << 11) | (32 << 5) | 16);
    expect(c.bytesPerCPixel).toBe(2);
  });

  it('uses 3-byte CPIXELs for 32-bit depth-24 formats, high bytes when colour sits there', () => {
    expect(new PixelConverter(CANONICAL_FORMAT).bytesPerCPixel).toBe(3);
    const high = new PixelConverter({ ...CANONICAL_FORMAT, redShift: 24, greenShift: 16, blueShift: 8 });
    expect(high.bytesPerCPixel).toBe(3);
    const out = new Uint8Array(3);
    high.writeCPixel(high.pixel(0x112233), out, 0);
    expect([...out]).toEqual([0x33, 0x22, 0x11]);
    // Bits spread over all four bytes: a full 4-byte CPIXEL.
    const wide = new PixelConverter({ ...CANONICAL_FORMAT, depth: 32, redShift: 24, greenShift: 8, blueShift: 0 });
    expect(wide.bytesPerCPixel).toBe(4);
  });
});
