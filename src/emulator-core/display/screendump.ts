// Screendump: the framebuffer as a PNG (PNG 1.2 spec: signature, IHDR, IDAT, IEND; 8-bit RGB)
// or as a binary PPM (netpbm P6), the two formats QEMU's `screendump` writes (format=png|ppm).

import { rename, writeFile } from 'node:fs/promises';
import { deflateSync } from 'node:zlib';
import type { Framebuffer } from './framebuffer';

export type ScreendumpFormat = 'png' | 'ppm';

export function screendump(fb: Framebuffer, format: ScreendumpFormat): Uint8Array {
  return format === 'png' ? encodePng(fb.width, fb.height, fb.pixels) : encodePpm(fb.width, fb.height, fb.pixels);
}

/**
 * QMP `screendump filename [format]`: QEMU's default format is ppm. Written to a temporary name
 * and renamed, so a reader never sees half a picture.
 */
export async function writeScreendump(fb: Framebuffer, file: string, format: ScreendumpFormat = 'ppm'): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, screendump(fb, format));
  await rename(tmp, file);
}

/** P6: a text header, then RGB bytes row by row (maxval 255, so one byte per sample). */
export function encodePpm(width: number, height: number, pixels: Uint32Array): Uint8Array {
  const header = new TextEncoder().encode(`P6\n${width} ${height}\n255\n`);
  const out = new Uint8Array(header.length + width * height * 3);
  out.set(header);
  let o = header.length;
  for (let i = 0; i < width * height; i++) {
    const p = pixels[i]!;
    out[o++] = p >>> 16;
    out[o++] = p >>> 8;
    out[o++] = p;
  }
  return out;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function encodePng(width: number, height: number, pixels: Uint32Array): Uint8Array {
  // Each scanline: filter type byte, then RGB. Filter 1 (Sub) stores each byte minus the one to
  // its left: flat areas, the bulk of a console, become runs of zeros that deflate well.
  const stride = 1 + width * 3;
  const raw = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    let o = y * stride;
    raw[o++] = 1;
    let pr = 0;
    let pg = 0;
    let pb = 0;
    for (let x = 0; x < width; x++) {
      const p = pixels[y * width + x]!;
      const r = (p >>> 16) & 255;
      const g = (p >>> 8) & 255;
      const b = p & 255;
      raw[o++] = r - pr;
      raw[o++] = g - pg;
      raw[o++] = b - pb;
      pr = r;
      pg = g;
      pb = b;
    }
  }
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: truecolour RGB
  ihdr[10] = 0; // compression: deflate
  ihdr[11] = 0; // filter method 0 (adaptive, per-line filter byte)
  ihdr[12] = 0; // no interlace
  const chunks = [chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 6 })), chunk('IEND', new Uint8Array(0))];
  const total = PNG_SIGNATURE.length + chunks.reduce((n, c) => n + c.length, 0);
  const out = new Uint8Array(total);
  out.set(PNG_SIGNATURE);
  let o = PNG_SIGNATURE.length;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** length, type, data, CRC-32 of type+data (PNG 1.2, 5.3). */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (ISO 3309 / ITU-T V.42, reflected polynomial 0xEDB88320), as PNG and zip use. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
