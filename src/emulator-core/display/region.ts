// A dirty region kept as a grid of square tiles. Coarse on purpose: adding a rectangle is O(tiles
// it covers) whatever the history, memory is bounded (one byte per tile), and the rectangles it
// gives back are few and large, which is what an encoder wants. A tile is at most TILE-1 pixels
// of over-send on each edge.

import { clipRect, type Rect } from './framebuffer';

export const TILE = 16;

export class TileRegion {
  readonly cols: number;
  readonly rows: number;
  private readonly tiles: Uint8Array;
  private count = 0;

  constructor(readonly width: number, readonly height: number) {
    this.cols = Math.ceil(width / TILE);
    this.rows = Math.ceil(height / TILE);
    this.tiles = new Uint8Array(this.cols * this.rows);
  }

  get isEmpty(): boolean {
    return this.count === 0;
  }

  /** Marks every tile that `rect` touches. */
  add(rect: Rect): void {
    const r = clipRect(rect, this.width, this.height);
    if (r.w === 0 || r.h === 0) return;
    const c0 = Math.floor(r.x / TILE);
    const c1 = Math.floor((r.x + r.w - 1) / TILE);
    const r0 = Math.floor(r.y / TILE);
    const r1 = Math.floor((r.y + r.h - 1) / TILE);
    for (let row = r0; row <= r1; row++) {
      for (let c = c0; c <= c1; c++) {
        const i = row * this.cols + c;
        if (!this.tiles[i]) {
          this.tiles[i] = 1;
          this.count++;
        }
      }
    }
  }

  addAll(): void {
    this.tiles.fill(1);
    this.count = this.tiles.length;
  }

  clear(): void {
    this.tiles.fill(0);
    this.count = 0;
  }

  /** Unmarks the tiles lying wholly inside `rect` (what remains still covers every pixel outside it). */
  subtractInside(rect: Rect): void {
    const r = clipRect(rect, this.width, this.height);
    const c0 = Math.ceil(r.x / TILE);
    const r0 = Math.ceil(r.y / TILE);
    // A tile at the right/bottom edge of the framebuffer is whole even when narrower than TILE.
    const c1 = r.x + r.w === this.width ? this.cols : Math.floor((r.x + r.w) / TILE);
    const r1 = r.y + r.h === this.height ? this.rows : Math.floor((r.y + r.h) / TILE);
    for (let row = r0; row < r1; row++) {
      for (let c = c0; c < c1; c++) {
        const i = row * this.cols + c;
        if (this.tiles[i]) {
          this.tiles[i] = 0;
          this.count--;
        }
      }
    }
  }

  /** True if any marked tile touches `rect`. */
  intersects(rect: Rect): boolean {
    return this.tilesTouching(rect).some(([c, row]) => this.tiles[row * this.cols + c] === 1);
  }

  /** The pixel rectangles (clipped to the framebuffer) of the marked tiles touching `rect`. */
  tileRectsTouching(rect: Rect): Rect[] {
    return this.tilesTouching(rect)
      .filter(([c, row]) => this.tiles[row * this.cols + c] === 1)
      .map(([c, row]) => this.tileRect(c, row));
  }

  /**
   * The marked area as few rectangles: runs of tiles along each row, then runs with the same
   * columns in consecutive rows merged into one rectangle. Only tiles inside `within` (default:
   * everything) are taken, and those are unmarked.
   */
  take(within?: Rect): Rect[] {
    const [c0, c1, r0, r1] = within ? this.tileBounds(within) : [0, this.cols - 1, 0, this.rows - 1];
    const out: Rect[] = [];
    // Open rectangles by their column span, extended while the next row has the same span.
    let open = new Map<string, { c0: number; c1: number; r0: number; r1: number }>();
    const close = (o: { c0: number; c1: number; r0: number; r1: number }) => {
      const x = o.c0 * TILE;
      const y = o.r0 * TILE;
      out.push(clipRect({ x, y, w: (o.c1 + 1) * TILE - x, h: (o.r1 + 1) * TILE - y }, this.width, this.height));
    };
    for (let row = r0; row <= r1; row++) {
      const next = new Map<string, { c0: number; c1: number; r0: number; r1: number }>();
      let c = c0;
      while (c <= c1) {
        if (!this.tiles[row * this.cols + c]) {
          c++;
          continue;
        }
        const start = c;
        while (c <= c1 && this.tiles[row * this.cols + c]) {
          this.tiles[row * this.cols + c] = 0;
          this.count--;
          c++;
        }
        const key = `${start}:${c - 1}`;
        const prev = open.get(key);
        if (prev) {
          prev.r1 = row;
          open.delete(key);
          next.set(key, prev);
        } else {
          next.set(key, { c0: start, c1: c - 1, r0: row, r1: row });
        }
      }
      for (const o of open.values()) close(o);
      open = next;
    }
    for (const o of open.values()) close(o);
    return out;
  }

  private tileRect(c: number, row: number): Rect {
    return clipRect({ x: c * TILE, y: row * TILE, w: TILE, h: TILE }, this.width, this.height);
  }

  private tileBounds(rect: Rect): [number, number, number, number] {
    const r = clipRect(rect, this.width, this.height);
    if (r.w === 0 || r.h === 0) return [0, -1, 0, -1];
    return [Math.floor(r.x / TILE), Math.floor((r.x + r.w - 1) / TILE), Math.floor(r.y / TILE), Math.floor((r.y + r.h - 1) / TILE)];
  }

  private tilesTouching(rect: Rect): [number, number][] {
    const [c0, c1, r0, r1] = this.tileBounds(rect);
    const out: [number, number][] = [];
    for (let row = r0; row <= r1; row++) for (let c = c0; c <= c1; c++) out.push([c, row]);
    return out;
  }
}
