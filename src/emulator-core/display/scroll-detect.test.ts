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
});
