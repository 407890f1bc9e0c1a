// L1/L2 lookups and the L2 table updates a write needs (QEMU's qcow2-cluster.c): loading a table,
// creating one for an empty L1 slot, and copying a table shared with a snapshot before changing it.
import { BlockError, corruptionError } from '../errors';
import { ClusterKind, hiOf, l2Kind, loOf, put64, L2E_COPIED_HI, entryOffset } from './entries';
import { hex, type Qcow2Image } from './image';

/** One L2 entry, decoded. */
export interface L2Entry {
  hi: number;
  lo: number;
  kind: ClusterKind;
  /** Host offset for Normal/ZeroAlloc entries. */
  host: number;
  copied: boolean;
}

export function decodeL2(img: Qcow2Image, table: Uint8Array, index: number, l2Offset: number): L2Entry {
  const hi = hiOf(table, index * 8);
  const lo = loOf(table, index * 8);
  const kind = l2Kind(hi, lo, img.v3);
  let host = 0;
  if (kind === ClusterKind.Normal || kind === ClusterKind.ZeroAlloc) {
    host = entryOffset(hi, lo);
    if (!img.v3 && lo & 1) {
      throw corruptionError(`Zero cluster entry found in pre-v3 image (L2 offset: ${hex(l2Offset)}, L2 index: ${hex(index)})`);
    }
    if (host % img.clusterSize !== 0) {
      throw corruptionError(`Cluster allocation offset ${hex(host)} unaligned (L2 offset: ${hex(l2Offset)}, L2 index: ${hex(index)})`);
    }
  }
  return { hi, lo, kind, host, copied: (hi & L2E_COPIED_HI) !== 0 };
}

/** Validates the L2 offset in L1 entry `i` (0 for none). */
export function l2OffsetAt(img: Qcow2Image, i: number): number {
  if (i >= img.l1Size) return 0;
  const hi = hiOf(img.l1, i * 8);
  const lo = loOf(img.l1, i * 8);
  const off = entryOffset(hi, lo);
  if (off % img.clusterSize !== 0) {
    throw corruptionError(`L2 table offset ${hex(off)} unaligned (L1 index: ${hex(i)})`);
  }
  return off;
}

/** The L2 table for L1 index `i`, or null when none is allocated. */
export async function l2ForRead(img: Qcow2Image, i: number): Promise<{ table: Uint8Array; offset: number } | null> {
  const offset = l2OffsetAt(img, i);
  if (offset === 0) return null;
  const table = img.l2Cache.peek(offset) ?? (await img.l2Cache.get(offset));
  return { table, offset };
}

/**
 * An L2 table we may modify for L1 index `i`: the existing one when only the active L1 uses it
 * (COPIED), else a fresh copy (a snapshot shares it) or a new empty table. The new table is dirty
 * in the cache; its L1 entry changes in memory; the flush writes them in that order.
 */
export async function l2ForWrite(img: Qcow2Image, i: number): Promise<{ table: Uint8Array; offset: number }> {
  if (i >= img.l1Size) throw new BlockError('EINVAL', `L1 index ${i} beyond the L1 table (${img.l1Size} entries)`);
  const old = l2OffsetAt(img, i);
  if (old !== 0 && img.l1Copied(i)) {
    const table = img.l2Cache.peek(old) ?? (await img.l2Cache.get(old));
    return { table, offset: old };
  }
  const { offset } = await img.allocClusters(1);
  let table: Uint8Array;
  if (old === 0) {
    table = new Uint8Array(img.clusterSize);
  } else {
    // Shared with a snapshot: every cluster it maps is shared too, so none of the copies' entries
    // may claim exclusive ownership (COPIED) until a write gives it its own cluster.
    table = (await img.l2Cache.get(old)).slice();
    for (let j = 0; j < img.l2Entries; j++) {
      const hi = hiOf(table, j * 8);
      if (hi & L2E_COPIED_HI) put64(table, j * 8, (hi & ~L2E_COPIED_HI) >>> 0, loOf(table, j * 8));
    }
    img.deferFree(old / img.clusterSize);
  }
  img.l2Cache.put(offset, table, true);
  img.protectCluster(offset);
  img.setL1(i, offset, true);
  return { table, offset };
}
