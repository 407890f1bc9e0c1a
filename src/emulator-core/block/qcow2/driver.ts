// QCOW2 as a BlockDriver: one lock around every request's metadata work (QEMU's s->lock), data
// I/O of whole clusters outside it, the ordered metadata flush on `flush`, lazy refcounts' dirty
// bit, compressed writes, and what `getInfo` reports.
import type { BlockDriver, BlockStatus, ImageInfo, IoRequest, WriteZeroesOptions } from '../driver';
import { fileRuns } from '../file-runs';
import { Scatter } from '../scatter';
import { BlockError } from '../errors';
import { HostFile, type IoFaults } from '../host-file';
import type { SnapshotInfo } from '../info';
import { Mutex } from '../mutex';
import { compressCluster } from './compress';
import { ClusterKind, makeCompressedEntry, put64 } from './entries';
import { Qcow2Image, type Qcow2OpenOptions } from './image';
import { decodeL2, l2ForWrite } from './l2';
import {
  abortWrite, blockStatusAt, discardAt, linkWrite, readAt, releaseEntry, writeAt, writeZeroesAt,
  type DeferredRead, type DeferredWrite, type Layer,
} from './rw';
import { isCorrupt } from './header';
import { loadBitmapDirectory, markBitmapsInUse } from './bitmaps';
import { resizeQcow2 } from './resize';
import { applySnapshot, createSnapshot, deleteSnapshot, readSnapshotVmState, type NewSnapshot } from './snapshots';
import type { Snapshot } from './snapshot-table';
import { AUTOCLEAR_BITMAPS, INCOMPAT_CORRUPT } from './constants';

export interface Qcow2DriverOptions extends Qcow2OpenOptions {
  faults?: IoFaults;
  /** The opened backing image (owned by this driver from now on), or null. */
  backing?: BlockDriver | null;
  /** The backing file name as resolved for opening (qemu's full-backing-filename). */
  fullBackingFilename?: string;
  /** Opened to be checked (qemu's BDRV_O_CHECK): no automatic repair of a dirty image. */
  forCheck?: boolean;
  /** cache=unsafe: flushes skip fdatasync (see HostFileOptions.unsafe). */
  unsafe?: boolean;
}

export class Qcow2Driver implements BlockDriver {
  readonly format = 'qcow2' as const;
  private readonly lock = new Mutex();
  private readonly layer: Layer;
  private wroteSinceOpen = false;
  private closed = false;
  /** Reads and writes doing data I/O outside the lock, and who waits for them to finish. */
  private ioInFlight = 0;
  private ioDrained: (() => void)[] = [];
  /** Writes between their planning and their L2 update, and who waits for none to be left. */
  private writesPending = 0;
  private writesSettled: (() => void)[] = [];

