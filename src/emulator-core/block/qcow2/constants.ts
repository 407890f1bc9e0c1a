// QCOW2 on-disk constants (QEMU docs/interop/qcow2.txt) and the implementation limits QEMU
// enforces, which we share so that every image we accept, QEMU accepts too.

export const QCOW2_MAGIC = 0x514649fb; // "QFI\xfb"
export const V2_HEADER_LENGTH = 72;
export const V3_MIN_HEADER_LENGTH = 104;
/** The header length QEMU writes for v3 (104 + compression_type byte, padded to 8). */
export const V3_HEADER_LENGTH = 112;

export const MIN_CLUSTER_BITS = 9;
export const MAX_CLUSTER_BITS = 21; // QEMU: clusters of at most 2 MiB
export const DEFAULT_CLUSTER_BITS = 16;

/** QEMU limits (block/qcow2.h): L1 at most 32 MiB, refcount table at most 8 MiB, 65536 snapshots. */
export const MAX_L1_BYTES = 32 * 1024 * 1024;
export const MAX_REFTABLE_BYTES = 8 * 1024 * 1024;
export const MAX_SNAPSHOTS = 65536;
/** Snapshot table at most 64 MiB; a snapshot's extra data at most 1 KiB; ID/name strings at most 64 KiB. */
export const MAX_SNAPSHOT_TABLE_BYTES = 64 * 1024 * 1024;
export const MAX_SNAPSHOT_EXTRA_DATA = 1024;
export const MAX_BACKING_FILE_NAME = 1023;
/** QEMU refuses virtual sizes beyond 2^63-1 rounded to clusters; we keep numbers exact below 2^53. */
export const MAX_SAFE_OFFSET = Number.MAX_SAFE_INTEGER;

// Incompatible feature bits.
export const INCOMPAT_DIRTY = 1n << 0n;
export const INCOMPAT_CORRUPT = 1n << 1n;
export const INCOMPAT_DATA_FILE = 1n << 2n;
export const INCOMPAT_COMPRESSION = 1n << 3n;
export const INCOMPAT_EXTL2 = 1n << 4n;
export const INCOMPAT_KNOWN = INCOMPAT_DIRTY | INCOMPAT_CORRUPT;
// Compatible feature bits.
export const COMPAT_LAZY_REFCOUNTS = 1n << 0n;
// Autoclear feature bits.
export const AUTOCLEAR_BITMAPS = 1n << 0n;
export const AUTOCLEAR_DATA_FILE_RAW = 1n << 1n;

// Header extension types.
export const EXT_END = 0x00000000;
export const EXT_BACKING_FORMAT = 0xe2792aca;
export const EXT_FEATURE_TABLE = 0x6803f857;
export const EXT_BITMAPS = 0x23852875;
export const EXT_CRYPTO = 0x0537be77;
export const EXT_DATA_FILE = 0x44415441;

/** The feature name table QEMU writes into every v3 image (type, bit, name). */
export const FEATURE_NAMES: readonly [number, number, string][] = [
  [0, 0, 'dirty bit'],
  [0, 1, 'corrupt bit'],
  [0, 2, 'external data file'],
  [0, 3, 'compression type'],
  [0, 4, 'extended L2 entries'],
  [1, 0, 'lazy refcounts'],
  [2, 0, 'bitmaps'],
  [2, 1, 'raw external data'],
];
