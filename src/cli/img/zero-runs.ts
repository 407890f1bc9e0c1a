// Sparse detection for convert's output (qemu-img's is_allocated_sectors with -S): a buffer of
// output bytes is cut into runs of blocks that are all zero and blocks that are not, on a grid of
// `block` bytes aligned to the output offset (so consecutive buffers agree on it).
//
// It runs on the main thread over every byte read from a raw source (whose holes Node cannot
// skip: no SEEK_DATA), so it is written for speed: data blocks are told apart by a few bytes;
// zero blocks are compared natively (memcmp via Buffer.compare, on one Buffer view of the whole
// buffer, so no object per block), and once a zero block is found, whole strides of 64 KiB are
// compared at once, falling back to single blocks only where a stride holds data.

export interface ZeroRun {
  start: number;
  end: number;
  zero: boolean;
}

/** A block of zeros to compare against (stays in the CPU cache). */
const ZEROS = Buffer.alloc(65536);

/** True when buf[from, to) is all zero (the range may be longer than ZEROS). */
function zeroRange(buf: Buffer, from: number, to: number): boolean {
  for (let p = from; p < to; p += ZEROS.length) {
    const n = Math.min(ZEROS.length, to - p);
    if (buf.compare(ZEROS, 0, n, p, p + n) !== 0) return false;
  }
  return true;
}

/**
 * Splits `data` (output bytes from `base` on) into runs of zero and non-zero blocks of `block`
 * bytes on the output's grid; the first and last runs may be cut by the buffer's ends.
 */
export function zeroRuns(data: Uint8Array, base: number, block: number): ZeroRun[] {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.length);
  const len = buf.length;
  const runs: ZeroRun[] = [];
  // Whole blocks per stride: a multiple of the block, about 64 KiB.
  const stride = block * Math.max(1, Math.floor(ZEROS.length / block));
  let p = 0;
  let run: ZeroRun | undefined;
  while (p < len) {
    const next = Math.min(len, Math.floor((base + p) / block) * block + block - base);
    // Most data blocks have a non-zero byte at the start, middle or end: only the others are
    // compared in full.
    const zero = (buf[p]! | buf[(p + next) >> 1]! | buf[next - 1]!) === 0 && zeroRange(buf, p, next);
    let end = next;
    if (zero) {
      // Inside a zero run: skip whole strides while they are zero.
      while (end + stride <= len && zeroRange(buf, end, end + stride)) end += stride;
    }
    if (run && run.zero === zero) run.end = end;
    else runs.push((run = { start: p, end, zero }));
    p = end;
  }
  return runs;
}
