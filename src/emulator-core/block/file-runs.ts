// Merging of I/O pieces that lie back to back in an image file into one vectored system call
// (preadv/pwritev): a convert's output clusters, allocated one after the other, or a guest's
// scatter list over contiguous sectors, then cost one thread-pool round trip instead of one each.

/** A piece of I/O: `data` goes to (or comes from) the file at `host`. */
export interface FilePiece {
  host: number;
  data: Uint8Array;
}

/** Pieces that are contiguous in the file, in order, as one transfer. */
export interface FileRun<T extends FilePiece = FilePiece> {
  host: number;
  bufs: Uint8Array[];
  pieces: T[];
}

/** Groups `pieces`, in the given order, into runs where each piece starts where the last ended. */
export function fileRuns<T extends FilePiece>(pieces: readonly T[]): FileRun<T>[] {
  const runs: FileRun<T>[] = [];
  let last: FileRun<T> | undefined;
  let end = -1;
  for (const p of pieces) {
    if (p.data.length === 0) continue;
    if (last && p.host === end) {
      last.bufs.push(p.data);
      last.pieces.push(p);
    } else {
      last = { host: p.host, bufs: [p.data], pieces: [p] };
      runs.push(last);
    }
    end = p.host + p.data.length;
  }
  return runs;
}
