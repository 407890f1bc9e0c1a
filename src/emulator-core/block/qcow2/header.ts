// The QCOW2 header and its extensions (qcow2.txt "Header", "Header extensions"): parsing with the
// checks QEMU makes on open (same limits, same messages), and serialising back, keeping unknown
// extensions and unknown trailing header fields as they were.
import { BlockError } from '../errors';
import {
  EXT_BACKING_FORMAT, EXT_BITMAPS, EXT_CRYPTO, EXT_DATA_FILE, EXT_END, EXT_FEATURE_TABLE,
  FEATURE_NAMES, INCOMPAT_CORRUPT, INCOMPAT_DIRTY, MAX_BACKING_FILE_NAME, MAX_CLUSTER_BITS,
  MAX_L1_BYTES, MAX_REFTABLE_BYTES, MIN_CLUSTER_BITS, QCOW2_MAGIC, V2_HEADER_LENGTH,
  V3_HEADER_LENGTH, V3_MIN_HEADER_LENGTH, INCOMPAT_DATA_FILE, INCOMPAT_COMPRESSION, INCOMPAT_EXTL2,
} from './constants';

export interface HeaderExtension {
  type: number;
  data: Uint8Array;
}

export interface FeatureName {
  type: number; // 0 incompatible, 1 compatible, 2 autoclear
  bit: number;
  name: string;
}

export interface Qcow2Header {
  version: 2 | 3;
  clusterBits: number;
  size: number;
  cryptMethod: number;
  l1Size: number;
  l1TableOffset: number;
  refcountTableOffset: number;
  refcountTableClusters: number;
  nbSnapshots: number;
  snapshotsOffset: number;
  incompatibleFeatures: bigint;
  compatibleFeatures: bigint;
  autoclearFeatures: bigint;
  refcountOrder: number;
  /** v2: 72; v3: the stored header_length (>= 104, multiple of 8). */
  headerLength: number;
  compressionType: number;
  /** Header bytes past the fields we know (105 .. headerLength), kept verbatim. */
  extraFields: Uint8Array;
  backingFile: string | null;
  backingFormat: string | null;
  featureTable: FeatureName[];
  /** Every extension except backing format, feature table and the end marker, in file order. */
  otherExtensions: HeaderExtension[];
}

const td = new TextDecoder('utf-8', { fatal: false });
const te = new TextEncoder();

function u64(v: DataView, at: number): bigint {
  return v.getBigUint64(at);
}

/** A 64-bit field that must fit a JS number exactly (offsets, sizes). */
function num64(v: DataView, at: number, what: string): number {
  const x = v.getBigUint64(at);
  if (x > BigInt(Number.MAX_SAFE_INTEGER)) throw new BlockError('EFBIG', `${what} too large`);
  return Number(x);
}

/** Minimum bytes to read before `parseHeader` can tell the cluster size. */
export const HEADER_PROBE_BYTES = V3_MIN_HEADER_LENGTH;

/** The cluster size announced by a header prefix, after the checks that make it trustworthy. */
export function peekClusterBits(buf: Uint8Array): number {
  if (buf.length < V2_HEADER_LENGTH) throw new BlockError('EINVAL', 'Image is not in qcow2 format');
  const v = new DataView(buf.buffer, buf.byteOffset, buf.length);
  if (v.getUint32(0) !== QCOW2_MAGIC) throw new BlockError('EINVAL', 'Image is not in qcow2 format');
  const version = v.getUint32(4);
  if (version < 2 || version > 3) throw new BlockError('ENOTSUP', `Unsupported qcow2 version ${version}`);
  const bits = v.getUint32(20);
  if (bits < MIN_CLUSTER_BITS || bits > MAX_CLUSTER_BITS) {
    throw new BlockError('EINVAL', `Unsupported cluster size: 2^${bits}`);
  }
  return bits;
}