  private constructor(
    readonly filename: string,
    readonly image: Qcow2Image,
    backing: BlockDriver | null,
    readonly fullBackingFilename: string | undefined,
  ) {
    this.layer = { img: image, backing };
    image.drainReads = () =>
      this.ioInFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => this.ioDrained.push(resolve));
  }

  static async open(filename: string, options: Qcow2DriverOptions): Promise<Qcow2Driver> {
    const file = await HostFile.open(filename, { readOnly: options.readOnly, faults: options.faults, unsafe: options.unsafe });
    try {
      const image = await Qcow2Image.open(file, options);
      const driver = new Qcow2Driver(filename, image, options.backing ?? null, options.fullBackingFilename);
      if (!options.readOnly && !options.forCheck) await driver.prepareForWriting();
      return driver;
    } catch (err) {
      await file.close();
      throw err;
    }
  }

  /**
   * What QEMU does on a read-write open: repair a dirty image's refcounts first (a lazy-refcounts
   * writer died), and drop autoclear bits we do not maintain (bitmaps) so no reader trusts data
   * we would leave stale.
   */
  private async prepareForWriting(): Promise<void> {
    const img = this.image;
    if (img.dirty) {
      const { repairDirtyImage } = await import('./check');
      await repairDirtyImage(img);
    }
    if (img.header.version === 3 && img.header.autoclearFeatures !== 0n) {
      // Bitmaps we understand stay, marked in use (we will not keep them up to date); any other
      // autoclear feature, or a directory we cannot read, loses its bit (qcow2.txt: a program
      // that does not maintain an autoclear feature clears it before writing).
      const dir = await loadBitmapDirectory(img.file, img.header).catch(() => null);
      if (dir) await markBitmapsInUse(img.file, dir);
      const keep = dir ? AUTOCLEAR_BITMAPS : 0n;
      if ((img.header.autoclearFeatures & ~keep) !== 0n) {
        img.header = { ...img.header, autoclearFeatures: img.header.autoclearFeatures & keep };
        await img.writeHeader();
        await img.file.datasync();
      }
    }
  }

  get backing(): BlockDriver | null {
    return this.layer.backing;
  }

  get readOnly(): boolean {
    return this.image.readOnly;
  }

  length(): number {
    return this.image.size;
  }

  /**
   * Runs a request under the lock; an inconsistency found on the way marks a writable image
   * corrupt (as qcow2_signal_corruption does) so nothing builds on it.
   */
  private guarded<T>(fn: () => Promise<T>): Promise<T> {
    return this.lock.run(async () => {
      try {
        return await fn();
      } catch (err) {
        if (err instanceof BlockError && err.corruption && !this.readOnly) {
          await this.image.markCorrupt().catch(() => undefined);
        }
        throw err;
      }
    });
  }

  private async beforeWrite(): Promise<void> {
    if (this.readOnly) throw new BlockError('EROFS', 'Image opened read-only');
    if (this.image.header.incompatibleFeatures & INCOMPAT_CORRUPT) {
      throw new BlockError('EIO', 'Image is corrupt; writes refused (run qemu-img check -r all)');
    }
    if (!this.wroteSinceOpen) {
      this.wroteSinceOpen = true;
      // Lazy refcounts: QEMU marks the image dirty before the first write and clean on close.
      if (this.image.lazyRefcounts) await this.image.setDirty(true);
    }
  }

  /**
   * The mapping is resolved under the lock; the data clusters are then read without it, so
   * several reads (convert's read-ahead, a guest's queue) run in parallel on the thread pool.
   */
  read(offset: number, buf: Uint8Array): Promise<void> {
    return this.readMany([{ offset, data: buf }]);
  }

  /**
   * As read() of each range, under one lock: ranges that follow each other on the disk are
   * mapped as one (a scatter list), and data back to back in the file is read with one preadv.
   */
  async readMany(requests: readonly IoRequest[]): Promise<void> {
    const deferred: DeferredRead[] = [];
    await this.guarded(async () => {
      for (let i = 0; i < requests.length;) {
        const first = requests[i]!;
        const parts = [first.data];
        let end = first.offset + first.data.length;
        for (i++; i < requests.length && requests[i]!.offset === end; i++) {
          parts.push(requests[i]!.data);
          end += requests[i]!.data.length;
        }
        await readAt(this.layer, first.offset, parts.length === 1 ? parts[0]! : new Scatter(parts), deferred);
      }
      this.ioInFlight++;
    });
    try {
      await Promise.all(fileRuns(deferred).map((run) => this.image.file.readv(run.bufs, run.host)));
    } finally {
      this.ioDone();
    }
  }

  private ioDone(): void {
    if (--this.ioInFlight === 0) for (const wake of this.ioDrained.splice(0)) wake();
  }

  /**
   * As QEMU's qcow2_co_pwritev_task: clusters are allocated under the lock (so they follow the
   * order requests arrive in), the data of whole clusters is written without it (several writes
   * then overlap on the thread pool: convert's pipeline, a guest's queue), and the L2 entries are
   * set under the lock once the data is there. Partial clusters (copy-on-write) are done under
   * the lock. Freed clusters are reused only after the I/O outside the lock drains, and
   * structural changes (snapshots, resize) wait until no write is between its two halves.
   */
  write(offset: number, data: Uint8Array): Promise<void> {
    return this.writeMany([{ offset, data }]);
  }

  /**
   * As write() of each range in order, with one lock for the allocations and one for the L2
   * updates; clusters allocated back to back (a convert's output) are written with one pwritev.
   */
  async writeMany(requests: readonly IoRequest[]): Promise<void> {
    const deferred: DeferredWrite[] = [];
    await this.guarded(async () => {
      await this.beforeWrite();
      try {
        for (const r of requests) await writeAt(this.layer, r.offset, r.data, deferred);
      } catch (err) {
        for (const d of deferred) abortWrite(this.image, d);
        throw err;
      }
      if (deferred.length) {
        this.ioInFlight++;
        this.writesPending++;
      }
    });
    if (!deferred.length) return;
    try {
      let failure: unknown = null;
      try {
        const results = await Promise.allSettled(fileRuns(deferred).map((run) => this.image.file.writev(run.bufs, run.host)));
        this.image.noteDataWritten();
        failure = results.find((r) => r.status === 'rejected')?.reason ?? null;
      } finally {
        this.ioDone();
      }
      await this.guarded(async () => {
        // A failed write links nothing: its clusters go back (the guest sees the error and the
        // old content, as with QEMU's qcow2_alloc_cluster_abort).
        for (const d of deferred) {
          if (failure) abortWrite(this.image, d);
          else await linkWrite(this.layer, d);
        }
      });
      if (failure) throw failure;
    } finally {
      if (--this.writesPending === 0) for (const wake of this.writesSettled.splice(0)) wake();
    }
  }

  /**
   * Runs `fn` under the lock once no write is between its data I/O and its L2 update (snapshots,
   * resize, changes to the whole image: they must see every planned allocation linked).
   */
  private async settled<T>(fn: () => Promise<T>): Promise<T> {
    for (;;) {
      const r = await this.lock.run(async () => (this.writesPending === 0 ? { value: await fn() } : null));
      if (r) return r.value;
      await new Promise<void>((resolve) => this.writesSettled.push(resolve));
    }
  }

  writeZeroes(offset: number, length: number, options?: WriteZeroesOptions): Promise<void> {
    return this.guarded(async () => {
      await this.beforeWrite();
      await writeZeroesAt(this.layer, offset, length, options);
    });
  }

  discard(offset: number, length: number): Promise<void> {
    return this.guarded(async () => {
      await this.beforeWrite();
      await discardAt(this.layer, offset, length);
    });
  }

  /**
   * Writes one cluster compressed (`offset` cluster-aligned; `data` one cluster, or the image's
   * last partial cluster). Falls back to a normal write when deflate does not make it smaller.
   */
  writeCompressed(offset: number, data: Uint8Array): Promise<void> {
    return this.guarded(async () => {
      await this.beforeWrite();
      const img = this.image;
      const cs = img.clusterSize;
      if (offset % cs !== 0 || data.length > cs || (data.length < cs && offset + data.length !== img.size)) {
        throw new BlockError('EINVAL', 'Compressed writes must cover exactly one cluster');
      }
      let whole = data;
      if (data.length < cs) {
        whole = new Uint8Array(cs);
        whole.set(data);
      }
      const packed = await compressCluster(whole, cs);
      if (!packed) {
        await writeAt(this.layer, offset, data);
        return;
      }
      const g = offset / cs;
      const l1i = Math.floor(g / img.l2Entries);
      const l2i = g % img.l2Entries;
      const tw = await l2ForWrite(img, l1i);
      const host = await img.allocBytes(packed.length);
      await img.file.write(packed, host);
      img.noteDataWritten();
      const old = decodeL2(img, tw.table, l2i, tw.offset);
      const [hi, lo] = makeCompressedEntry(host, packed.length, img.compressed);
      put64(tw.table, l2i * 8, hi, lo);
      if (old.kind !== ClusterKind.Unallocated) releaseEntry(img, old);
      if (img.l2Cache.peek(tw.offset) === tw.table) img.l2Cache.markDirty(tw.offset);
      else img.l2Cache.put(tw.offset, tw.table, true);
      if (img.needsFlush) await img.flushMetadata();
    });
  }

  flush(): Promise<void> {
    return this.guarded(() => this.image.flushMetadata());
  }

  blockStatus(offset: number, length: number): Promise<BlockStatus> {
    return this.guarded(() => blockStatusAt(this.layer, offset, length));
  }

  /** Runs `fn` with the image lock held (snapshots, resize, check: whole-image operations). */
  exclusive<T>(fn: (img: Qcow2Image) => Promise<T>): Promise<T> {
    return this.settled(() => fn(this.image));
  }

  /** The internal snapshots, in table order. */
  listSnapshots(): Snapshot[] {
    return [...this.image.snapshots];
  }

  /** Creates an internal snapshot of the current disk (and `vmState`, if given), atomically. */
  createSnapshot(spec: NewSnapshot): Promise<Snapshot> {
    return this.settled(async () => {
      await this.beforeWrite();
      const sn = await createSnapshot(this.image, spec);
      this.layer.lastCompressed = undefined;
      return sn;
    });
  }

  /** Reverts the disk to a snapshot (by ID, else by name). */
  applySnapshot(idOrName: string): Promise<Snapshot> {
    return this.settled(async () => {
      await this.beforeWrite();
      const sn = await applySnapshot(this.image, idOrName);
      this.layer.lastCompressed = undefined;
      return sn;
    });
  }

  deleteSnapshot(idOrName: string): Promise<Snapshot> {
    return this.settled(async () => {
      await this.beforeWrite();
      const sn = await deleteSnapshot(this.image, idOrName);
      this.layer.lastCompressed = undefined;
      return sn;
    });
  }

  /** The VM state blob stored with a snapshot. */
  readSnapshotVmState(idOrName: string): Promise<Uint8Array> {
    return this.lock.run(() => readSnapshotVmState(this.image, idOrName));
  }

  /**
   * Records a new backing file (or none) in the header (qemu's bdrv_change_backing_file). The
   * caller has made the visible content independent of the change (rebase) or accepts it (-u).
   */
  changeBackingFile(backingFile: string | null, backingFormat: string | null): Promise<void> {
    return this.settled(async () => {
      await this.beforeWrite();
      const img = this.image;
      if (backingFile !== null && new TextEncoder().encode(backingFile).length > 1023) {
        throw new BlockError('EINVAL', 'Backing file name too long');
      }
      if (backingFormat && backingFile === null) throw new BlockError('EINVAL', 'Backing format cannot be used without backing file');
      await img.flushMetadata();
      const before = img.header;
      img.header = { ...before, backingFile, backingFormat: backingFile === null ? null : backingFormat };
      try {
        await img.writeHeader();
        await img.file.datasync();
      } catch (err) {
        img.header = before;
        throw err;
      }
    });
  }

  /**
   * Empties the image (qemu's bdrv_make_empty, used by commit): every guest cluster becomes
   * unallocated again, so reads fall through to the backing file.
   */
  makeEmpty(): Promise<void> {
    return this.settled(async () => {
      await this.beforeWrite();
      const img = this.image;
      for (let i = 0; i < img.l1Size; i++) {
        const off = img.l1Offset(i);
        if (!off) continue;
        const table = await img.l2Cache.get(off);
        for (let j = 0; j < img.l2Entries; j++) releaseEntry(img, decodeL2(img, table, j, off));
        img.deferFree(off / img.clusterSize);
        img.setL1(i, 0, false);
      }
      await img.flushMetadata();
      this.layer.lastCompressed = undefined;
    });
  }

  /** Changes the virtual size (shrinking drops what lies past the new end). */
  resize(size: number): Promise<void> {
    return this.settled(async () => {
      await this.beforeWrite();
      await resizeQcow2(this.image, size);
      this.layer.lastCompressed = undefined;
    });
  }

  async getInfo(): Promise<ImageInfo> {
    const img = this.image;
    const h = img.header;
    const snapshots: SnapshotInfo[] = img.snapshots.map((sn) => ({
      id: sn.id,
      name: sn.name,
      vmStateSize: sn.vmStateSize,
      dateSec: sn.dateSec,
      dateNsec: sn.dateNsec,
      vmClockSec: Math.floor(sn.vmClockNsec / 1e9),
      vmClockNsec: sn.vmClockNsec % 1e9,
      icount: sn.icount,
    }));
    const info: ImageInfo = {
      filename: this.filename,
      format: 'qcow2',
      virtualSize: img.size,
      actualSize: await img.file.allocatedSize(),
      dirtyFlag: img.dirty,
      clusterSize: img.clusterSize,
      snapshots: snapshots.length ? snapshots : undefined,
      formatSpecific: h.version === 3
        ? {
          type: 'qcow2',
          compat: '1.1',
          compressionType: 'zlib',
          lazyRefcounts: img.lazyRefcounts,
          refcountBits: 2 ** h.refcountOrder,
          corrupt: isCorrupt(h),
          extendedL2: false,
        }
        : { type: 'qcow2', compat: '0.10', compressionType: 'zlib', refcountBits: 16 },
    };
    const bitmaps = await loadBitmapDirectory(img.file, h).catch(() => null);
    if (bitmaps && info.formatSpecific) {
      info.formatSpecific.bitmaps = bitmaps.bitmaps.map((b) => ({
        name: b.name,
        granularity: 2 ** b.granularityBits,
        flags: [...(b.inUse ? ['in-use'] : []), ...(b.auto ? ['auto'] : [])],
      }));
    }
    if (h.backingFile !== null) {
      info.backingFilename = h.backingFile;
      info.fullBackingFilename = this.fullBackingFilename ?? h.backingFile;
      if (h.backingFormat) info.backingFilenameFormat = h.backingFormat;
    }
    return info;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.settled(async () => {
      try {
        if (!this.readOnly) {
          await this.image.flushMetadata();
          if (this.wroteSinceOpen && this.image.lazyRefcounts) await this.image.setDirty(false);
        }
      } finally {
        await this.image.drainReads(); // a read still copying data must finish before the file goes
        await this.image.file.close();
        await this.layer.backing?.close();
      }
    });
  }
}
