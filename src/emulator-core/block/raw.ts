// The raw format: the image file is the disk, byte for byte (QEMU's raw-format over file-posix).
import type { BlockDriver, BlockStatus, ImageInfo, IoRequest, WriteZeroesOptions } from './driver';
import { BlockError } from './errors';
import { fileRuns } from './file-runs';
import { HostFile, type IoFaults } from './host-file';

export interface RawOpenOptions {
  readOnly: boolean;
  faults?: IoFaults;
  unsafe?: boolean;
}

/** Length of a zero run we look for when telling holes from data (qemu-img's default -S 4k). */
const ZERO_PROBE = 4096;

export class RawDriver implements BlockDriver {
  readonly format = 'raw' as const;
  readonly backing = null;
  private dataDirty = false;

  private constructor(
    readonly filename: string,
    private readonly file: HostFile,
    readonly readOnly: boolean,
    private size: number,
    /** Host bytes allocated at open: 0 means the file is one hole, >= size means no holes. */
    private allocatedAtOpen: number,
  ) {}

  static async open(filename: string, options: RawOpenOptions): Promise<RawDriver> {
    const file = await HostFile.open(filename, { readOnly: options.readOnly, faults: options.faults, unsafe: options.unsafe });
    try {
      return new RawDriver(filename, file, options.readOnly, await file.size(), await file.allocatedSize());
    } catch (err) {
      await file.close();
      throw err;
    }
  }

  /** The underlying file (for `viv img` operations on the file itself). */
  get hostFile(): HostFile {
    return this.file;
  }

  length(): number {
    return this.size;
  }

  private check(offset: number, length: number): void {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new BlockError('EINVAL', `Request out of range: offset ${offset}, length ${length}, image size ${this.size}`);
    }
  }

  async read(offset: number, buf: Uint8Array): Promise<void> {
    this.check(offset, buf.length);
    await this.file.read(buf, offset);
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    if (this.readOnly) throw new BlockError('EROFS', 'Image opened read-only');
    this.check(offset, data.length);
    await this.file.write(data, offset);
    this.dataDirty = true;
  }

  async readMany(requests: readonly IoRequest[]): Promise<void> {
    for (const r of requests) this.check(r.offset, r.data.length);
    await Promise.all(fileRuns(requests.map((r) => ({ host: r.offset, data: r.data }))).map((run) => this.file.readv(run.bufs, run.host)));
  }

  /**
   * Runs contiguous in the file go out as one pwritev each, one after the other: writes to one
   * file take its inode lock in turn, and a second one in flight only spins on that lock.
   */
  async writeMany(requests: readonly IoRequest[]): Promise<void> {
    if (this.readOnly) throw new BlockError('EROFS', 'Image opened read-only');
    for (const r of requests) this.check(r.offset, r.data.length);
    try {
      for (const run of fileRuns(requests.map((r) => ({ host: r.offset, data: r.data })))) await this.file.writev(run.bufs, run.host);
    } finally {
      this.dataDirty = true;
    }
  }

  async writeZeroes(offset: number, length: number, _options?: WriteZeroesOptions): Promise<void> {
    if (this.readOnly) throw new BlockError('EROFS', 'Image opened read-only');
    this.check(offset, length);
    const chunk = new Uint8Array(Math.min(length, 1 << 20));
    for (let p = offset; p < offset + length; p += chunk.length) {
      await this.file.write(chunk.subarray(0, Math.min(chunk.length, offset + length - p)), p);
    }
    this.dataDirty = true;
  }

  async discard(offset: number, length: number): Promise<void> {
    // Node offers no hole punching; discard is advisory, so a raw image keeps its data.
    this.check(offset, length);
  }

  async flush(): Promise<void> {
    if (this.readOnly || !this.dataDirty) return;
    await this.file.datasync();
    this.dataDirty = false;
  }

  /**
   * Raw files have no allocation map we can read from Node (no SEEK_DATA/SEEK_HOLE), so like
   * QEMU's file driver we answer "data" -- except that a file with no host blocks at all is one
   * hole, and otherwise a run of zero bytes is reported as zero (what SEEK_HOLE would mostly say).
   */
  async blockStatus(offset: number, length: number): Promise<BlockStatus> {
    this.check(offset, length);
    if (this.allocatedAtOpen === 0 && !this.dataDirty) {
      return { length, allocated: true, zero: true, data: false, hostOffset: offset };
    }
    const step = Math.min(length, 1 << 20);
    const buf = new Uint8Array(step);
    await this.file.read(buf, offset);
    const zeroHead = zeroPrefix(buf);
    if (zeroHead >= Math.min(ZERO_PROBE, step)) {
      const n = zeroHead === step ? step : Math.floor(zeroHead / ZERO_PROBE) * ZERO_PROBE;
      return { length: Math.max(n, Math.min(ZERO_PROBE, step)), allocated: true, zero: true, data: false, hostOffset: offset };
    }
    // Data up to the next 4 KiB-aligned zero block.
    let n = ZERO_PROBE - (offset % ZERO_PROBE);
    while (n < step) {
      const blk = buf.subarray(n, Math.min(step, n + ZERO_PROBE));
      if (zeroPrefix(blk) === blk.length && blk.length === ZERO_PROBE) break;
      n += ZERO_PROBE;
    }
    return { length: Math.min(n, step), allocated: true, zero: false, data: true, hostOffset: offset };
  }

  async getInfo(): Promise<ImageInfo> {
    return {
      filename: this.filename,
      format: 'raw',
      virtualSize: this.size,
      actualSize: await this.file.allocatedSize(),
      dirtyFlag: false,
    };
  }

  /** Changes the file size (qemu-img resize on raw). */
  async truncate(size: number): Promise<void> {
    await this.file.truncate(size);
    this.size = size;
  }

  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.file.close();
    }
  }
}

/** A block of zeros to compare against (compared with native memcmp, allocated once). */
const ZEROS = Buffer.alloc(65536);

/** Number of leading zero bytes of `buf`. */
export function zeroPrefix(buf: Uint8Array): number {
  let at = 0;
  while (at < buf.length) {
    const n = Math.min(ZEROS.length, buf.length - at);
    const slice = Buffer.from(buf.buffer, buf.byteOffset + at, n);
    if (slice.compare(ZEROS, 0, n) !== 0) {
      let i = at;
      while (i < at + n && buf[i] === 0) i++;
      return i;
    }
    at += n;
  }
  return buf.length;
}

/** True when every byte of `buf` is zero. */
export function isZero(buf: Uint8Array): boolean {
  return zeroPrefix(buf) === buf.length;
}
