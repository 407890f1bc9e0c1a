// The framebuffer model: what a display device scans out and what the VNC server and screendump
// read. Pixels are canonical 0x00RRGGBB u32s (see pixel-format.ts). Writers report what they
// changed; listeners (one per VNC client) keep their own dirty regions, because each client asks
// for updates at its own pace (rfbproto 7.5.3, incremental FramebufferUpdateRequest).

import { detectVerticalShift, type RowHashCache } from './scroll-detect';
import { SURFACE_BYTES_PER_PIXEL, toCanonical, type SurfaceFormat } from './surface-format';

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A pointer image, as virtio-gpu's cursor queue and RFB's Cursor pseudo-encoding carry one. */
export interface CursorImage {
  width: number;
  height: number;
  hotX: number;
  hotY: number;
  /** width*height pixels, 0xAARRGGBB; alpha 0 is transparent. */
  pixels: Uint32Array;
}

export interface FramebufferListener {
  /** Pixels inside `rect` changed. */
  damage(rect: Rect): void;
  /** The pixels of `src` were copied to (src.x+dx, src.y+dy) (a scroll): a client may replay it with CopyRect. */
  copy(src: Rect, dx: number, dy: number): void;
  /** The size changed; every pixel is new. */
  resize(width: number, height: number): void;
  /** The pointer image changed (null: none). */
  cursor(cursor: CursorImage | null): void;
}

/** Largest side we accept: RFB sizes are U16, and 16384 bounds memory at 1 GiB of pixels. */
export const MAX_FRAMEBUFFER_SIDE = 16384;

export class Framebuffer {
  private _width: number;
  private _height: number;
  private _pixels: Uint32Array;
  private _cursor: CursorImage | null = null;
  private readonly listeners = new Set<FramebufferListener>();
  /**
   * The pixels as listeners were last told about them, for scroll detection (null: off). Kept
   * equal to `pixels` at every notification: damage copies the rectangle in, copyRect moves it.
   */
  private shadow: Uint32Array | null;
  /** Row hashes of `shadow`, so a scroll check hashes only the new picture (null with the shadow). */
  private shadowHashes: RowHashCache | null;

  constructor(width: number, height: number, opts: { detectScrolls?: boolean } = {}) {
    checkSize(width, height);
    this._width = width;
    this._height = height;
    this._pixels = new Uint32Array(width * height);
    this.shadow = opts.detectScrolls === false ? null : new Uint32Array(width * height);
    this.shadowHashes = this.shadow ? newHashCache(height) : null;
  }

  get width(): number {
    return this._width;
  }
  get height(): number {
    return this._height;
  }
  /** Row-major canonical pixels; replaced (not resized) by `resize`. Writers must call `damage`. */
  get pixels(): Uint32Array {
    return this._pixels;
  }
  get cursor(): CursorImage | null {
    return this._cursor;
  }