/** Parses the header cluster (`buf` holds at least the first cluster of the file, or the whole file if shorter). */
export function parseHeader(buf: Uint8Array): Qcow2Header {
  const clusterBits = peekClusterBits(buf);
  const clusterSize = 2 ** clusterBits;
  if (buf.length < clusterSize) {
    const padded = new Uint8Array(clusterSize);
    padded.set(buf);
    buf = padded;
  }
  const v = new DataView(buf.buffer, buf.byteOffset, clusterSize);
  const version = v.getUint32(4) as 2 | 3;

  let headerLength = V2_HEADER_LENGTH;
  let incompatibleFeatures = 0n, compatibleFeatures = 0n, autoclearFeatures = 0n;
  let refcountOrder = 4;
  if (version === 3) {
    headerLength = v.getUint32(100);
    if (headerLength < V3_MIN_HEADER_LENGTH) throw new BlockError('EINVAL', 'qcow2 header too short');
    if (headerLength > clusterSize) throw new BlockError('EINVAL', 'qcow2 header exceeds cluster size');
    incompatibleFeatures = u64(v, 72);
    compatibleFeatures = u64(v, 80);
    autoclearFeatures = u64(v, 88);
    refcountOrder = v.getUint32(96);
  }
  const backingFileOffset = v.getBigUint64(8);
  const backingFileSize = v.getUint32(16);
  if (backingFileOffset > BigInt(clusterSize)) throw new BlockError('EINVAL', 'Invalid backing file offset');

  const extEnd = backingFileOffset !== 0n ? Number(backingFileOffset) : clusterSize;
  const { backingFormat, featureTable, others } = parseExtensions(v, headerLength, extEnd);

  // Unknown incompatible features make the image unreadable for us (qcow2.txt: "must fail to open").
  const supportedIncompat = INCOMPAT_DIRTY | INCOMPAT_CORRUPT;
  const unknown = incompatibleFeatures & ~supportedIncompat;
  if (unknown !== 0n) {
    throw new BlockError('ENOTSUP', `Unsupported qcow2 feature(s): ${describeFeatures(unknown, 0, featureTable)}`);
  }
  if (refcountOrder > 6) {
    throw new BlockError('EINVAL', 'Reference count entry width too large; may not exceed 64 bits');
  }
  const cryptMethod = v.getUint32(32);
  if (cryptMethod > 2) throw new BlockError('EINVAL', `Unsupported encryption method ${cryptMethod}`);

  let backingFile: string | null = null;
  if (backingFileOffset !== 0n) {
    if (backingFileSize > Math.min(MAX_BACKING_FILE_NAME, clusterSize - Number(backingFileOffset))) {
      throw new BlockError('EINVAL', 'Backing file name too long');
    }
    const at = Number(backingFileOffset);
    backingFile = td.decode(buf.subarray(at, at + backingFileSize));
  }

  const compressionType = version === 3 && headerLength > 104 ? v.getUint8(104) : 0;
  const extraStart = 105;
  const extraFields = version === 3 && headerLength > extraStart
    ? buf.slice(extraStart, headerLength)
    : new Uint8Array(0);

  const header: Qcow2Header = {
    version,
    clusterBits,
    size: num64(v, 24, 'Image size'),
    cryptMethod,
    l1Size: v.getUint32(36),
    l1TableOffset: num64(v, 40, 'Active L1 table offset'),
    refcountTableOffset: num64(v, 48, 'Reference count table offset'),
    refcountTableClusters: v.getUint32(56),
    nbSnapshots: v.getUint32(60),
    snapshotsOffset: num64(v, 64, 'Snapshot table offset'),
    incompatibleFeatures,
    compatibleFeatures,
    autoclearFeatures,
    refcountOrder,
    headerLength,
    compressionType,
    extraFields,
    backingFile,
    backingFormat,
    featureTable,
    otherExtensions: others,
  };
  return header;
}

