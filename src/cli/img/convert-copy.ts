// The copy of `viv img convert`: the input's extents (data, zero, or nothing to copy) are read in
// units of up to UNIT bytes, several at once, into a ring of page-aligned buffers; each unit,
// once read, is cut into runs by sparse detection; one writer hands the runs to the target in
// input order, as many as are ready in one request (writeMany), so a QCOW2 target allocates
// its clusters in guest order and writes what lands back to back in one pwritev.
//
// Why this shape (measured on a 1 GiB image, page cache, 2 cores): every request costs two
// thread hand-offs (in a VM, a wake-up is an inter-processor interrupt) and JS bookkeeping on
// the main thread, so requests are few and large; and writes to one file take its inode lock in
// turn, so a second write in flight only spins on that lock, taking a core from the reads:
// one write at a time, issued as soon as the previous one ends.
import { Qcow2Driver, type BlockDriver, type IoRequest } from '../../emulator-core/block';
import { alignedBytes } from '../../emulator-core/block/aligned';
import { zeroPrefix } from '../../emulator-core/block/raw';
import { statusAbove } from './block-status';
import { CommandError, ioErrorText } from './common';
import type { Progress } from './progress';
import type { DataExtent } from './raw-extents';
import { zeroRuns } from './zero-runs';

/**
 * Bytes of input per read (a multiple of every cluster size, so compressed units hold whole
 * clusters). Larger units and rings cost fewer requests, but the ring then no longer stays in
 * the CPU's cache and the kernel's copies slow down (1 GiB from the page cache, 2 reads in
 * flight: 150-160 ms of CPU with 2 MiB reads into a 4 MiB ring, 175-185 ms into 16-32 MiB).
 */
const UNIT = 2 << 20;
/** Units read at once (capped by -m): on two cores, more only queue on the thread pool. */
const READ_AHEAD = 2;
/** Buffers in the ring: the reads in flight, the units waiting for the writer and the write itself. */
const SLOTS = 5;
/** The most data one write request carries. */
const MAX_WRITE = 4 << 20;
/** The most ranges one unit gathers (a QCOW2 source made of tiny extents). */
const MAX_PIECES = 512;

export interface Source {
  drv: BlockDriver;
  /** First byte of this source in the concatenated input. */
  base: number;
  /** A raw source's data extents (raw-extents.ts), or null when unknown: then all of it is data. */
  dataExtents?: Promise<DataExtent[] | null>;
}

export interface CopyJob {
  sources: Source[];
  target: BlockDriver;
  total: number;
  /** The target reads as zeros where nothing is written. */
  zeroInit: boolean;
  compress: boolean;
  minSparse: number;
  parallel: number;
  /** The target has a backing file: copy only what the source's top image has (qemu's BLK_BACKING_FILE). */
  topOnly: boolean;
  progress: Progress | null;
}

type ExtentKind = 'data' | 'zero' | 'skip';

interface Extent {
  kind: ExtentKind;
  /** In the output (the concatenated input). */
  offset: number;
  length: number;
  src: Source;
}

/** Input to read together into one ring slot, and the order of everything in it. */
interface Unit {
  items: Extent[];
  /** Bytes of data to read (packed in the slot in item order). */
  bytes: number;
}

/** What the writer does, in input order. */
type Op =
  | { kind: 'data'; offset: number; data: Uint8Array }
  | { kind: 'zero'; offset: number; length: number }
  | { kind: 'done'; length: number } // nothing to write (skipped, or zeros on a zero target)
  | { kind: 'release' }; // the unit's slot may be reused

