// Bit layouts of L1, L2 and refcount entries (qcow2.txt "Cluster mapping", "Host cluster
// management"). Entries are big-endian 64-bit words; we read them as two 32-bit halves so the hot
// path stays in plain numbers (every offset the format allows fits below 2^56).

export const L1E_COPIED_HI = 0x80000000; // bit 63
export const L2E_COPIED_HI = 0x80000000; // bit 63
export const L2E_COMPRESSED_HI = 0x40000000; // bit 62
/** Bits 9..55 of an L1/L2/reftable entry: the host offset. */
const OFFSET_HI_MASK = 0x00ffffff;
const OFFSET_LO_MASK = 0xfffffe00;
/** L1 entry reserved bits: 1..8 and 56..62. */
export const L1E_RESERVED_LO = 0x000001ff;
export const L1E_RESERVED_HI = 0x7f000000;
/** Standard L2 entry reserved bits: 1..8 and 56..61. */
export const L2E_STD_RESERVED_LO = 0x000001fe;
export const L2E_STD_RESERVED_HI = 0x3f000000;
export const L2E_ZERO_LO = 1;

export const enum ClusterKind {
  Unallocated = 0,
  /** Reads as zeros, no host cluster. */
  ZeroPlain = 1,
  /** Reads as zeros, host cluster preallocated (kept when written). */
  ZeroAlloc = 2,
  Normal = 3,
  Compressed = 4,
}

export function hiOf(buf: Uint8Array, at: number): number {
  return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
}

export function loOf(buf: Uint8Array, at: number): number {
  return ((buf[at + 4]! << 24) | (buf[at + 5]! << 16) | (buf[at + 6]! << 8) | buf[at + 7]!) >>> 0;
}

/** Zero bytes to compare table chunks against (natively: a table is mostly empty entries). */
const ZERO_CHUNK = new Uint8Array(4096);

/**
 * Indices of the non-zero 8-byte entries of a table, in order. An image's tables are mostly
 * empty (a fresh refcount table: 8192 entries, one in use), and skipping empty 4 KiB chunks with
 * one native comparison each keeps opening an image for writing off `viv img`'s start-up time.
 */
export function nonZeroEntries(table: Uint8Array): number[] {
  const out: number[] = [];
  const buf = Buffer.from(table.buffer, table.byteOffset, table.byteLength);
  for (let at = 0; at < buf.length; at += ZERO_CHUNK.length) {
    const end = Math.min(buf.length, at + ZERO_CHUNK.length);
    if (buf.compare(ZERO_CHUNK, 0, end - at, at, end) === 0) continue;
    for (let e = at; e + 8 <= end; e += 8) if (hiOf(buf, e) !== 0 || loOf(buf, e) !== 0) out.push(e / 8);
  }
  return out;
}

export function put64(buf: Uint8Array, at: number, hi: number, lo: number): void {
  buf[at] = hi >>> 24;
  buf[at + 1] = (hi >>> 16) & 0xff;
  buf[at + 2] = (hi >>> 8) & 0xff;
  buf[at + 3] = hi & 0xff;
  buf[at + 4] = lo >>> 24;
  buf[at + 5] = (lo >>> 16) & 0xff;
  buf[at + 6] = (lo >>> 8) & 0xff;
  buf[at + 7] = lo & 0xff;
}

/** Host offset in bits 9..55 of an L1/L2(standard)/reftable entry. */
export function entryOffset(hi: number, lo: number): number {
  return (hi & OFFSET_HI_MASK) * 0x100000000 + ((lo & OFFSET_LO_MASK) >>> 0);
}

/** Splits an offset (a multiple of 512 below 2^56) and flags into the two halves of an entry. */
export function makeEntry(offset: number, flagsHi: number, flagsLo = 0): [number, number] {
  const hi = Math.floor(offset / 0x100000000);
  const lo = offset >>> 0;
  return [(hi | flagsHi) >>> 0, (lo | flagsLo) >>> 0];
}

/** The raw 64-bit value, for messages (qemu prints entries in hex). */
export function entryHex(hi: number, lo: number): string {
  return (BigInt(hi) * 0x100000000n + BigInt(lo)).toString(16);
}

