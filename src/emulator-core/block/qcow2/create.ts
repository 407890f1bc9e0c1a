// Creating a QCOW2 image (QEMU's qcow2_co_create): the header cluster, a one-cluster refcount
// table and one refcount block, then the L1 table allocated through the normal allocator, the
// backing file recorded, and optional preallocation. Validation messages are QEMU's.
import { BlockError } from '../errors';
import { HostFile, type IoFaults } from '../host-file';
import { COMPAT_LAZY_REFCOUNTS, MAX_BACKING_FILE_NAME, MAX_CLUSTER_BITS, MAX_L1_BYTES, MIN_CLUSTER_BITS, V3_HEADER_LENGTH } from './constants';
import { makeEntry, put64, setRefcount, L2E_COPIED_HI } from './entries';
import { serializeHeader, type Qcow2Header } from './header';
import { Qcow2Image } from './image';

export type Preallocation = 'off' | 'metadata' | 'falloc' | 'full';

export interface Qcow2CreateOptions {
  size: number;
  clusterSize?: number;
  /** 2 for compat=0.10, 3 for compat=1.1 (default). */
  version?: 2 | 3;
  backingFile?: string;
  backingFormat?: string;
  preallocation?: Preallocation;
  lazyRefcounts?: boolean;
  refcountBits?: number;
  faults?: IoFaults;
  /**
   * No fdatasync while creating (qemu-img convert's default -t unsafe for its target: nothing of
   * the target is made durable, so neither is its empty start). The write order stays the same.
   */
  unsafe?: boolean;
}

export function validateCreateOptions(o: Qcow2CreateOptions): void {
  const cs = o.clusterSize ?? 65536;
  const version = o.version ?? 3;
  const bits = Math.log2(cs);
  if (!Number.isInteger(bits) || bits < MIN_CLUSTER_BITS || bits > MAX_CLUSTER_BITS) {
    throw new BlockError('EINVAL', 'Cluster size must be a power of two between 512 and 2048k');
  }
  const rb = o.refcountBits ?? 16;
  if (!Number.isInteger(Math.log2(rb)) || rb > 64 || rb < 1) {
    throw new BlockError('EINVAL', 'Refcount width must be a power of two and may not exceed 64 bits');
  }
  if (version === 2 && rb !== 16) {
    throw new BlockError('EINVAL', 'Different refcount widths than 16 bits require compatibility level 1.1 or above (use version=v3 or greater)');
  }
  if (version === 2 && o.lazyRefcounts) {
    throw new BlockError('EINVAL', 'Lazy refcounts only supported with compatibility level 1.1 and above (use version=v3 or greater)');
  }
  if (o.backingFile && o.preallocation && o.preallocation !== 'off') {
    throw new BlockError('EINVAL', 'Backing file and preallocation can only be used at the same time if extended_l2 is on');
  }
  if (o.backingFile && new TextEncoder().encode(o.backingFile).length > MAX_BACKING_FILE_NAME) {
    throw new BlockError('EINVAL', 'Backing file name too long');
  }
  if (o.size < 0 || !Number.isSafeInteger(o.size)) throw new BlockError('EINVAL', 'Image size too large');
  const l2Entries = cs / 8;
  const l1 = Math.ceil(Math.ceil(o.size / cs) / l2Entries);
  if (l1 * 8 > MAX_L1_BYTES) throw new BlockError('EFBIG', 'Could not resize image: Image size is too large for this cluster size');
}

