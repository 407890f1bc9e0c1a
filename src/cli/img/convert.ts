// `viv img convert [-U] [-c] [-p] [-q] [-n] [-f fmt] [-t cache] [-T src_cache] [-O output_fmt]
//   [-B backing_file [-F backing_fmt]] [-o options] [-S sparse_size] [-m num] [-W]
//   filename [filename2 [...]] output_filename` (qemu-img convert).
import { Qcow2Driver, type BlockDriver } from '../../emulator-core/block';
import { zeroPrefix } from '../../emulator-core/block/raw';
import { alignedBytes } from '../../emulator-core/block/aligned';
import { statusAbove } from './block-status';
import { checkOptionList, CommandError, cvtnum, ioErrorText, openForCli, runCommand, withImage } from './common';
import { createImage } from './create';
import { parseCreateOptions } from './create-options';
import { getopt } from './getopt';
import { Progress } from './progress';
import { refuseUnsupported } from './unsupported';

const CACHE_MODES = ['none', 'writeback', 'writethrough', 'directsync', 'unsafe'];
/** qemu-img convert's buffer: 2 MiB per request. */
const CHUNK = 2 * 1024 * 1024;

interface Source {
  drv: BlockDriver;
  /** First byte of this source in the concatenated input. */
  base: number;
}

type PieceKind = 'data' | 'zero' | 'skip';

interface Piece {
  kind: PieceKind;
  offset: number; // in the output
  length: number;
  src: Source;
}