export function l2Kind(hi: number, lo: number, v3: boolean): ClusterKind {
  if (hi & L2E_COMPRESSED_HI) return ClusterKind.Compressed;
  const off = (hi & OFFSET_HI_MASK) !== 0 || (lo & OFFSET_LO_MASK) !== 0;
  if (v3 && lo & L2E_ZERO_LO) return off ? ClusterKind.ZeroAlloc : ClusterKind.ZeroPlain;
  return off ? ClusterKind.Normal : ClusterKind.Unallocated;
}

/** Compressed cluster descriptor geometry for a cluster size (qcow2.txt "Compressed Clusters Descriptor"). */
export interface CompressedGeometry {
  /** x = 62 - (cluster_bits - 8): bit where the sector count starts. */
  sizeShift: number;
  sizeMask: number;
}

export function compressedGeometry(clusterBits: number): CompressedGeometry {
  return { sizeShift: 62 - (clusterBits - 8), sizeMask: (1 << (clusterBits - 8)) - 1 };
}

/** Host byte offset and byte length of a compressed cluster's data (as QEMU computes csize). */
export function compressedExtent(hi: number, lo: number, g: CompressedGeometry): { offset: number; size: number } {
  const top = hi & 0x3fffffff; // bits 32..61
  const hiShift = g.sizeShift - 32;
  const offHi = top % 2 ** hiShift;
  const offset = offHi * 0x100000000 + lo;
  const sectors = ((top / 2 ** hiShift) & g.sizeMask) + 1;
  return { offset, size: sectors * 512 - (offset % 512) };
}

/** Encodes a compressed descriptor: data at `offset`, `length` bytes long. */
export function makeCompressedEntry(offset: number, length: number, g: CompressedGeometry): [number, number] {
  const extraSectors = Math.floor((offset + length - 1) / 512) - Math.floor(offset / 512);
  const hiShift = g.sizeShift - 32;
  const offHi = Math.floor(offset / 0x100000000);
  const hi = (L2E_COMPRESSED_HI | (extraSectors * 2 ** hiShift) | offHi) >>> 0;
  return [hi, offset >>> 0];
}

// Refcount block entries: refcount_bits = 1 << order, bit 0 the least significant (qcow2.txt).

export function getRefcount(block: Uint8Array, index: number, order: number): number {
  switch (order) {
    case 4:
      return (block[index * 2]! << 8) | block[index * 2 + 1]!;
    case 3:
      return block[index]!;
    case 5:
      return hiOf(block, index * 4);
    case 6: {
      const hi = hiOf(block, index * 8);
      const lo = loOf(block, index * 8);
      return hi * 0x100000000 + lo; // above 2^53 loses precision, but refcounts never get there
    }
    default: {
      const bits = 1 << order;
      const bit = index * bits;
      return (block[bit >>> 3]! >>> (bit & 7)) & ((1 << bits) - 1);
    }
  }
}

export function setRefcount(block: Uint8Array, index: number, order: number, value: number): void {
  switch (order) {
    case 4:
      block[index * 2] = value >>> 8;
      block[index * 2 + 1] = value & 0xff;
      return;
    case 3:
      block[index] = value;
      return;
    case 5:
      block[index * 4] = value >>> 24;
      block[index * 4 + 1] = (value >>> 16) & 0xff;
      block[index * 4 + 2] = (value >>> 8) & 0xff;
      block[index * 4 + 3] = value & 0xff;
      return;
    case 6:
      put64(block, index * 8, Math.floor(value / 0x100000000), value >>> 0);
      return;
    default: {
      const bits = 1 << order;
      const bit = index * bits;
      const mask = ((1 << bits) - 1) << (bit & 7);
      block[bit >>> 3] = (block[bit >>> 3]! & ~mask) | ((value << (bit & 7)) & mask);
    }
  }
}

/** Largest refcount an entry of this width holds (64-bit entries are capped at 2^53-1 here). */
export function maxRefcount(order: number): number {
  return order >= 6 ? Number.MAX_SAFE_INTEGER : 2 ** (1 << order) - 1;
}