function parseExtensions(v: DataView, start: number, end: number) {
  let backingFormat: string | null = null;
  const featureTable: FeatureName[] = [];
  const others: HeaderExtension[] = [];
  let at = start;
  while (at < end) {
    if (end - at < 8) throw new BlockError('EINVAL', 'Invalid header extension area: truncated extension header');
    const type = v.getUint32(at);
    const len = v.getUint32(at + 4);
    at += 8;
    if (len > end - at) throw new BlockError('EINVAL', 'Header extension too large');
    const data = new Uint8Array(v.buffer, v.byteOffset + at, len);
    if (type === EXT_END) break;
    switch (type) {
      case EXT_BACKING_FORMAT:
        if (len >= 16) {
          throw new BlockError('EINVAL', `ERROR: ext_backing_format: len=${len} too large (>=16)`);
        }
        backingFormat = td.decode(data);
        break;
      case EXT_FEATURE_TABLE:
        for (let i = 0; i + 48 <= len; i += 48) {
          const name = data.subarray(i + 2, i + 48);
          const nul = name.indexOf(0);
          featureTable.push({ type: data[i]!, bit: data[i + 1]!, name: td.decode(nul < 0 ? name : name.subarray(0, nul)) });
        }
        break;
      default:
        others.push({ type, data: data.slice() });
    }
    at += (len + 7) & ~7;
  }
  return { backingFormat, featureTable, others };
}

/** "Unsupported IMAGE feature(s)" text: the names from the image's own table where it has them. */
function describeFeatures(mask: bigint, type: number, table: FeatureName[]): string {
  const names: string[] = [];
  for (let bit = 0; bit < 64; bit++) {
    if (!(mask & (1n << BigInt(bit)))) continue;
    const known = table.find((f) => f.type === type && f.bit === bit);
    names.push(known ? known.name : `Unknown incompatible feature: ${(1n << BigInt(bit)).toString(16)}`);
  }
  return names.join(', ');
}

/** Checks a table's position and size as QEMU's qcow2_validate_table does. */
export function validateTable(
  offset: number, entries: number, entryLen: number, maxBytes: number, clusterSize: number, name: string,
): void {
  if (entries > maxBytes / entryLen) throw new BlockError('EFBIG', `${name} too large`);
  if (offset % clusterSize !== 0 || offset + entries * entryLen > Number.MAX_SAFE_INTEGER) {
    throw new BlockError('EINVAL', `${name} offset invalid`);
  }
}

/** The structural checks QEMU makes on open, beyond the header itself. */
export function validateHeaderTables(h: Qcow2Header): void {
  const clusterSize = 2 ** h.clusterBits;
  if (h.incompatibleFeatures & INCOMPAT_DATA_FILE) throw new BlockError('ENOTSUP', 'external data files are not supported');
  if (h.refcountTableClusters === 0) throw new BlockError('EINVAL', 'Image does not contain a reference count table');
  validateTable(h.refcountTableOffset, h.refcountTableClusters, clusterSize, MAX_REFTABLE_BYTES, clusterSize, 'Reference count table');
  validateTable(h.l1TableOffset, h.l1Size, 8, MAX_L1_BYTES, clusterSize, 'Active L1 table');
  const l2Entries = clusterSize / 8;
  const needL1 = Math.ceil(Math.ceil(h.size / clusterSize) / l2Entries);
  if (h.l1Size < needL1) throw new BlockError('EINVAL', 'L1 table is too small');
  if (h.nbSnapshots > 0) {
    if (h.snapshotsOffset % clusterSize !== 0) throw new BlockError('EINVAL', 'Snapshot table offset invalid');
  }
  if (h.cryptMethod !== 0) throw new BlockError('ENOTSUP', 'encrypted images are not supported');
}

export function isDirty(h: Qcow2Header): boolean {
  return (h.incompatibleFeatures & INCOMPAT_DIRTY) !== 0n;
}

export function isCorrupt(h: Qcow2Header): boolean {
  return (h.incompatibleFeatures & INCOMPAT_CORRUPT) !== 0n;
}

export { INCOMPAT_COMPRESSION, INCOMPAT_EXTL2 };

