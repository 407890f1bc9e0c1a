// RFB pixel formats (rfbproto 7.4 "PIXEL_FORMAT") and the conversion from the framebuffer's
// canonical pixels to whatever a client asked for with SetPixelFormat.
//
// The framebuffer keeps one canonical pixel: a u32 0x00RRGGBB, stored little-endian, which in
// memory is the byte order B,G,R,X: virtio-gpu's B8G8R8X8_UNORM and Linux's DRM XRGB8888, the
// format a Linux guest scans out by default, so the common path is a plain copy.

/** The 16-byte PIXEL_FORMAT structure of ServerInit and SetPixelFormat. */
export interface PixelFormat {
  bitsPerPixel: 8 | 16 | 32;
  depth: number;
  bigEndian: boolean;
  trueColour: boolean;
  redMax: number;
  greenMax: number;
  blueMax: number;
  redShift: number;
  greenShift: number;
  blueShift: number;
}

/** What the server announces in ServerInit: the canonical pixel, as 32-bit little-endian true colour. */
export const CANONICAL_FORMAT: PixelFormat = Object.freeze({
  bitsPerPixel: 32,
  depth: 24,
  bigEndian: false,
  trueColour: true,
  redMax: 255,
  greenMax: 255,
  blueMax: 255,
  redShift: 16,
  greenShift: 8,
  blueShift: 0,
});

export class PixelFormatError extends Error {}

/** Reads a PIXEL_FORMAT; throws PixelFormatError for a format we cannot produce. */
export function parsePixelFormat(b: Uint8Array, offset = 0): PixelFormat {
  const v = new DataView(b.buffer, b.byteOffset + offset, 16);
  const bpp = v.getUint8(0);
  if (bpp !== 8 && bpp !== 16 && bpp !== 32) throw new PixelFormatError(`bits-per-pixel ${bpp} is not 8, 16 or 32`);
  const pf: PixelFormat = {
    bitsPerPixel: bpp,
    depth: v.getUint8(1),
    bigEndian: v.getUint8(2) !== 0,
    trueColour: v.getUint8(3) !== 0,
    redMax: v.getUint16(4),
    greenMax: v.getUint16(6),
    blueMax: v.getUint16(8),
    redShift: v.getUint8(10),
    greenShift: v.getUint8(11),
    blueShift: v.getUint8(12),
  };
  // Colour-map formats need SetColourMapEntries and a palette policy; QEMU refuses them too.
  if (!pf.trueColour) throw new PixelFormatError('colour-map (non true-colour) pixel formats are not supported');
  for (const [max, shift, name] of [
    [pf.redMax, pf.redShift, 'red'],
    [pf.greenMax, pf.greenShift, 'green'],
    [pf.blueMax, pf.blueShift, 'blue'],
  ] as const) {
    // A max must be 2^n - 1 (rfbproto: "one less than a power of 2") and fit in the pixel.
    if (max === 0 || (max & (max + 1)) !== 0) throw new PixelFormatError(`${name}-max ${max} is not 2^n-1`);
    if (shift >= bpp || bitLength(max) + shift > bpp) throw new PixelFormatError(`${name} channel does not fit in ${bpp} bits`);
  }
  return pf;
}

export function serializePixelFormat(pf: PixelFormat): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setUint8(0, pf.bitsPerPixel);
  v.setUint8(1, pf.depth);
  v.setUint8(2, pf.bigEndian ? 1 : 0);
  v.setUint8(3, pf.trueColour ? 1 : 0);
  v.setUint16(4, pf.redMax);
  v.setUint16(6, pf.greenMax);
  v.setUint16(8, pf.blueMax);
  v.setUint8(10, pf.redShift);
  v.setUint8(11, pf.greenShift);
  v.setUint8(12, pf.blueShift);
  return b;
}

function bitLength(n: number): number {
  return n === 0 ? 0 : 32 - Math.clz32(n);
}

/**
 * Converts canonical 0x00RRGGBB pixels to a client's format. Built once per SetPixelFormat: a
 * 256-entry table per channel (scaling 0..255 to 0..max with rounding) and the pixel packer.
 */