export function convertCommand(argv: string[]): Promise<number> {
  return runCommand(async () => {
    const { options, operands } = getopt(argv, ':hf:O:B:CcF:o:l:S:pt:T:qnm:WUr:', [
      { name: 'help', hasArg: false, key: 'h' },
      { name: 'object', hasArg: true, key: 'object' },
      { name: 'image-opts', hasArg: false, key: 'image-opts' },
      { name: 'target-image-opts', hasArg: false, key: 'target-image-opts' },
      { name: 'salvage', hasArg: false, key: 'salvage' },
      { name: 'target-is-zero', hasArg: false, key: 'target-is-zero' },
      { name: 'bitmaps', hasArg: false, key: 'bitmaps' },
      { name: 'skip-broken-bitmaps', hasArg: false, key: 'skip-broken-bitmaps' },
      { name: 'force-share', hasArg: false, key: 'U' },
    ]);
    let fmt: string | undefined;
    let outFmt = 'raw';
    let baseImg: string | undefined;
    let baseFmt: string | undefined;
    let opts: string | undefined;
    let compress = false;
    let progress = false;
    let quiet = false;
    let noCreate = false;
    let targetIsZero = false;
    let minSparse = 4096;
    let parallel = 8;
    let cache = 'unsafe';
    for (const o of options) {
      switch (o.key) {
        case 'h': return (await import('./help')).printHelp();
        case 'f': fmt = o.value; break;
        case 'O': outFmt = o.value!; break;
        case 'B': baseImg = o.value; break;
        case 'F': baseFmt = o.value; break;
        case 'c': compress = true; break;
        case 'o':
          checkOptionList(o.value!);
          opts = opts ? `${opts},${o.value}` : o.value;
          break;
        case 'S': {
          const v = cvtnum('buffer size for sparse output', o.value!);
          if (v % 512 !== 0 || v > 16 << 20) {
            throw new CommandError(`Invalid buffer size for sparse output specified. Valid sizes are multiples of 512 up to ${16 << 20}. Select 0 to disable sparse detection (fully allocates output).`);
          }
          minSparse = v;
          break;
        }
        case 'p': progress = true; break;
        case 't': cache = o.value!; break;
        case 'T':
          if (!CACHE_MODES.includes(o.value!)) throw new CommandError(`Invalid source cache option: ${o.value}`);
          break;
        case 'q': quiet = true; break;
        case 'n': noCreate = true; break;
        case 'm': {
          const n = Number(o.value);
          if (!Number.isInteger(n) || n < 1 || n > 16) throw new CommandError('Invalid number of coroutines. Allowed number of coroutines is between 1 and 16');
          parallel = n;
          break;
        }
        case 'W': case 'U': break;
        case 'target-is-zero': targetIsZero = true; break;
        case 'C': refuseUnsupported('-C (copy offloading)'); break;
        case 'l': refuseUnsupported('-l (convert from an internal snapshot)'); break;
        case 'r': refuseUnsupported('-r (rate limit)'); break;
        default: refuseUnsupported(`--${o.key}`);
      }
    }
    if (quiet) progress = false;
    if (operands.length < 2) throw new CommandError('Must specify image file name');
    const outFile = operands[operands.length - 1]!;
    const inputs = operands.slice(0, -1);
    if (outFmt !== 'raw' && outFmt !== 'qcow2') throw new CommandError(`Unknown file format '${outFmt}'`);
    const given = parseCreateOptions(outFmt, opts);
    if (baseImg !== undefined) {
      if (given.has('backing_file')) throw new CommandError('-B and -o backing_file cannot be used at the same time');
      given.set('backing_file', baseImg);
    }
    if (baseFmt !== undefined) given.set('backing_fmt', baseFmt);
    if (given.has('backing_file') && outFmt !== 'qcow2') throw new CommandError(`Backing file not supported for file format '${outFmt}'`);
    if (given.has('backing_file') && !given.has('backing_fmt')) throw new CommandError('Use of backing file requires explicit backing format');
    if (compress && outFmt !== 'qcow2') throw new CommandError('Compression not supported for this file format');
    if (targetIsZero && !noCreate) throw new CommandError('--target-is-zero requires use of -n flag');

    const sources: Source[] = [];
    try {
      let total = 0;
      for (const name of inputs) {
        const drv = await openForCli(name, { format: fmt, readOnly: true });
        sources.push({ drv, base: total });
        total += drv.length();
      }
      const hasBacking = given.has('backing_file');
      if (!noCreate) {
        const optText = [...given.entries()].map(([k, v]) => `${k}=${v.replace(/,/g, ',,')}`).join(',');
        try {
          await createImage({ filename: outFile, fmt: outFmt, opts: optText || undefined, size: total, quiet: true, unsafe: false });
        } catch (err) {
          if (err instanceof CommandError) throw new CommandError(`${outFile}: ${err.message}`, err.exitCode, err.newline);
          throw err;
        }
      }
      // qemu-img checks the target's cache mode only when it opens the target (after creating it).
      if (!CACHE_MODES.includes(cache)) throw new CommandError(`Invalid cache option: ${cache}`);
      const target = await openForCli(outFile, { format: outFmt, readOnly: false, noBacking: true, unsafe: cache === 'unsafe' });
      await withImage(target, async () => {
        if (noCreate && target.length() < total) throw new CommandError('output file is smaller than input file');
        // A freshly created image reads as zeros (unless it has a backing file): zeros need no write.
        const zeroInit = (!noCreate && !hasBacking) || targetIsZero;
        await copy({
          sources, target, total, zeroInit, compress, minSparse, parallel, topOnly: hasBacking,
          progress: progress ? new Progress() : null,
        });
      }).catch((err) => {
        if (err instanceof CommandError) throw err;
        throw new CommandError(`error while writing at byte ${total}: ${ioErrorText(err, true)}`);
      });
    } finally {
      for (const s of sources) await s.drv.close();
    }
    return 0;
  });
}

interface CopyJob {
  sources: Source[];
  target: BlockDriver;
  total: number;
  zeroInit: boolean;
  compress: boolean;
  minSparse: number;
  parallel: number;
  /** The target has a backing file: copy only what the source's top image has (qemu's BLK_BACKING_FILE). */
  topOnly: boolean;
  progress: Progress | null;
}

