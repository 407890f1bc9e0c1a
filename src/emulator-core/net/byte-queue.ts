// A FIFO of bytes kept as the chunks they arrived in (host socket reads), so appending and
// dropping acknowledged bytes never copy; copyOut reads any range for (re)transmission.

export class ByteQueue {
  private chunks: Uint8Array[] = [];
  private head = 0; // index of the first live chunk
  private headOffset = 0; // bytes already consumed from chunks[head]
  private total = 0;

  get length(): number {
    return this.total;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  /** Drops the first n bytes (n <= length). */
  consume(n: number): void {
    if (n > this.total) throw new RangeError(`consume(${n}) past the ${this.total} queued bytes`);
    this.total -= n;
    while (n > 0) {
      const c = this.chunks[this.head]!;
      const left = c.length - this.headOffset;
      if (n < left) {
        this.headOffset += n;
        return;
      }
      n -= left;
      this.chunks[this.head] = EMPTY;
      this.head++;
      this.headOffset = 0;
    }
    if (this.head > 32 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }

  /** Copies `len` bytes starting `offset` bytes into the queue to dest[destOffset..]. */
  copyOut(offset: number, len: number, dest: Uint8Array, destOffset: number): void {
    if (offset < 0 || len < 0 || offset + len > this.total) {
      throw new RangeError(`copyOut(${offset}, ${len}) outside the ${this.total} queued bytes`);
    }
    if (len === 0) return;
    let i = this.head;
    let skip = offset + this.headOffset;
    while (skip >= this.chunks[i]!.length) {
      skip -= this.chunks[i]!.length;
      i++;
    }
    while (len > 0) {
      const c = this.chunks[i]!;
      const n = Math.min(len, c.length - skip);
      dest.set(c.subarray(skip, skip + n), destOffset);
      destOffset += n;
      len -= n;
      skip = 0;
      i++;
    }
  }
}

const EMPTY = new Uint8Array(0);
