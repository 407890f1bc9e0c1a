// Reference accounting for whole L1 tables, used by transactions: what an L1 table contributes to
// refcounts is one reference to each L2 table it points to and, through each of those, one to
// every data cluster (QEMU's qcow2_update_snapshot_refcount semantics: a table shared by two L1
// tables counts twice for its data clusters).
import { ClusterKind, compressedExtent, entryOffset, hiOf, l2Kind, loOf, L2E_COPIED_HI, put64 } from './entries';
import type { Qcow2Image } from './image';
import type { Transaction } from './transaction';

/** Counts the data references of one L2 table (Normal, preallocated zero, compressed). */
export function refTableData(txn: Transaction, img: Qcow2Image, table: Uint8Array, sign: number): void {
  const cs = img.clusterSize;
  for (let j = 0; j < img.l2Entries; j++) {
    const hi = hiOf(table, j * 8);
    const lo = loOf(table, j * 8);
    const kind = l2Kind(hi, lo, img.v3);
    if (kind === ClusterKind.Normal || kind === ClusterKind.ZeroAlloc) txn.delta(Math.floor(entryOffset(hi, lo) / cs), sign);
    else if (kind === ClusterKind.Compressed) {
      const { offset, size } = compressedExtent(hi, lo, img.compressed);
      txn.deltaBytes(offset, size, sign);
    }
  }
}

/** L2 table offsets of an L1 table given as bytes (0 for empty entries). */
export function l1Tables(l1: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < l1.length / 8; i++) out.push(entryOffset(hiOf(l1, i * 8), loOf(l1, i * 8)));
  return out;
}

/** Adds (sign +1) or removes (-1) everything an existing L1 table references. */
export async function refL1(txn: Transaction, img: Qcow2Image, l1: Uint8Array, sign: number): Promise<void> {
  for (const off of l1Tables(l1)) {
    if (!off) continue;
    txn.delta(Math.floor(off / img.clusterSize), sign);
    refTableData(txn, img, await img.l2Cache.get(off), sign);
  }
}

/** A copy of an L2 table with every COPIED flag cleared (its clusters are shared). */
export function sharedCopy(table: Uint8Array, entries: number): Uint8Array {
  const copy = table.slice();
  for (let j = 0; j < entries; j++) {
    const hi = hiOf(copy, j * 8);
    if (hi & L2E_COPIED_HI) put64(copy, j * 8, (hi & ~L2E_COPIED_HI) >>> 0, loOf(copy, j * 8));
  }
  return copy;
}

/** Reads an L1 table of `entries` entries at `offset`. */
export async function readL1(img: Qcow2Image, offset: number, entries: number): Promise<Uint8Array> {
  const buf = new Uint8Array(entries * 8);
  if (entries) await img.file.read(buf, offset);
  return buf;
}
