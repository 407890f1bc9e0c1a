import { describe, expect, it } from 'vitest';
import { Framebuffer, type FramebufferListener, type Rect } from './framebuffer';
import { detectVerticalShift } from './scroll-detect';
import { prng } from './test-patterns';

const W = 64;
const H = 160;

function textLike(seed: number): Uint32Array {
  const rnd = prng(seed);
  const px = new Uint32Array(W * H);
  for (let y = 0; y < H; y++) {
    // Every 4th row blank, as between lines of text: those must not confuse the vote.
    if (y % 4 === 3) continue;
    for (let x = 0; x < W; x++) px[y * W + x] = rnd() % 3 === 0 ? 0xaaaaaa : 0;
  }
  return px;
}

const full: Rect = { x: 0, y: 0, w: W, h: H };

describe('detectVerticalShift', () => {
  it('finds a scroll up and a scroll down, and the band that moved', () => {
    const before = textLike(1);
    const up = before.slice();
    up.copyWithin(0, 16 * W); // rows 16.. moved to 0..
    up.fill(0x123456, (H - 16) * W); // a new line at the bottom
    expect(detectVerticalShift(up, before, W, full)).toEqual({ dy: 16, y0: 0, y1: H - 16 });
    const down = before.slice();
    down.copyWithin(5 * W, 0, (H - 5) * W);
    down.fill(0x654321, 0, 5 * W);
    expect(detectVerticalShift(down, before, W, full)).toEqual({ dy: -5, y0: 5, y1: H });
  });

  it('says nothing when nothing moved, or when too little did', () => {
    const before = textLike(2);
    expect(detectVerticalShift(before.slice(), before, W, full)).toBeNull();
    expect(detectVerticalShift(textLike(3), before, W, full)).toBeNull();
    const small = before.slice();
    small.copyWithin(0, 16 * W, 40 * W); // 24 rows moved, the rest repainted
    for (let i = 24 * W; i < small.length; i++) small[i] = i;
    expect(detectVerticalShift(small, before, W, full)).toBeNull();
  });

  it('looks only inside the rectangle', () => {
    const before = textLike(4);
    const now = before.slice();
    now.copyWithin(0, 8 * W);
    expect(detectVerticalShift(now, before, W, { x: 0, y: 0, w: W, h: 80 })).toEqual({ dy: 8, y0: 0, y1: 72 });
    expect(detectVerticalShift(now, before, W, { x: 0, y: 0, w: W, h: 60 })).toBeNull(); // too short to bother
  });
});

describe('Framebuffer scroll reporting', () => {
  it('reports a repainted scroll as a copy plus the new rows', () => {
    const fb = new Framebuffer(W, H);
    fb.pixels.set(textLike(5));
    fb.damage(full);
    const events: string[] = [];
    const l: FramebufferListener = {
      damage: (r) => events.push(`damage ${r.y}+${r.h}`),
      copy: (s, dx, dy) => events.push(`copy ${s.y}+${s.h} by ${dx},${dy}`),
      resize: () => {},
      cursor: () => {},
    };
    fb.subscribe(l);
    fb.pixels.copyWithin(0, 16 * W);
    fb.pixels.fill(0x00ff00, (H - 16) * W);
    fb.damage(full);
    expect(events).toEqual([`copy 16+${H - 16} by 0,-16`, `damage ${H - 16}+16`]);
    // The same damage again: nothing moved since.
    events.length = 0;
    fb.damage(full);
    expect(events).toEqual([`damage 0+${H}`]);
  });

  it('can be turned off', () => {
    const fb = new Framebuffer(W, H, { detectScrolls: false });
    fb.pixels.set(textLike(6));
    fb.damage(full);
    const events: string[] = [];
    fb.subscribe({ damage: () => events.push('damage'), copy: () => events.push('copy'), resize: () => {}, cursor: () => {} });
    fb.pixels.copyWithin(0, 16 * W);
    fb.damage(full);
    expect(events).toEqual(['damage']);
  });

  it('stays truthful over many scrolls and edits: a mirror replaying the events equals the framebuffer', () => {
    const fb = new Framebuffer(W, H);
    const mirror = new Uint32Array(W * H);
    let copies = 0;
    fb.subscribe({
      damage: (r) => {
        for (let y = r.y; y < r.y + r.h; y++) mirror.set(fb.pixels.subarray(y * W + r.x, y * W + r.x + r.w), y * W + r.x);
      },
      copy: (s, dx, dy) => {
        copies++;
        const block = new Uint32Array(s.w * s.h);
        for (let y = 0; y < s.h; y++) block.set(mirror.subarray((s.y + y) * W + s.x, (s.y + y) * W + s.x + s.w), y * s.w);
        for (let y = 0; y < s.h; y++) mirror.set(block.subarray(y * s.w, (y + 1) * s.w), (s.y + dy + y) * W + s.x + dx);
      },
      resize: () => {},
      cursor: () => {},
    });
    const rnd = prng(9);
    fb.pixels.set(textLike(7));
    fb.damage(full);
    for (let step = 0; step < 40; step++) {
      const kind = rnd() % 4;
      if (kind === 0 || kind === 1) {
        // A console scroll by one or more 16-pixel lines, repainted and flushed whole.
        const lines = 1 + (rnd() % 3);
        fb.pixels.copyWithin(0, 16 * lines * W);
        for (let i = (H - 16 * lines) * W; i < H * W; i++) fb.pixels[i] = rnd() % 5 === 0 ? 0xaaaaaa : 0;
        fb.damage(full);
      } else if (kind === 2) {
        // A small edit (a typed character) flushed on its own.
        const x = rnd() % (W - 8);
        const y = rnd() % (H - 16);
        fb.fillRect(x, y, 8, 16, rnd() & 0xffffff);
      } else {
        // An edit written without a flush, then a scroll that carries it along.
        fb.pixels[(rnd() % H) * W + (rnd() % W)] = 0x123456;
        fb.pixels.copyWithin(0, 16 * W);
        fb.damage(full);
      }
      expect(mirror).toEqual(fb.pixels);
    }
    expect(copies).toBeGreaterThan(10);
  });
});
