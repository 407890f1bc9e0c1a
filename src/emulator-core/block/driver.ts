// The block driver contract: what virtio-blk, `viv img` and the app's image store use to read and
// write a disk image, whatever its format. All I/O is asynchronous; `flush` means durable (every
// write completed before it is on stable storage, and the image's metadata with it).
import type { SnapshotInfo, Qcow2FormatInfo } from './info';

export type ImageFormat = 'raw' | 'qcow2';

/**
 * The status of the extent that starts at the queried offset (QEMU's bdrv_block_status):
 * `length` bytes from there have the same status in this layer.
 */
export interface BlockStatus {
  length: number;
  /** This layer defines the content; false means it comes from the backing file (or is zero). */
  allocated: boolean;
  /** The extent reads as zeros. */
  zero: boolean;
  /** The content is stored in the image file at `hostOffset` (or compressed there). */
  data: boolean;
  /** Offset in the image file when the data is stored there uncompressed. */
  hostOffset?: number;
  compressed?: boolean;
}

export interface WriteZeroesOptions {
  /** The image may deallocate the range instead of storing zeros (qemu's BDRV_REQ_MAY_UNMAP). */
  mayUnmap?: boolean;
}

export interface ImageInfo {
  filename: string;
  format: ImageFormat;
  virtualSize: number;
  /** Bytes the file occupies on the host. */
  actualSize: number;
  dirtyFlag: boolean;
  clusterSize?: number;
  encrypted?: boolean;
  backingFilename?: string;
  fullBackingFilename?: string;
  backingFilenameFormat?: string;
  snapshots?: SnapshotInfo[];
  formatSpecific?: Qcow2FormatInfo;
}

/** One range of a multi-range request: the guest bytes at `offset` and the buffer that holds them. */
export interface IoRequest {
  offset: number;
  data: Uint8Array;
}

export interface BlockDriver {
  readonly format: ImageFormat;
  /** The file name as given when opened (qemu-img prints it unchanged). */
  readonly filename: string;
  readonly readOnly: boolean;
  /** The next image down the backing chain, or null. */
  readonly backing: BlockDriver | null;
  /** Virtual disk size in bytes. */
  length(): number;
  read(offset: number, buf: Uint8Array): Promise<void>;
  write(offset: number, data: Uint8Array): Promise<void>;
  /**
   * Reads several guest ranges as one request (the buffers must not overlap): what read() of
   * each does, but data that lies back to back in the image file arrives in one vectored system
   * call (convert's read-ahead, a virtio-blk scatter list).
   */
  readMany(requests: readonly IoRequest[]): Promise<void>;
  /**
   * Writes several guest ranges (not overlapping) as one request: what write() of each, issued in
   * this order, does (a QCOW2 image allocates clusters in that order), but data that lands back to
   * back in the image file leaves in one vectored system call (convert's output).
   */
  writeMany(requests: readonly IoRequest[]): Promise<void>;
  writeZeroes(offset: number, length: number, options?: WriteZeroesOptions): Promise<void>;
  /** Tells the image the range is no longer needed (reads may then return anything, as for a
   * discarded range of a real disk; our drivers read it as zeros or as the backing file's data). */
  discard(offset: number, length: number): Promise<void>;
  flush(): Promise<void>;
  blockStatus(offset: number, length: number): Promise<BlockStatus>;
  getInfo(): Promise<ImageInfo>;
  /** Flushes and releases the file (and the backing chain this driver opened). */
  close(): Promise<void>;
}