/** The extents of the input, classified, in pieces of at most CHUNK bytes. */
async function* pieces(job: CopyJob): AsyncGenerator<Piece> {
  if (job.compress) {
    // Compressed output is written cluster by cluster: whole CHUNK windows of the concatenated
    // input (CHUNK is a multiple of every cluster size), zero when no source has data there.
    for (let off = 0; off < job.total; off += CHUNK) {
      const length = Math.min(CHUNK, job.total - off);
      yield { kind: (await allZero(job, off, length)) ? 'zero' : 'data', offset: off, length, src: job.sources[0]! };
    }
    return;
  }
  for (const src of job.sources) {
    const len = src.drv.length();
    if (src.drv.format === 'raw' && !job.topOnly) {
      // A raw file has no allocation map we can read cheaply: copy it as data and let the sparse
      // detection below find the zeros (qemu-img asks SEEK_DATA, which Node cannot).
      for (let off = 0; off < len; off += CHUNK) yield { kind: 'data', offset: src.base + off, length: Math.min(CHUNK, len - off), src };
      continue;
    }
    for (let off = 0; off < len;) {
      let kind: PieceKind;
      let n: number;
      try {
        if (job.topOnly) {
          const st = await src.drv.blockStatus(off, len - off);
          n = st.length;
          kind = st.zero ? 'zero' : st.data ? 'data' : 'skip';
        } else {
          const st = await statusAbove(src.drv, off, len - off);
          n = st.length;
          kind = st.zero ? 'zero' : 'data';
        }
      } catch (err) {
        throw new CommandError(`error while reading block status at offset ${src.base + off}: ${ioErrorText(err)}`);
      }
      for (let p = 0; p < n; p += CHUNK) {
        yield { kind, offset: src.base + off + p, length: Math.min(CHUNK, n - p), src };
      }
      off += n;
    }
  }
}

/** True when the input reads as zeros over [offset, offset+length) by its allocation status alone. */
async function allZero(job: CopyJob, offset: number, length: number): Promise<boolean> {
  for (let p = offset; p < offset + length;) {
    const src = sourceAt(job, p);
    const within = p - src.base;
    const n = Math.min(offset + length - p, src.drv.length() - within);
    let st;
    try {
      st = job.topOnly ? await src.drv.blockStatus(within, n) : await statusAbove(src.drv, within, n);
    } catch (err) {
      throw new CommandError(`error while reading block status at offset ${p}: ${ioErrorText(err)}`);
    }
    if (!(st.zero || (job.topOnly && !st.data))) return false;
    p += st.length;
  }
  return true;
}

function sourceAt(job: CopyJob, offset: number): Source {
  let found = job.sources[0]!;
  for (const s of job.sources) if (s.base <= offset && s.drv.length() > 0) found = s;
  return found;
}

/** Reads the concatenated input at `offset` (a read may span several sources). */
async function readInput(job: CopyJob, offset: number, buf: Uint8Array): Promise<void> {
  for (let p = 0; p < buf.length;) {
    const src = sourceAt(job, offset + p);
    const within = offset + p - src.base;
    const n = Math.min(buf.length - p, src.drv.length() - within);
    await src.drv.read(within, buf.subarray(p, p + n));
    p += n;
  }
}