/** The input's extents in order. */
async function* extents(job: CopyJob): AsyncGenerator<Extent> {
  if (job.compress) {
    // Compressed output is written cluster by cluster: whole UNIT windows of the concatenated
    // input, zero when no source has data there.
    for (let off = 0; off < job.total; off += UNIT) {
      const length = Math.min(UNIT, job.total - off);
      yield { kind: (await allZero(job, off, length)) ? 'zero' : 'data', offset: off, length, src: sourceAt(job, off) };
    }
    return;
  }
  for (const src of job.sources) {
    const len = src.drv.length();
    if (src.drv.format === 'raw' && !job.topOnly) {
      // A raw file: its holes as zero extents when they could be found (as qemu-img's SEEK_DATA
      // walk gives them), else all of it as data, and the sparse detection finds the zeros.
      const map = (await src.dataExtents) ?? [{ offset: 0, length: len }];
      let at = 0;
      for (const d of map) {
        if (d.offset > at) yield { kind: 'zero', offset: src.base + at, length: d.offset - at, src };
        yield { kind: 'data', offset: src.base + d.offset, length: d.length, src };
        at = d.offset + d.length;
      }
      if (at < len) yield { kind: 'zero', offset: src.base + at, length: len - at, src };
      continue;
    }
    for (let off = 0; off < len;) {
      let kind: ExtentKind;
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
      yield { kind, offset: src.base + off, length: n, src };
      off += n;
    }
  }
}

/**
 * Extents gathered into units of at most UNIT bytes of data: a data extent fills what is left of
 * the current unit and goes on in the next (an extent of 2 MiB is one read, wherever it starts).
 */