  subscribe(listener: FramebufferListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** New size, all black (a mode set or a new scanout resource). */
  resize(width: number, height: number): void {
    checkSize(width, height);
    if (width === this._width && height === this._height) {
      this._pixels.fill(0);
      this.damage({ x: 0, y: 0, w: width, h: height });
      return;
    }
    this._width = width;
    this._height = height;
    this._pixels = new Uint32Array(width * height);
    if (this.shadow) {
      this.shadow = new Uint32Array(width * height);
      this.shadowHashes = newHashCache(height);
    }
    for (const l of this.listeners) l.resize(width, height);
  }

  /**
   * Tells listeners that pixels inside `rect` (clipped to the framebuffer) changed. A wide, tall
   * rectangle whose rows moved up or down is reported as a copy plus the rows that are new.
   */
  damage(rect: Rect): void {
    const r = clipRect(rect, this._width, this._height);
    if (r.w === 0 || r.h === 0) return;
    const shadow = this.shadow;
    const cache = this.shadowHashes;
    if (cache) cache.lastNow = null;
    const shift = shadow && r.w * 2 >= this._width && this.listeners.size > 0 ? detectVerticalShift(this._pixels, shadow, this._width, r, cache ?? undefined) : null;
    if (shift) {
      const src = { x: r.x, y: shift.y0 + shift.dy, w: r.w, h: shift.y1 - shift.y0 };
      for (const l of this.listeners) l.copy(src, 0, -shift.dy);
      const above = { x: r.x, y: r.y, w: r.w, h: shift.y0 - r.y };
      const below = { x: r.x, y: shift.y1, w: r.w, h: r.y + r.h - shift.y1 };
      for (const part of [above, below]) if (part.h > 0) for (const l of this.listeners) l.damage(part);
    } else {
      for (const l of this.listeners) l.damage(r);
    }
    if (shadow) {
      for (let y = r.y; y < r.y + r.h; y++) {
        const start = y * this._width + r.x;
        shadow.set(this._pixels.subarray(start, start + r.w), start);
      }
      if (cache) {
        // The shadow rows are now what the check just hashed as "now" (whole rows), or unknown.
        const now = cache.lastNow;
        for (let y = r.y; y < r.y + r.h; y++) {
          if (now && y >= now.y && y < now.y + now.hashes.length) {
            cache.hashes[y] = now.hashes[y - now.y]!;
            cache.valid[y] = 1;
          } else {
            cache.valid[y] = 0;
          }
        }
        cache.lastNow = null;
      }
    }
  }

  /**
   * Copies a w*h block of guest pixels in `format` into the framebuffer at (x, y). Row r starts at
   * src[srcOffset + r*stride]. Throws RangeError when the block leaves the framebuffer or the
   * source: callers (devices) have validated guest values, so this is a host bug.
   */
  blit(x: number, y: number, w: number, h: number, src: Uint8Array, srcOffset: number, stride: number, format: SurfaceFormat): void {
    checkInside({ x, y, w, h }, this._width, this._height);
    const rowBytes = w * SURFACE_BYTES_PER_PIXEL;
    if (w === 0 || h === 0) return;
    if (srcOffset < 0 || stride < rowBytes || srcOffset + (h - 1) * stride + rowBytes > src.length) {
      throw new RangeError(`blit source too small: offset ${srcOffset}, stride ${stride}, ${w}x${h}, have ${src.length}`);
    }
    const aligned = (src.byteOffset + srcOffset) % 4 === 0 && stride % 4 === 0;
    const tmp = aligned ? null : new Uint32Array(w);
    for (let r = 0; r < h; r++) {
      const start = src.byteOffset + srcOffset + r * stride;
      let row: Uint32Array;
      if (tmp) {
        new Uint8Array(tmp.buffer).set(src.subarray(srcOffset + r * stride, srcOffset + r * stride + rowBytes));
        row = tmp;
      } else {
        row = new Uint32Array(src.buffer, start, w);
      }
      toCanonical(format, row, this._pixels, (y + r) * this._width + x);
    }
    this.damage({ x, y, w, h });
  }

  /** Fills a rectangle with one canonical colour (tests, boot splash). */
  fillRect(x: number, y: number, w: number, h: number, rgb: number): void {
    checkInside({ x, y, w, h }, this._width, this._height);
    for (let r = 0; r < h; r++) {
      const start = (y + r) * this._width + x;
      this._pixels.fill(rgb & 0xffffff, start, start + w);
    }
    this.damage({ x, y, w, h });
  }

  /** Moves a block inside the framebuffer (overlap-safe), as a scroll does. */
  copyRect(srcX: number, srcY: number, w: number, h: number, dstX: number, dstY: number): void {
    const src = { x: srcX, y: srcY, w, h };
    checkInside(src, this._width, this._height);
    checkInside({ x: dstX, y: dstY, w, h }, this._width, this._height);
    if (w === 0 || h === 0) return;
    const W = this._width;
    for (const p of this.shadow ? [this._pixels, this.shadow] : [this._pixels]) {
      // Rows top-down when moving up, bottom-up when moving down; copyWithin handles each row's overlap.
      if (dstY <= srcY) {
        for (let r = 0; r < h; r++) p.copyWithin((dstY + r) * W + dstX, (srcY + r) * W + srcX, (srcY + r) * W + srcX + w);
      } else {
        for (let r = h - 1; r >= 0; r--) p.copyWithin((dstY + r) * W + dstX, (srcY + r) * W + srcX, (srcY + r) * W + srcX + w);
      }
    }
    if (this.shadowHashes) this.shadowHashes.valid.fill(0, dstY, dstY + h);
    for (const l of this.listeners) l.copy(src, dstX - srcX, dstY - srcY);
  }

  setCursor(cursor: CursorImage | null): void {
    if (cursor) {
      if (cursor.width < 0 || cursor.height < 0 || cursor.width > 256 || cursor.height > 256) {
        throw new RangeError(`cursor ${cursor.width}x${cursor.height} is larger than 256x256`);
      }
      if (cursor.pixels.length < cursor.width * cursor.height) throw new RangeError('cursor pixels too short');
    }
    this._cursor = cursor;
    for (const l of this.listeners) l.cursor(cursor);
  }

  /** A copy of a rectangle's pixels (row-major). */
  read(rect: Rect): Uint32Array {
    checkInside(rect, this._width, this._height);
    const out = new Uint32Array(rect.w * rect.h);
    for (let r = 0; r < rect.h; r++) {
      const start = (rect.y + r) * this._width + rect.x;
      out.set(this._pixels.subarray(start, start + rect.w), r * rect.w);
    }
    return out;
  }
}

function newHashCache(height: number): RowHashCache {
  return { hashes: new Uint32Array(height), valid: new Uint8Array(height), lastNow: null };
}

function checkSize(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > MAX_FRAMEBUFFER_SIDE || height > MAX_FRAMEBUFFER_SIDE) {
    throw new RangeError(`framebuffer size ${width}x${height} is outside 1..${MAX_FRAMEBUFFER_SIDE}`);
  }
}

function checkInside(r: Rect, width: number, height: number): void {
  const ok =
    Number.isInteger(r.x) && Number.isInteger(r.y) && Number.isInteger(r.w) && Number.isInteger(r.h) &&
    r.x >= 0 && r.y >= 0 && r.w >= 0 && r.h >= 0 && r.x + r.w <= width && r.y + r.h <= height;
  if (!ok) throw new RangeError(`rectangle ${r.w}x${r.h}+${r.x}+${r.y} is outside the ${width}x${height} framebuffer`);
}

export function clipRect(r: Rect, width: number, height: number): Rect {
  const x0 = Math.max(0, r.x);
  const y0 = Math.max(0, r.y);
  const x1 = Math.min(width, r.x + r.w);
  const y1 = Math.min(height, r.y + r.h);
  return { x: x0, y: y0, w: Math.max(0, x1 - x0), h: Math.max(0, y1 - y0) };
}