async function copy(job: CopyJob): Promise<void> {
  const clusterSize = job.target instanceof Qcow2Driver ? job.target.image.clusterSize : 4096;
  const inflight: Promise<{ piece: Piece; buf?: Uint8Array }>[] = [];
  let done = 0;
  job.progress?.start();
  // Buffers are recycled once their piece is written: a convert allocates a handful, not one per
  // 2 MiB piece (which costs more in garbage collection than the copy itself).
  // Writes overlap (a raw target's land at their own offsets; a qcow2 target allocates under its
  // lock in the order the writes are issued and writes the data outside it), except compressed
  // ones, which are packed byte-wise in order.
  const maxWriters = job.compress ? 1 : 4;
  const slots = job.parallel + maxWriters + 1;
  const slab = alignedBytes(CHUNK * slots);
  const pool: Uint8Array[] = [];
  for (let i = 0; i < slots; i++) pool.push(slab.subarray(i * CHUNK, (i + 1) * CHUNK));
  const read = async (piece: Piece) => {
    if (piece.kind !== 'data') return { piece };
    const whole = pool.pop() ?? alignedBytes(CHUNK);
    const buf = whole.subarray(0, piece.length);
    try {
      await readInput(job, piece.offset, buf);
    } catch (err) {
      throw new CommandError(`error while reading at byte ${piece.offset}: ${ioErrorText(err)}`);
    }
    return { piece, buf };
  };
  const write = async ({ piece, buf }: { piece: Piece; buf?: Uint8Array }) => {
    try {
      await writePiece(job, piece, buf, clusterSize);
    } catch (err) {
      if (err instanceof CommandError) throw err;
      throw new CommandError(`error while writing at byte ${piece.offset}: ${ioErrorText(err, true)}`);
    }
    if (buf) pool.push(new Uint8Array(buf.buffer, buf.byteOffset, CHUNK));
    done += piece.length;
    job.progress?.update(job.total ? (done * 100) / job.total : 100);
  };
  // Writes are issued in input order (reads may finish in any order): a qcow2 target then
  // allocates its clusters in guest order, as qemu-img does without -W.
  const writers = new Set<Promise<void>>();
  const startWrite = async (next: Promise<{ piece: Piece; buf?: Uint8Array }>) => {
    const w = write(await next);
    writers.add(w);
    w.then(() => writers.delete(w), () => undefined);
    if (writers.size >= maxWriters) await Promise.race(writers);
  };
  for await (const piece of pieces(job)) {
    const pending = read(piece);
    pending.catch(() => undefined); // reported when its turn to be written comes, not as unhandled
    inflight.push(pending);
    if (inflight.length >= job.parallel) await startWrite(inflight.shift()!);
  }
  while (inflight.length) await startWrite(inflight.shift()!);
  await Promise.all(writers);
  await job.target.flush();
  job.progress?.update(100, true);
  job.progress?.finish();
}

async function writeZeros(job: CopyJob, offset: number, length: number): Promise<void> {
  if (job.zeroInit || length === 0) return;
  await job.target.writeZeroes(offset, length, { mayUnmap: true });
}

async function writePiece(job: CopyJob, piece: Piece, buf: Uint8Array | undefined, clusterSize: number): Promise<void> {
  if (piece.kind === 'skip') return;
  if (piece.kind === 'zero' || !buf) return writeZeros(job, piece.offset, piece.length);
  if (job.compress && job.target instanceof Qcow2Driver) {
    const t = job.target;
    for (let p = 0; p < buf.length; p += clusterSize) {
      const slice = buf.subarray(p, Math.min(buf.length, p + clusterSize));
      if (zeroPrefix(slice) === slice.length) await writeZeros(job, piece.offset + p, slice.length);
      else await t.writeCompressed(piece.offset + p, slice);
    }
    return;
  }
  if (job.minSparse === 0) {
    await job.target.write(piece.offset, buf);
    return;
  }
  // Sparse detection: runs of zero blocks (-S bytes, widened to the target's cluster size so a
  // qcow2 target only skips whole clusters) are not written.
  const block = Math.max(job.minSparse, job.target.format === 'qcow2' ? clusterSize : job.minSparse);
  // Every run is handed to the target before any is awaited, so the target sees them in order.
  await Promise.all(zeroRuns(buf, piece.offset, block).map(({ start, end, zero }) => zero
    ? writeZeros(job, piece.offset + start, end - start)
    : job.target.write(piece.offset + start, buf.subarray(start, end))));
}

/**
 * Splits `buf` (output bytes from `base` on) into runs of zero and non-zero blocks of `block`
 * bytes, aligned to the output offset so consecutive pieces agree on the grid. (A plain loop
 * apart from the async code: the engine optimises this small function, not the caller.)
 */
export function zeroRuns(buf: Uint8Array, base: number, block: number): { start: number; end: number; zero: boolean }[] {
  const runs: { start: number; end: number; zero: boolean }[] = [];
  let p = 0;
  while (p < buf.length) {
    const next = Math.min(buf.length, Math.floor((base + p) / block) * block + block - base);
    // Most data blocks start with a non-zero byte: only the others need the full comparison.
    const zero = (buf[p]! | buf[p + 1]! | buf[p + 2]! | buf[p + 3]! | buf[next - 1]!) === 0 &&
      zeroPrefix(buf.subarray(p, next)) === next - p;
    const last = runs[runs.length - 1];
    if (last && last.zero === zero) last.end = next;
    else runs.push({ start: p, end: next, zero });
    p = next;
  }
  return runs;
}