/** Creates (or truncates) `filename` as an empty QCOW2 image. */
export async function createQcow2(filename: string, o: Qcow2CreateOptions): Promise<void> {
  validateCreateOptions(o);
  const cs = o.clusterSize ?? 65536;
  const clusterBits = Math.log2(cs);
  const version = o.version ?? 3;
  const refcountOrder = Math.log2(o.refcountBits ?? 16);
  const file = await HostFile.open(filename, { readOnly: false, create: true, truncate: true, faults: o.faults, unsafe: o.unsafe });
  try {
    // Step 1: a valid image with no L1 table: header, refcount table (cluster 1), block (cluster 2).
    const header: Qcow2Header = {
      version,
      clusterBits,
      size: 0,
      cryptMethod: 0,
      l1Size: 0,
      l1TableOffset: 0,
      refcountTableOffset: cs,
      refcountTableClusters: 1,
      nbSnapshots: 0,
      snapshotsOffset: 0,
      incompatibleFeatures: 0n,
      compatibleFeatures: o.lazyRefcounts ? COMPAT_LAZY_REFCOUNTS : 0n,
      autoclearFeatures: 0n,
      refcountOrder,
      headerLength: version === 3 ? V3_HEADER_LENGTH : 72,
      compressionType: 0,
      extraFields: new Uint8Array(0),
      backingFile: null,
      backingFormat: null,
      featureTable: [],
      otherExtensions: [],
    };
    const reftable = new Uint8Array(cs);
    const [hi, lo] = makeEntry(2 * cs, 0);
    put64(reftable, 0, hi, lo);
    const block = new Uint8Array(cs);
    for (let c = 0; c < 3; c++) setRefcount(block, c, refcountOrder, 1);
    // The header goes last: a process killed before it leaves a file that is not a qcow2 image
    // at all, never one whose header points at missing tables.
    const first = new Uint8Array(cs);
    first.set(serializeHeader(header));
    await file.write(reftable, cs);
    await file.write(block, 2 * cs);
    await file.datasync();
    await file.write(first, 0);
    await file.datasync();

    // Step 2: the L1 table for the size, the backing file, preallocation.
    const img = await Qcow2Image.open(file, { readOnly: false });
    const l2Entries = cs / 8;
    const l1Size = Math.ceil(Math.ceil(o.size / cs) / l2Entries);
    let l1Offset = 0;
    if (l1Size > 0) {
      const { offset } = await img.allocClusters(Math.ceil((l1Size * 8) / cs));
      l1Offset = offset;
      // The L1 ends where its entries end: QEMU's file is exactly that long until data arrives.
      // Written before the flush, whose one fdatasync makes it durable with its refcount (the
      // header that points at it comes after), as QEMU's create syncs four times, not five.
      await file.write(new Uint8Array(l1Size * 8), l1Offset);
      await img.flushMetadata();
    }
    img.header = {
      ...img.header,
      size: o.size,
      l1Size,
      l1TableOffset: l1Offset,
      backingFile: o.backingFile ?? null,
      backingFormat: o.backingFile && o.backingFormat ? o.backingFormat : null,
    };
    await img.writeHeader();
    await file.datasync();
    if (o.preallocation && o.preallocation !== 'off') {
      await img.reload(img.header);
      await preallocate(img, o.preallocation);
    }
  } finally {
    await file.close();
  }
}

/**
 * Preallocation: every guest cluster gets an L2 entry and a host cluster (metadata); falloc and
 * full also reserve the space (we write zeros for full; Node has no fallocate, so falloc extends
 * the file like metadata does).
 */
async function preallocate(img: Qcow2Image, mode: Preallocation): Promise<void> {
  const cs = img.clusterSize;
  const clusters = Math.ceil(img.size / cs);
  let end = 0;
  for (let l1i = 0; l1i * img.l2Entries < clusters; l1i++) {
    const { offset: l2Off } = await img.allocClusters(1);
    end = Math.max(end, l2Off + cs);
    const table = new Uint8Array(cs);
    const n = Math.min(img.l2Entries, clusters - l1i * img.l2Entries);
    let done = 0;
    while (done < n) {
      const { offset, count } = await img.allocClusters(n - done, true);
      for (let j = 0; j < count; j++) {
        const [hi, lo] = makeEntry(offset + j * cs, L2E_COPIED_HI);
        put64(table, (done + j) * 8, hi, lo);
      }
      if (mode === 'full') {
        const zeros = new Uint8Array(Math.min(count * cs, 8 << 20));
        for (let p = 0; p < count * cs; p += zeros.length) {
          await img.file.write(zeros.subarray(0, Math.min(zeros.length, count * cs - p)), offset + p);
        }
      }
      end = Math.max(end, offset + count * cs);
      done += count;
    }
    img.l2Cache.put(l2Off, table, true);
    img.setL1(l1i, l2Off, true);
  }
  await img.flushMetadata();
  // The file covers every allocated cluster, as after QEMU's preallocation.
  if (end > (await img.file.size())) await img.file.truncate(end);
}
