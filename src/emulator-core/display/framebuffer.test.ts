import { describe, expect, it } from 'vitest';
import { Framebuffer, type FramebufferListener, type Rect } from './framebuffer';
import { SurfaceFormat } from './surface-format';

function recorder() {
  const events: string[] = [];
  const l: FramebufferListener = {
    damage: (r: Rect) => events.push(`damage ${r.x},${r.y} ${r.w}x${r.h}`),
    copy: (s: Rect, dx: number, dy: number) => events.push(`copy ${s.x},${s.y} ${s.w}x${s.h} by ${dx},${dy}`),
    resize: (w: number, h: number) => events.push(`resize ${w}x${h}`),
    cursor: (c) => events.push(`cursor ${c ? `${c.width}x${c.height}` : 'none'}`),
  };
  return { events, l };
}

describe('Framebuffer', () => {
  it('converts each virtio-gpu format to canonical pixels', () => {
    // One pixel R=0x11 G=0x22 B=0x33, alpha/padding 0x44, laid out as each format names its bytes.
    const cases: [SurfaceFormat, number[]][] = [
      [SurfaceFormat.B8G8R8A8, [0x33, 0x22, 0x11, 0x44]],
      [SurfaceFormat.B8G8R8X8, [0x33, 0x22, 0x11, 0x44]],
      [SurfaceFormat.A8R8G8B8, [0x44, 0x11, 0x22, 0x33]],
      [SurfaceFormat.X8R8G8B8, [0x44, 0x11, 0x22, 0x33]],
      [SurfaceFormat.R8G8B8A8, [0x11, 0x22, 0x33, 0x44]],
      [SurfaceFormat.R8G8B8X8, [0x11, 0x22, 0x33, 0x44]],
      [SurfaceFormat.A8B8G8R8, [0x44, 0x33, 0x22, 0x11]],
      [SurfaceFormat.X8B8G8R8, [0x44, 0x33, 0x22, 0x11]],
    ];
    for (const [format, bytes] of cases) {
      const fb = new Framebuffer(2, 1);
      fb.blit(1, 0, 1, 1, Uint8Array.from(bytes), 0, 4, format);
      expect(fb.pixels[1], `format ${format}`).toBe(0x112233);
    }
  });

  it('blits with a stride and an unaligned source, and reports damage', () => {
    const fb = new Framebuffer(4, 4);
    const { events, l } = recorder();
    fb.subscribe(l);
    const src = new Uint8Array(1 + 2 * 12);
    for (let r = 0; r < 2; r++) for (let c = 0; c < 2; c++) src.set([c + 1, r + 1, 0x99, 0], 1 + r * 12 + c * 4);
    fb.blit(1, 2, 2, 2, src, 1, 12, SurfaceFormat.B8G8R8X8);
    expect(events).toEqual(['damage 1,2 2x2']);
    expect(fb.pixels[2 * 4 + 1]).toBe(0x990101);
    expect(fb.pixels[3 * 4 + 2]).toBe(0x990202);
    expect(fb.pixels[0]).toBe(0);
  });

  it('refuses rectangles outside itself and sources that are too short', () => {
    const fb = new Framebuffer(4, 4);
    expect(() => fb.blit(3, 0, 2, 1, new Uint8Array(8), 0, 8, SurfaceFormat.B8G8R8X8)).toThrow(RangeError);
    expect(() => fb.blit(0, 0, 2, 2, new Uint8Array(12), 0, 8, SurfaceFormat.B8G8R8X8)).toThrow(/too small/);
    expect(() => fb.fillRect(-1, 0, 1, 1, 0)).toThrow(RangeError);
    expect(() => new Framebuffer(0, 10)).toThrow(RangeError);
    expect(() => new Framebuffer(20000, 10)).toThrow(RangeError);
  });

  it('copies overlapping blocks both ways, like memmove', () => {
    const fb = new Framebuffer(3, 4);
    for (let i = 0; i < 12; i++) fb.pixels[i] = i;
    const { events, l } = recorder();
    fb.subscribe(l);
    fb.copyRect(0, 1, 3, 3, 0, 0); // scroll up one row
    expect([...fb.pixels]).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 9, 10, 11]);
    fb.copyRect(0, 0, 3, 3, 0, 1); // and back down
    expect([...fb.pixels.subarray(3)]).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(events).toEqual(['copy 0,1 3x3 by 0,-1', 'copy 0,0 3x3 by 0,1']);
  });

  it('resizes to black and tells listeners; the same size only damages', () => {
    const fb = new Framebuffer(4, 4);
    fb.fillRect(0, 0, 4, 4, 0xffffff);
    const { events, l } = recorder();
    fb.subscribe(l);
    fb.resize(8, 2);
    expect(fb.width * fb.height).toBe(16);
    expect(fb.pixels.every((p) => p === 0)).toBe(true);
    fb.resize(8, 2);
    fb.setCursor({ width: 2, height: 2, hotX: 0, hotY: 0, pixels: new Uint32Array(4) });
    expect(events).toEqual(['resize 8x2', 'damage 0,0 8x2', 'cursor 2x2']);
  });
});