export class PixelConverter {
  readonly bytesPerPixel: number;
  /** ZRLE's CPIXEL size (rfbproto 7.7.6): 3 when a 32-bit true-colour pixel's colour bits fit in 3 bytes. */
  readonly bytesPerCPixel: number;
  /** For a 3-byte CPIXEL: true when it is the most significant 3 bytes of the pixel. */
  private readonly cpixelHigh: boolean;
  private readonly r = new Uint32Array(256);
  private readonly g = new Uint32Array(256);
  private readonly b = new Uint32Array(256);
  /** The format is the canonical one: pixels are copied as they are. */
  readonly identity: boolean;

  constructor(readonly format: PixelFormat) {
    this.bytesPerPixel = format.bitsPerPixel / 8;
    for (let i = 0; i < 256; i++) {
      this.r[i] = (Math.round((i * format.redMax) / 255) << format.redShift) >>> 0;
      this.g[i] = (Math.round((i * format.greenMax) / 255) << format.greenShift) >>> 0;
      this.b[i] = (Math.round((i * format.blueMax) / 255) << format.blueShift) >>> 0;
    }
    const used = (this.r[255]! | this.g[255]! | this.b[255]!) >>> 0;
    const fitsLow = (used & 0xff000000) === 0;
    const fitsHigh = (used & 0x000000ff) === 0;
    if (format.bitsPerPixel === 32 && format.depth <= 24 && (fitsLow || fitsHigh)) {
      this.bytesPerCPixel = 3;
      // "the three least significant bytes are used when both ... would cover the used bits"
      this.cpixelHigh = !fitsLow;
    } else {
      this.bytesPerCPixel = this.bytesPerPixel;
      this.cpixelHigh = false;
    }
    this.identity =
      format.bitsPerPixel === 32 &&
      !format.bigEndian &&
      format.redMax === 255 &&
      format.greenMax === 255 &&
      format.blueMax === 255 &&
      format.redShift === 16 &&
      format.greenShift === 8 &&
      format.blueShift === 0;
  }

  /** The client's pixel value for one canonical pixel. */
  pixel(p: number): number {
    return (this.r[(p >>> 16) & 255]! | this.g[(p >>> 8) & 255]! | this.b[p & 255]!) >>> 0;
  }

  /** Writes `count` pixels of `src` (from `srcIndex`) into `out` at `outOffset` as PIXELs; returns the new offset. */
  writePixels(src: Uint32Array, srcIndex: number, count: number, out: Uint8Array, outOffset: number): number {
    if (this.identity) {
      const bytes = new Uint8Array(src.buffer, src.byteOffset + srcIndex * 4, count * 4);
      out.set(bytes, outOffset);
      return outOffset + count * 4;
    }
    let o = outOffset;
    for (let i = 0; i < count; i++) o = this.writePixel(this.pixel(src[srcIndex + i]!), out, o);
    return o;
  }

  /** Writes one client pixel value as a PIXEL; returns the new offset. */
  writePixel(v: number, out: Uint8Array, o: number): number {
    switch (this.bytesPerPixel) {
      case 1:
        out[o] = v;
        return o + 1;
      case 2:
        if (this.format.bigEndian) {
          out[o] = v >>> 8;
          out[o + 1] = v;
        } else {
          out[o] = v;
          out[o + 1] = v >>> 8;
        }
        return o + 2;
      default:
        if (this.format.bigEndian) {
          out[o] = v >>> 24;
          out[o + 1] = v >>> 16;
          out[o + 2] = v >>> 8;
          out[o + 3] = v;
        } else {
          out[o] = v;
          out[o + 1] = v >>> 8;
          out[o + 2] = v >>> 16;
          out[o + 3] = v >>> 24;
        }
        return o + 4;
    }
  }

  /** Writes one client pixel value as a ZRLE CPIXEL; returns the new offset. */
  writeCPixel(v: number, out: Uint8Array, o: number): number {
    if (this.bytesPerCPixel !== 3) return this.writePixel(v, out, o);
    // The 3 bytes keep the pixel's own byte order (rfbproto: "contains the ... 3 bytes").
    const w = this.cpixelHigh ? v >>> 8 : v;
    if (this.format.bigEndian) {
      out[o] = w >>> 16;
      out[o + 1] = w >>> 8;
      out[o + 2] = w;
    } else {
      out[o] = w;
      out[o + 1] = w >>> 8;
      out[o + 2] = w >>> 16;
    }
    return o + 3;
  }
}
