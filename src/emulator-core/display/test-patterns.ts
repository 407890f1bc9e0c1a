// Deterministic pictures for tests and benches: each exercises a different encoder path
// (solid tiles, few-colour text-like tiles, photo-like noise, gradients).

import type { Framebuffer } from './framebuffer';

/** A xorshift32 sequence: the same pixels on every run. */
export function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/** Quadrants: a red/green/blue/white block, a gradient, noise, and stripes of "text". */
export function drawTestPattern(fb: Framebuffer, seed = 1): void {
  const { width: w, height: h } = fb;
  const px = fb.pixels;
  const rnd = prng(seed);
  const hw = w >> 1;
  const hh = h >> 1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let p: number;
      if (x < hw && y < hh) {
        // Four solid colour blocks.
        const qx = x < hw / 2 ? 0 : 1;
        const qy = y < hh / 2 ? 0 : 1;
        p = [0xff0000, 0x00ff00, 0x0000ff, 0xffffff][qy * 2 + qx]!;
      } else if (x >= hw && y < hh) {
        p = (((x * 255) / w) << 16) | (((y * 255) / h) << 8) | 0x80;
      } else if (x < hw) {
        p = rnd() & 0xffffff;
      } else {
        // Text-like: a dark background with light 1-pixel strokes, few colours in runs.
        const glyph = ((x >> 3) * 7 + (y >> 4) * 13) % 5;
        const on = (x + y * glyph) % 7 === 0 || (y % 16 === 12 && glyph > 1);
        p = on ? 0xaaaaaa : 0x000000;
        if (glyph === 4 && on) p = 0x55ff55;
      }
      px[y * w + x] = p;
    }
  }
  fb.damage({ x: 0, y: 0, w, h });
}
