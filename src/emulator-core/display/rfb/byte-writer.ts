// A growable big-endian byte buffer for building RFB messages (RFB integers are big-endian).

export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  length = 0;

  constructor(initial = 4096) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  /** Makes room for `n` more bytes and returns the offset where they go. */
  reserve(n: number): number {
    const need = this.length + n;
    if (need > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < need) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    const at = this.length;
    this.length = need;
    return at;
  }

  /** The underlying buffer (valid until the next `reserve`): for encoders that write in place. */
  get bytes(): Uint8Array {
    return this.buf;
  }

  // Each writer reserves first: `reserve` may replace `buf` and `view`.
  u8(v: number): this {
    const at = this.reserve(1);
    this.buf[at] = v;
    return this;
  }
  u16(v: number): this {
    const at = this.reserve(2);
    this.view.setUint16(at, v);
    return this;
  }
  u32(v: number): this {
    const at = this.reserve(4);
    this.view.setUint32(at, v >>> 0);
    return this;
  }
  s32(v: number): this {
    const at = this.reserve(4);
    this.view.setInt32(at, v);
    return this;
  }
  bytesOf(b: Uint8Array): this {
    const at = this.reserve(b.length);
    this.buf.set(b, at);
    return this;
  }
  /** Overwrites a u32 written earlier (a length known only after the body). */
  patchU32(at: number, v: number): void {
    this.view.setUint32(at, v >>> 0);
  }

  /** A copy of what was written. */
  take(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}
