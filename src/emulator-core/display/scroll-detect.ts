// Finds a vertical scroll inside a damaged rectangle by comparing the new pixels with the ones
// listeners last saw. A guest console on virtio-gpu 2D scrolls by rewriting the whole screen and
// flushing it, so the display device reports "everything changed"; recognising the move lets a
// VNC client replay it with one CopyRect and receive only the new line (bench/display-rfb.mjs:
// ~2 KB instead of ~87 KB of ZRLE per 1024x768 frame).

import type { Rect } from './framebuffer';

/** Rows that hold the same pixels at `y` now as at `y + dy` before, for y in [y0, y1). */
export interface VerticalShift {
  dy: number;
  y0: number;
  y1: number;
}

/**
 * Hashes of whole rows of the "before" picture, kept by the framebuffer between calls: valid[y]
 * says whether hashes[y] still describes row y. `lastNow` is what the last call hashed of "now".
 */
export interface RowHashCache {
  hashes: Uint32Array;
  valid: Uint8Array;
  lastNow: { y: number; hashes: Uint32Array } | null;
}

/** Below this many rows, a repaint costs less than looking for a scroll. */
export const MIN_SCROLL_ROWS = 32;

function rowHash(px: Uint32Array, start: number, w: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < w; i++) h = Math.imul(h ^ px[start + i]!, 0x01000193);
  return h >>> 0;
}

function rowsEqual(a: Uint32Array, aStart: number, b: Uint32Array, bStart: number, w: number): boolean {
  for (let i = 0; i < w; i++) if (a[aStart + i] !== b[bStart + i]) return false;
  return true;
}

/**
 * The largest band of rows in `r` that moved vertically between `before` and `now` (both row-major
 * with `stride` pixels per row), both source and destination inside `r`; null when no band of at
 * least MIN_SCROLL_ROWS rows moved.
 */
export function detectVerticalShift(now: Uint32Array, before: Uint32Array, stride: number, r: Rect, cache?: RowHashCache): VerticalShift | null {
  if (r.h < MIN_SCROLL_ROWS * 2) return null;
  const hashNow = new Uint32Array(r.h);
  const hashBefore = new Uint32Array(r.h);
  // Whole rows can reuse the hashes of `before` computed as "now" by the previous call.
  const cached = cache && r.x === 0 && r.w === stride ? cache : undefined;
  for (let i = 0; i < r.h; i++) {
    const y = r.y + i;
    const start = y * stride + r.x;
    hashNow[i] = rowHash(now, start, r.w);
    hashBefore[i] = cached?.valid[y] ? cached.hashes[y]! : rowHash(before, start, r.w);
  }
  if (cached) cached.lastNow = { y: r.y, hashes: hashNow };
  // Rows whose old content is unique vote for the distance they moved; blank rows (all alike)
  // say nothing about where they came from.
  const where = new Map<number, number>();
  for (let i = 0; i < r.h; i++) {
    const h = hashBefore[i]!;
    where.set(h, where.has(h) ? -1 : i);
  }
  const votes = new Map<number, number>();
  for (let i = 0; i < r.h; i++) {
    const from = where.get(hashNow[i]!);
    if (from === undefined || from < 0 || from === i) continue;
    const dy = from - i;
    votes.set(dy, (votes.get(dy) ?? 0) + 1);
  }
  let best: VerticalShift | null = null;
  // Try the most voted distances; verify pixel by pixel, taking the longest run of moved rows.
  const candidates = [...votes.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3);
  for (const [dy] of candidates) {
    let runStart = -1;
    for (let i = 0; i <= r.h; i++) {
      const src = i + dy;
      const ok =
        i < r.h && src >= 0 && src < r.h && hashNow[i] === hashBefore[src] &&
        rowsEqual(now, (r.y + i) * stride + r.x, before, (r.y + src) * stride + r.x, r.w);
      if (ok && runStart < 0) runStart = i;
      if (!ok && runStart >= 0) {
        if (i - runStart >= MIN_SCROLL_ROWS && (!best || i - runStart > best.y1 - best.y0)) {
          best = { dy, y0: r.y + runStart, y1: r.y + i };
        }
        runStart = -1;
      }
    }
  }
  return best;
}
