// ZRLE (rfbproto 7.7.6): the rectangle in 64x64 tiles, each tile solid, packed-palette, plain
// RLE, palette RLE or raw, whichever is smallest, all through the connection's zlib stream.
// Console text is the case that matters: a few colours in long runs, so most tiles end up
// solid (background) or palette RLE (glyphs).

import type { Framebuffer, Rect } from '../framebuffer';
import type { PixelConverter } from '../pixel-format';
import { ByteWriter } from './byte-writer';
import type { ZStream } from './zstream';

const TILE = 64;
/** Palette subencodings go up to 127 colours (the low 7 bits of the subencoding byte). */
const MAX_PALETTE = 127;

export class ZrleEncoder {
  private readonly tile = new Uint32Array(TILE * TILE);
  private readonly palette = new Map<number, number>();
  private readonly paletteList: number[] = [];
  private readonly data = new ByteWriter(64 * 1024);

  constructor(private readonly z: ZStream) {}

  close(): void {
    this.z.close();
  }

  encode(fb: Framebuffer, r: Rect, conv: PixelConverter, out: ByteWriter): void {
    const d = this.data;
    d.length = 0;
    for (let ty = r.y; ty < r.y + r.h; ty += TILE) {
      const th = Math.min(TILE, r.y + r.h - ty);
      for (let tx = r.x; tx < r.x + r.w; tx += TILE) {
        const tw = Math.min(TILE, r.x + r.w - tx);
        this.encodeTile(fb, tx, ty, tw, th, conv, d);
      }
    }
    const compressed = this.z.compress(d.bytes.subarray(0, d.length));
    out.u32(compressed.length).bytesOf(compressed);
  }

  private encodeTile(fb: Framebuffer, tx: number, ty: number, tw: number, th: number, conv: PixelConverter, d: ByteWriter): void {
    const n = tw * th;
    const px = fb.pixels;
    const t = this.tile;
    // Client pixel values; palette and runs are counted on those (a reduced format merges colours).
    for (let y = 0; y < th; y++) {
      const row = (ty + y) * fb.width + tx;
      if (conv.identity) t.set(px.subarray(row, row + tw), y * tw);
      else for (let x = 0; x < tw; x++) t[y * tw + x] = conv.pixel(px[row + x]!);
    }
    const palette = this.palette;
    const list = this.paletteList;
    palette.clear();
    list.length = 0;
    let runs = 0;
    let runExtra = 0; // length bytes beyond the first, for runs longer than 255
    let singles = 0; // runs of length 1 (one byte in palette RLE)
    let i = 0;
    while (i < n) {
      const v = t[i]!;
      let j = i + 1;
      while (j < n && t[j] === v) j++;
      const len = j - i;
      runs++;
      runExtra += Math.floor((len - 1) / 255);
      if (len === 1) singles++;
      if (list.length <= MAX_PALETTE && !palette.has(v)) {
        palette.set(v, list.length);
        list.push(v);
      }
      i = j;
    }
    const bpc = conv.bytesPerCPixel;
    if (list.length === 1) {
      d.u8(1);
      const at = d.reserve(bpc);
      conv.writeCPixel(list[0]!, d.bytes, at);
      return;
    }
    const usable = list.length <= MAX_PALETTE;
    const rawSize = n * bpc;
    const plainRleSize = runs * (bpc + 1) + runExtra;
    const paletteRleSize = usable ? list.length * bpc + singles + (runs - singles) * 2 + runExtra : Infinity;
    const bits = list.length <= 2 ? 1 : list.length <= 4 ? 2 : 4;
    const packedSize = list.length <= 16 ? list.length * bpc + Math.ceil((tw * bits) / 8) * th : Infinity;
    const best = Math.min(rawSize, plainRleSize, paletteRleSize, packedSize);

    if (best === packedSize) {
      d.u8(list.length);
      this.writePalette(conv, d);
      const rowBytes = Math.ceil((tw * bits) / 8);
      const at = d.reserve(rowBytes * th);
      const b = d.bytes;
      b.fill(0, at, at + rowBytes * th);
      // One palette lookup per run of equal pixels, not per pixel.
      let last = -1;
      let idx = 0;
      for (let y = 0; y < th; y++) {
        for (let x = 0; x < tw; x++) {
          const v = t[y * tw + x]!;
          if (v !== last) {
            idx = palette.get(v)!;
            last = v;
          }
          const bit = x * bits;
          b[at + y * rowBytes + (bit >> 3)]! |= idx << (8 - bits - (bit & 7));
        }
      }
    } else if (best === paletteRleSize) {
      d.u8(128 + list.length);
      this.writePalette(conv, d);
      this.writeRuns(n, d, (v) => palette.get(v)!, null);
    } else if (best === plainRleSize) {
      d.u8(128);
      this.writeRuns(n, d, null, conv);
    } else {
      d.u8(0);
      const at = d.reserve(rawSize);
      let o = at;
      for (let k = 0; k < n; k++) o = conv.writeCPixel(t[k]!, d.bytes, o);
    }
  }

  private writePalette(conv: PixelConverter, d: ByteWriter): void {
    const at = d.reserve(this.paletteList.length * conv.bytesPerCPixel);
    let o = at;
    for (const v of this.paletteList) o = conv.writeCPixel(v, d.bytes, o);
  }

  /** Runs as (palette index | CPIXEL, length); a length is 255s then the remainder (rfbproto 7.7.6). */
  private writeRuns(n: number, d: ByteWriter, index: ((v: number) => number) | null, conv: PixelConverter | null): void {
    const t = this.tile;
    let i = 0;
    while (i < n) {
      const v = t[i]!;
      let j = i + 1;
      while (j < n && t[j] === v) j++;
      const len = j - i;
      if (index) {
        const p = index(v);
        if (len === 1) {
          d.u8(p);
          i = j;
          continue;
        }
        d.u8(p | 128);
      } else {
        const at = d.reserve(conv!.bytesPerCPixel);
        conv!.writeCPixel(v, d.bytes, at);
      }
      let rest = len - 1;
      while (rest >= 255) {
        d.u8(255);
        rest -= 255;
      }
      d.u8(rest);
      i = j;
    }
  }
}