async function* units(job: CopyJob): AsyncGenerator<Unit> {
  let unit: Unit = { items: [], bytes: 0 };
  for await (const e of extents(job)) {
    let offset = e.offset;
    let left = e.kind === 'data' ? e.length : 0;
    do {
      if (unit.items.length >= MAX_PIECES || (left > 0 && unit.bytes === UNIT)) {
        yield unit;
        unit = { items: [], bytes: 0 };
      }
      const n = Math.min(left, UNIT - unit.bytes);
      unit.items.push(e.kind === 'data' ? { ...e, offset, length: n } : e);
      unit.bytes += n;
      offset += n;
      left -= n;
    } while (left > 0);
  }
  if (unit.items.length) yield unit;
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

export async function copyImage(job: CopyJob): Promise<void> {
  await new CopyPipeline(job).run();
}

class CopyPipeline {
  private readonly slab = alignedBytes(UNIT * SLOTS);
  /** Units given a slot so far, and slots given back (both only grow: the ring is used in order). */
  private taken = 0;
  private released = 0;
  private slotWaiter: (() => void) | undefined;
  /** Reads in flight, in input order, each resolving to its unit's writer ops. */
  private readonly reads: Promise<Op[]>[] = [];
  private readonly queue: Op[] = [];
  /** The write loop; `writing` is cleared inside it, synchronously, when it runs out of work. */
  private writer: Promise<void> | undefined;
  private writing = false;
  private failure: { error: unknown } | undefined;
  private done = 0;
  private readonly clusterSize: number;
  private readonly sparseBlock: number;

  constructor(private readonly job: CopyJob) {
    const t = job.target;
    this.clusterSize = t instanceof Qcow2Driver ? t.image.clusterSize : 4096;
    // Runs of zero blocks (-S bytes, widened to the target's cluster size so a QCOW2 target only
    // skips whole clusters) are not written.
    this.sparseBlock = Math.max(job.minSparse, t.format === 'qcow2' ? this.clusterSize : job.minSparse);
  }

  async run(): Promise<void> {
    const job = this.job;
    job.progress?.start();
    const readAhead = Math.min(job.parallel, READ_AHEAD);
    try {
      for await (const unit of units(job)) {
        const slot = unit.bytes > 0 ? await this.takeSlot() : -1;
        while (this.reads.length >= readAhead) await this.consumeOne();
        const ops = this.readUnit(unit, slot);
        ops.catch(() => undefined); // reported when its turn to be written comes, not as unhandled
        this.reads.push(ops);
      }
      while (this.reads.length) await this.consumeOne();
      await this.writer;
      this.throwIfFailed();
    } catch (err) {
      // Nothing may still use the buffers or the files when the caller closes them.
      await Promise.allSettled([...this.reads, this.writer]);
      throw err;
    }
    await job.target.flush();
    job.progress?.update(100, true);
    job.progress?.finish();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }

  /** Waits for a free slot in the ring (feeding the writer meanwhile); returns its index. */
  private async takeSlot(): Promise<number> {
    while (this.taken - this.released >= SLOTS) {
      this.throwIfFailed();
      if (this.reads.length) await this.consumeOne();
      else await new Promise<void>((resolve) => (this.slotWaiter = resolve));
    }
    this.throwIfFailed();
    return this.taken++ % SLOTS;
  }

  private releaseSlot(): void {
    this.released++;
    this.wakeProducer();
  }

  private wakeProducer(): void {
    const w = this.slotWaiter;
    this.slotWaiter = undefined;
    w?.();
  }

  /** Hands the oldest read's ops to the writer (its errors surface here, in input order). */
  private async consumeOne(): Promise<void> {
    const ops = await this.reads.shift()!;
    this.throwIfFailed();
    this.queue.push(...ops);
    if (!this.writing) {
      this.writing = true;
      this.writer = this.writeLoop();
    }
  }

  /** Reads the unit's data into its slot and turns the unit into writer ops. */
  private async readUnit(unit: Unit, slotIndex: number): Promise<Op[]> {
    let slot: Uint8Array | undefined;
    const views: Uint8Array[] = [];
    if (unit.bytes > 0) {
      slot = this.slab.subarray(slotIndex * UNIT, slotIndex * UNIT + unit.bytes);
      const reqs: { src: Source; req: IoRequest }[] = [];
      let p = 0;
      for (const e of unit.items) {
        if (e.kind !== 'data') continue;
        const view = slot.subarray(p, p + e.length);
        views.push(view);
        inputRanges(this.job, e.offset, view, reqs);
        p += e.length;
      }
      try {
        await Promise.all(bySource(reqs).map(([src, r]) => src.drv.readMany(r)));
      } catch (err) {
        throw new CommandError(`error while reading at byte ${reqs[0]!.src.base + reqs[0]!.req.offset}: ${ioErrorText(err)}`);
      }
    }
    const ops: Op[] = [];
    let i = 0;
    for (const e of unit.items) {
      if (e.kind === 'data') this.dataOps(e.offset, views[i++]!, ops);
      else if (e.kind === 'zero' && !this.job.zeroInit) ops.push({ kind: 'zero', offset: e.offset, length: e.length });
      else ops.push({ kind: 'done', length: e.length });
    }
    if (slot) ops.push({ kind: 'release' });
    return ops;
  }

  /** Data as writer ops: with sparse detection, zero blocks become zero ops (or nothing). */
  private dataOps(offset: number, data: Uint8Array, ops: Op[]): void {
    if (this.job.compress || this.job.minSparse === 0) {
      ops.push({ kind: 'data', offset, data });
      return;
    }
    for (const r of zeroRuns(data, offset, this.sparseBlock)) {
      if (!r.zero) ops.push({ kind: 'data', offset: offset + r.start, data: data.subarray(r.start, r.end) });
      else if (this.job.zeroInit) ops.push({ kind: 'done', length: r.end - r.start });
      else ops.push({ kind: 'zero', offset: offset + r.start, length: r.end - r.start });
    }
  }

  /** One write at a time, in input order; slots go back once their data is written. */
  private async writeLoop(): Promise<void> {
    try {
      while (this.queue.length && !this.failure) {
        const op = this.queue[0]!;
        if (op.kind === 'data') {
          const batch = this.takeDataBatch();
          await this.writeData(batch.requests);
          this.progress(batch.bytes);
          for (let k = 0; k < batch.releases; k++) this.releaseSlot();
          continue;
        }
        this.queue.shift();
        if (op.kind === 'zero') {
          await this.job.target.writeZeroes(op.offset, op.length, { mayUnmap: true }).catch((err: unknown) => {
            throw new CommandError(`error while writing at byte ${op.offset}: ${ioErrorText(err, true)}`);
          });
          this.progress(op.length);
        } else if (op.kind === 'done') this.progress(op.length);
        else this.releaseSlot();
      }
    } catch (err) {
      this.failure = { error: err };
      this.wakeProducer(); // a producer waiting for a slot sees the failure
    } finally {
      this.writing = false;
    }
  }

  /**
   * The data ops at the head of the queue (up to MAX_WRITE bytes) as one request list, with the
   * slot releases and nothing-to-do ops between them; neighbours in the output and the ring merge.
   */
  private takeDataBatch(): { requests: IoRequest[]; bytes: number; releases: number } {
    const requests: IoRequest[] = [];
    let bytes = 0;
    let releases = 0;
    while (this.queue.length) {
      const op = this.queue[0]!;
      if (op.kind === 'release') releases++;
      else if (op.kind === 'done') bytes += op.length;
      else if (op.kind === 'data' && (requests.length === 0 || bytes + op.data.length <= MAX_WRITE)) {
        const last = requests[requests.length - 1];
        if (last && last.offset + last.data.length === op.offset && last.data.buffer === op.data.buffer &&
          last.data.byteOffset + last.data.length === op.data.byteOffset) {
          last.data = new Uint8Array(op.data.buffer, last.data.byteOffset, last.data.length + op.data.length);
        } else requests.push({ offset: op.offset, data: op.data });
        bytes += op.data.length;
      } else break;
      this.queue.shift();
    }
    return { requests, bytes, releases };
  }

  private async writeData(requests: IoRequest[]): Promise<void> {
    const job = this.job;
    const t = job.target;
    try {
      if (!job.compress || !(t instanceof Qcow2Driver)) {
        await t.writeMany(requests);
        return;
      }
      // Compressed: cluster by cluster, in order (packed byte-wise after each other).
      for (const { offset, data } of requests) {
        for (let p = 0; p < data.length; p += this.clusterSize) {
          let slice = data.subarray(p, Math.min(data.length, p + this.clusterSize));
          if (zeroPrefix(slice) === slice.length) {
            if (!job.zeroInit) await t.writeZeroes(offset + p, slice.length, { mayUnmap: true });
            continue;
          }
          // The input's last bytes may end short of the target's last cluster (a qcow2 size is
          // whole sectors): the cluster is compressed with zeros after them, as qemu-img does.
          const whole = Math.min(this.clusterSize, t.length() - (offset + p));
          if (slice.length < whole) {
            const padded = new Uint8Array(whole);
            padded.set(slice);
            slice = padded;
          }
          await t.writeCompressed(offset + p, slice);
        }
      }
    } catch (err) {
      if (err instanceof CommandError) throw err;
      throw new CommandError(`error while writing at byte ${requests[0]!.offset}: ${ioErrorText(err, true)}`);
    }
  }

  private progress(bytes: number): void {
    this.done += bytes;
    const job = this.job;
    job.progress?.update(job.total ? (this.done * 100) / job.total : 100);
  }
}

/**
 * The reads that fill `buf` with the concatenated input from `offset` on: one per source it
 * covers (only a compressed convert's windows cross from one source into the next).
 */
function inputRanges(job: CopyJob, offset: number, buf: Uint8Array, out: { src: Source; req: IoRequest }[]): void {
  for (let p = 0; p < buf.length;) {
    const src = sourceAt(job, offset + p);
    const within = offset + p - src.base;
    const n = Math.min(buf.length - p, src.drv.length() - within);
    if (n <= 0) throw new RangeError(`convert: no input at byte ${offset + p}`);
    out.push({ src, req: { offset: within, data: buf.subarray(p, p + n) } });
    p += n;
  }
}

/** Requests grouped by the source they read from (a unit may straddle two inputs). */
function bySource(reqs: { src: Source; req: IoRequest }[]): [Source, IoRequest[]][] {
  const m = new Map<Source, IoRequest[]>();
  for (const { src, req } of reqs) {
    const list = m.get(src);
    if (list) list.push(req);
    else m.set(src, [req]);
  }
  return [...m];
}
