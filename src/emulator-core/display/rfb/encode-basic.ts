// Rectangle encodings that need no tiling: Raw (rfbproto 7.7.1), Zlib (7.7.3: raw pixels through
// the connection's zlib stream, behind a u32 length) and the Cursor pseudo-encoding (7.8.1).

import type { CursorImage, Framebuffer, Rect } from '../framebuffer';
import type { PixelConverter } from '../pixel-format';
import type { ByteWriter } from './byte-writer';
import type { ZStream } from './zstream';

/** Writes the rectangle's pixels, row by row, in the client's pixel format. */
export function encodeRaw(fb: Framebuffer, r: Rect, conv: PixelConverter, out: ByteWriter): void {
  const rowBytes = r.w * conv.bytesPerPixel;
  let at = out.reserve(rowBytes * r.h);
  const px = fb.pixels;
  for (let y = 0; y < r.h; y++) {
    at = conv.writePixels(px, (r.y + y) * fb.width + r.x, r.w, out.bytes, at);
  }
}

export function encodeZlib(fb: Framebuffer, r: Rect, conv: PixelConverter, z: ZStream, out: ByteWriter, scratch: ByteWriter): void {
  scratch.length = 0;
  encodeRaw(fb, r, conv, scratch);
  const data = z.compress(scratch.bytes.subarray(0, scratch.length));
  out.u32(data.length).bytesOf(data);
}

/**
 * Cursor pseudo-rectangle body: width*height PIXELs, then a 1-bit-per-pixel mask, rows padded
 * to a byte, most significant bit leftmost; a set bit means the pixel is shown (alpha >= 128).
 */
export function encodeCursor(cursor: CursorImage, conv: PixelConverter, out: ByteWriter): void {
  const { width, height, pixels } = cursor;
  let at = out.reserve(width * height * conv.bytesPerPixel);
  for (let i = 0; i < width * height; i++) at = conv.writePixel(conv.pixel(pixels[i]! & 0xffffff), out.bytes, at);
  const maskRow = (width + 7) >> 3;
  const maskAt = out.reserve(maskRow * height);
  out.bytes.fill(0, maskAt, maskAt + maskRow * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (pixels[y * width + x]! >>> 24 >= 128) out.bytes[maskAt + y * maskRow + (x >> 3)]! |= 0x80 >> (x & 7);
    }
  }
}
