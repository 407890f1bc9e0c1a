// Changing the virtual size (QEMU's qcow2_co_truncate): growing extends the L1 table when the new
// size needs more entries; shrinking drops the clusters past the new end, shortens the L1 table
// and the file. Both are one transaction (see transaction.ts).
import { BlockError } from '../errors';
import { L1E_COPIED_HI, makeEntry, put64 } from './entries';
import type { Qcow2Image } from './image';
import { diskL1Entries } from './snapshots';
import { l1Tables, refTableData } from './table-refs';
import { Transaction } from './transaction';

export async function resizeQcow2(img: Qcow2Image, size: number): Promise<void> {
  if (img.readOnly) throw new BlockError('EROFS', 'Image opened read-only');
  if (!Number.isSafeInteger(size) || size < 0) throw new BlockError('EINVAL', 'Invalid image size specified');
  if (size % 512 !== 0) throw new BlockError('EINVAL', 'The new size must be a multiple of 512');
  await img.flushMetadata();
  const cs = img.clusterSize;
  const entries = diskL1Entries(img, size);
  if (entries > img.maxL1Entries) throw new BlockError('EFBIG', 'Image size is too large for this cluster size');
  const txn = new Transaction(img);
  const tables = l1Tables(img.l1);
  let l1Offset = img.header.l1TableOffset;
  let l1Size = img.l1Size;

  if (size < img.size) {
    const keepClusters = Math.ceil(size / cs);
    const newTables: number[] = [];
    const copied: boolean[] = [];
    for (let i = 0; i < tables.length; i++) {
      const off = tables[i]!;
      const first = i * img.l2Entries;
      if (!off || first + img.l2Entries <= keepClusters) {
        newTables.push(off);
        copied.push(off !== 0 && img.l1Copied(i));
        continue;
      }
      const table = await img.l2Cache.get(off);
      txn.delta(off / cs, -1);
      refTableData(txn, img, table, -1);
      if (first >= keepClusters) continue; // wholly past the new end
      const copy = table.slice();
      for (let j = keepClusters - first; j < img.l2Entries; j++) put64(copy, j * 8, 0, 0);
      refTableData(txn, img, copy, +1);
      newTables.push(await txn.place(copy));
      copied.push(true);
    }
    l1Size = entries;
    const l1 = new Uint8Array(l1Size * 8);
    for (let i = 0; i < l1Size; i++) {
      const off = newTables[i] ?? 0;
      if (!off) continue;
      const [hi, lo] = makeEntry(off, copied[i] ? L1E_COPIED_HI : 0);
      put64(l1, i * 8, hi, lo);
    }
    txn.deltaBytes(img.header.l1TableOffset, img.l1Size * 8, -1);
    l1Offset = l1Size ? await txn.place(l1) : 0;
  } else if (entries > img.l1Size) {
    const l1 = new Uint8Array(entries * 8);
    l1.set(img.l1);
    txn.deltaBytes(img.header.l1TableOffset, img.l1Size * 8, -1);
    l1Size = entries;
    l1Offset = await txn.place(l1);
  }
  await txn.commit({ ...img.header, size, l1Size, l1TableOffset: l1Offset });
  if (size < img.size || l1Size < tables.length) await truncateToLastCluster(img);
}

/** Shortens the file to its last cluster in use (QEMU does after a shrink). */
async function truncateToLastCluster(img: Qcow2Image): Promise<void> {
  const cs = img.clusterSize;
  const fileClusters = Math.ceil((await img.file.size()) / cs);
  let last = fileClusters - 1;
  while (last > 0 && (await img.refcount(last)) === 0) last--;
  if ((last + 1) * cs < (await img.file.size())) {
    await img.file.truncate((last + 1) * cs);
    await img.file.datasync();
  }
}
