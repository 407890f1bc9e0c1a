// The host side of an image: one file, read and written with positioned asynchronous I/O
// (fs/promises FileHandle, served by libuv's thread pool) so the event loop never blocks.
// Reads past the end of the file return zeros, as QEMU's file driver does for a growing image.
import { promises as fs, constants as fsConstants } from 'node:fs';
import { BlockError, fromHostError } from './errors';

/**
 * Fault injection for tests: called before every write/sync reaches the host; throwing from it
 * (e.g. a BlockError('ENOSPC')) makes that operation fail exactly as the host would.
 */
export interface IoFaults {
  beforeWrite?(offset: number, length: number): void;
  beforeSync?(): void;
  beforeTruncate?(length: number): void;
}

export interface HostFileOptions {
  readOnly: boolean;
  /** Create the file (failing if it exists unless `truncate`). */
  create?: boolean;
  truncate?: boolean;
  faults?: IoFaults;
  /**
   * QEMU's cache=unsafe (qemu-img convert's default for its target): fdatasync is skipped. Writes
   * still reach the file in the crash-safe order, so a killed process leaves a consistent image;
   * only a host crash or power cut can lose what was not yet written back.
   */
  unsafe?: boolean;
}

/** Linux's IOV_MAX: the most buffers one preadv/pwritev takes. */
const IOV_MAX = 1024;

/** Where a vectored transfer stands: the buffers left, the first one possibly begun. */
class IoCursor {
  private index = 0;
  private skip = 0;
  remaining: number;

  constructor(private readonly bufs: readonly Uint8Array[]) {
    this.remaining = bufs.reduce((n, b) => n + b.length, 0);
  }

  get done(): boolean {
    return this.remaining === 0;
  }

  /** The next buffers to transfer (at most `max`), the first one cut where the last transfer stopped. */
  next(max: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let i = this.index; i < this.bufs.length && out.length < max; i++) {
      const b = this.bufs[i]!;
      if (i === this.index && this.skip) out.push(b.subarray(this.skip));
      else if (b.length) out.push(b);
    }
    return out;
  }

  advance(n: number): void {
    this.remaining -= n;
    n += this.skip;
    while (this.index < this.bufs.length && n >= this.bufs[this.index]!.length) n -= this.bufs[this.index++]!.length;
    this.skip = n;
  }

  fillRest(value: number): void {
    for (const b of this.next(Infinity)) b.fill(value);
    this.advance(this.remaining);
  }
}

export class HostFile {
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly handle: fs.FileHandle,
    readonly readOnly: boolean,
    private readonly faults: IoFaults | undefined,
    private readonly unsafe = false,
  ) {}

  static async open(path: string, options: HostFileOptions): Promise<HostFile> {
    let flags: number;
    if (options.readOnly) flags = fsConstants.O_RDONLY;
    else {
      flags = fsConstants.O_RDWR;
      if (options.create) flags |= fsConstants.O_CREAT | (options.truncate ? fsConstants.O_TRUNC : fsConstants.O_EXCL);
    }
    const st = await fs.stat(path).catch(() => undefined);
    if (st?.isDirectory()) throw new BlockError('EINVAL', `'file' driver requires '${path}' to be a regular file`);
    try {
      const handle = await fs.open(path, flags, 0o644);
      return new HostFile(path, handle, options.readOnly, options.faults, options.unsafe);
    } catch (err) {
      // As QEMU's file driver words it: "Could not open 'x': No such file or directory".
      const e = fromHostError(err);
      throw new BlockError(e.code, `Could not open '${path}': ${e.message}`);
    }
  }

  /** Reads exactly buf.length bytes at `offset`; bytes past the end of the file read as zeros. */
  async read(buf: Uint8Array, offset: number): Promise<void> {
    let done = 0;
    try {
      while (done < buf.length) {
        const { bytesRead } = await this.handle.read(buf, done, buf.length - done, offset + done);
        if (bytesRead === 0) {
          buf.fill(0, done);
          return;
        }
        done += bytesRead;
      }
    } catch (err) {
      throw fromHostError(err);
    }
  }

  /**
   * Reads into several buffers from `offset` on, as if they were one (preadv): convert's
   * read-ahead and virtio-blk's scatter lists land in one system call. Bytes past the end of
   * the file read as zeros.
   */
  async readv(bufs: readonly Uint8Array[], offset: number): Promise<void> {
    if (bufs.length === 1) return this.read(bufs[0]!, offset);
    const rest = new IoCursor(bufs);
    try {
      while (!rest.done) {
        const { bytesRead } = await this.handle.readv(rest.next(IOV_MAX), offset);
        if (bytesRead === 0) {
          rest.fillRest(0);
          return;
        }
        rest.advance(bytesRead);
        offset += bytesRead;
      }
    } catch (err) {
      throw fromHostError(err);
    }
  }

  /** Writes several buffers from `offset` on, as if they were one (pwritev). */
  async writev(bufs: readonly Uint8Array[], offset: number): Promise<void> {
    if (bufs.length === 1) return this.write(bufs[0]!, offset);
    if (this.readOnly) throw new BlockError('EROFS', 'Image opened read-only');
    const rest = new IoCursor(bufs);
    this.faults?.beforeWrite?.(offset, rest.remaining);
    try {
      while (!rest.done) {
        const { bytesWritten } = await this.handle.writev(rest.next(IOV_MAX), offset);
        rest.advance(bytesWritten);
        offset += bytesWritten;
      }
    } catch (err) {
      throw fromHostError(err);
    }
  }

  /** Writes all of `data` at `offset`. */
  async write(data: Uint8Array, offset: number): Promise<void> {
    if (this.readOnly) throw new BlockError('EROFS', 'Image opened read-only');
    this.faults?.beforeWrite?.(offset, data.length);
    let done = 0;
    try {
      while (done < data.length) {
        const { bytesWritten } = await this.handle.write(data, done, data.length - done, offset + done);
        done += bytesWritten;
      }
    } catch (err) {
      throw fromHostError(err);
    }
  }

  /** Makes every completed write durable (fdatasync: data and the metadata needed to read it). */
  async datasync(): Promise<void> {
    if (this.readOnly || this.unsafe) return;
    this.faults?.beforeSync?.();
    try {
      await this.handle.datasync();
    } catch (err) {
      throw fromHostError(err);
    }
  }

  async size(): Promise<number> {
    try {
      return (await this.handle.stat()).size;
    } catch (err) {
      throw fromHostError(err);
    }
  }

  /** Bytes the file occupies on the host (st_blocks * 512): qemu-img's "disk size". */
  async allocatedSize(): Promise<number> {
    try {
      return (await this.handle.stat()).blocks * 512;
    } catch (err) {
      throw fromHostError(err);
    }
  }

  async truncate(length: number): Promise<void> {
    if (this.readOnly) throw new BlockError('EROFS', 'Image opened read-only');
    this.faults?.beforeTruncate?.(length);
    try {
      await this.handle.truncate(length);
    } catch (err) {
      throw fromHostError(err);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }
}
