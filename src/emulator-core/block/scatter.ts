// One range of guest bytes held by several buffers in order (a scatter list: a virtio-blk
// request's pages, or ranges a caller wants read back to back), addressed as one array.

export class Scatter {
  readonly length: number;
  /** Offset of each part's first byte within the whole. */
  private readonly starts: number[];

  constructor(readonly parts: readonly Uint8Array[]) {
    this.starts = [];
    let n = 0;
    for (const p of parts) {
      this.starts.push(n);
      n += p.length;
    }
    this.length = n;
  }

  /** Views of bytes [from, to) of the whole, in order (no copy). */
  slices(from: number, to: number): Uint8Array[] {
    const parts = this.parts;
    if (parts.length === 1) return [parts[0]!.subarray(from, to)];
    const out: Uint8Array[] = [];
    let i = this.partAt(from);
    for (let at = from; at < to; i++) {
      const p = parts[i]!;
      const start = this.starts[i]!;
      const end = Math.min(to, start + p.length);
      if (end > at) out.push(p.subarray(at - start, end - start));
      at = end;
    }
    return out;
  }

  /** The index of the part holding byte `at` (binary search: lists run to hundreds of parts). */
  private partAt(at: number): number {
    let lo = 0;
    let hi = this.parts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= at) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}