/**
 * Serialises the header cluster as QEMU's qcow2_update_header does: header fields, then the
 * backing format, other extensions, the feature name table (v3), the end marker and the backing
 * file name. Returns the bytes to write at offset 0 (never more than one cluster).
 */
export function serializeHeader(h: Qcow2Header): Uint8Array {
  const clusterSize = 2 ** h.clusterBits;
  const out = new Uint8Array(clusterSize);
  const v = new DataView(out.buffer);
  const headerLength = h.version === 2 ? V2_HEADER_LENGTH : Math.max(h.headerLength, V3_HEADER_LENGTH);
  v.setUint32(0, QCOW2_MAGIC);
  v.setUint32(4, h.version);
  v.setUint32(20, h.clusterBits);
  v.setBigUint64(24, BigInt(h.size));
  v.setUint32(32, h.cryptMethod);
  v.setUint32(36, h.l1Size);
  v.setBigUint64(40, BigInt(h.l1TableOffset));
  v.setBigUint64(48, BigInt(h.refcountTableOffset));
  v.setUint32(56, h.refcountTableClusters);
  v.setUint32(60, h.nbSnapshots);
  v.setBigUint64(64, BigInt(h.snapshotsOffset));
  if (h.version === 3) {
    v.setBigUint64(72, h.incompatibleFeatures);
    v.setBigUint64(80, h.compatibleFeatures);
    v.setBigUint64(88, h.autoclearFeatures);
    v.setUint32(96, h.refcountOrder);
    v.setUint32(100, headerLength);
    v.setUint8(104, h.compressionType);
    out.set(h.extraFields.subarray(0, headerLength - 105), 105);
  }
  let at = headerLength;
  const put = (type: number, data: Uint8Array) => {
    const padded = (data.length + 7) & ~7;
    if (at + 8 + padded > clusterSize) throw new BlockError('EFBIG', 'Header extensions too large for the header cluster');
    v.setUint32(at, type);
    v.setUint32(at + 4, data.length);
    out.set(data, at + 8);
    at += 8 + padded;
  };
  if (h.backingFormat) put(EXT_BACKING_FORMAT, te.encode(h.backingFormat));
  for (const ext of h.otherExtensions) {
    if (ext.type === EXT_DATA_FILE || ext.type === EXT_CRYPTO) put(ext.type, ext.data);
  }
  // The feature name table is optional; QEMU leaves it out for clusters of 4 KiB and less, where
  // its 392 bytes would crowd out the backing file name.
  if (h.version === 3 && clusterSize > 4096) put(EXT_FEATURE_TABLE, featureTableBytes());
  for (const ext of h.otherExtensions) {
    if (ext.type !== EXT_DATA_FILE && ext.type !== EXT_CRYPTO) put(ext.type, ext.data);
  }
  if (h.version === 3 || h.backingFormat || h.otherExtensions.length) put(EXT_END, new Uint8Array(0));
  if (h.backingFile !== null) {
    const name = te.encode(h.backingFile);
    if (name.length > MAX_BACKING_FILE_NAME || at + name.length > clusterSize) {
      throw new BlockError('EINVAL', 'Backing file name too long');
    }
    v.setBigUint64(8, BigInt(at));
    v.setUint32(16, name.length);
    out.set(name, at);
    at += name.length;
  }
  return out.subarray(0, Math.max(at, headerLength));
}

function featureTableBytes(): Uint8Array {
  const b = new Uint8Array(FEATURE_NAMES.length * 48);
  FEATURE_NAMES.forEach(([type, bit, name], i) => {
    b[i * 48] = type;
    b[i * 48 + 1] = bit;
    b.set(te.encode(name), i * 48 + 2);
  });
  return b;
}

/** True when the image has the bitmaps extension (persistent dirty bitmaps, kept but not used). */
export function hasBitmapsExtension(h: Qcow2Header): boolean {
  return h.otherExtensions.some((e) => e.type === EXT_BITMAPS);
}
