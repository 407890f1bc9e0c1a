import { describe, expect, it } from 'vitest';
import { TILE, TileRegion } from './region';

describe('TileRegion', () => {
  it('gives back tile-aligned rectangles covering what was added, clipped to the framebuffer', () => {
    const r = new TileRegion(100, 50);
    r.add({ x: 3, y: 3, w: 2, h: 2 });
    expect(r.take()).toEqual([{ x: 0, y: 0, w: TILE, h: TILE }]);
    expect(r.isEmpty).toBe(true);
    r.add({ x: 90, y: 40, w: 50, h: 50 });
    expect(r.take()).toEqual([{ x: 80, y: 32, w: 20, h: 18 }]);
  });

  it('merges runs across rows into one rectangle', () => {
    const r = new TileRegion(64, 64);
    r.add({ x: 0, y: 0, w: 40, h: 40 });
    expect(r.take()).toEqual([{ x: 0, y: 0, w: 48, h: 48 }]);
    r.add({ x: 0, y: 0, w: 1, h: 1 });
    r.add({ x: 40, y: 0, w: 1, h: 1 });
    expect(r.take()).toEqual([
      { x: 0, y: 0, w: 16, h: 16 },
      { x: 32, y: 0, w: 16, h: 16 },
    ]);
  });

  it('takes only what touches the requested area', () => {
    const r = new TileRegion(64, 64);
    r.addAll();
    expect(r.take({ x: 0, y: 0, w: 10, h: 10 })).toEqual([{ x: 0, y: 0, w: 16, h: 16 }]);
    expect(r.isEmpty).toBe(false);
    expect(r.take().length).toBeGreaterThan(0);
    expect(r.isEmpty).toBe(true);
  });

  it('subtracts only whole tiles, counting edge tiles as whole', () => {
    const r = new TileRegion(40, 40);
    r.addAll();
    r.subtractInside({ x: 8, y: 0, w: 32, h: 40 });
    // Column 0 (x 0..15) is not wholly inside; columns 1 and 2 (x 16..39) are.
    expect(r.take()).toEqual([{ x: 0, y: 0, w: 16, h: 40 }]);
  });

  it('reports intersections and the marked tiles touching a rectangle', () => {
    const r = new TileRegion(64, 64);
    r.add({ x: 20, y: 20, w: 1, h: 1 });
    expect(r.intersects({ x: 0, y: 0, w: 16, h: 16 })).toBe(false);
    expect(r.intersects({ x: 0, y: 0, w: 17, h: 17 })).toBe(true);
    expect(r.tileRectsTouching({ x: 0, y: 0, w: 64, h: 64 })).toEqual([{ x: 16, y: 16, w: 16, h: 16 }]);
  });
});
