// Internal snapshots (qcow2.txt "Snapshots"; QEMU's qcow2-snapshot.c): create, apply (goto),
// delete, each one atomic transaction (see transaction.ts). A snapshot may carry a VM state
// blob, stored as QEMU stores it: like disk content, in the snapshot's own L1 table, at guest
// offsets past the virtual disk (from L1 index size_to_l1(disk size) on).
import { BlockError } from '../errors';
import { ClusterKind, entryOffset, hiOf, l2Kind, L1E_COPIED_HI, L2E_COPIED_HI, loOf, makeEntry, put64 } from './entries';
import type { Qcow2Image } from './image';
import { serializeSnapshotTable, type Snapshot } from './snapshot-table';
import { l1Tables, readL1, refL1, refTableData, sharedCopy } from './table-refs';
import { Transaction } from './transaction';

export interface NewSnapshot {
  name: string;
  /** Defaults to one more than the largest numeric ID (QEMU's find_new_snapshot_id). */
  id?: string;
  dateSec?: number;
  dateNsec?: number;
  vmClockNsec?: number;
  icount?: number;
  /** The machine state (RAM, devices) saved with the snapshot; absent for a disk-only snapshot. */
  vmState?: Uint8Array;
}

/** L1 entries that describe the virtual disk (the VM state area starts after them). */
export function diskL1Entries(img: Qcow2Image, size = img.size): number {
  return Math.ceil(Math.ceil(size / img.clusterSize) / img.l2Entries);
}

export function findSnapshot(img: Qcow2Image, idOrName: string): Snapshot | undefined {
  return img.snapshots.find((s) => s.id === idOrName) ?? img.snapshots.find((s) => s.name === idOrName);
}

function nextSnapshotId(img: Qcow2Image): string {
  let max = 0;
  for (const s of img.snapshots) {
    const n = Number.parseInt(s.id, 10);
    if (Number.isFinite(n) && n > max) max = n;
  }
  return String(max + 1);
}

/** A new L1 table (bytes) for `tables`, with COPIED set where `copied` says. */
function buildL1(entries: number, tables: number[], copied: boolean[]): Uint8Array {
  const l1 = new Uint8Array(entries * 8);
  tables.forEach((off, i) => {
    if (!off || i >= entries) return;
    const [hi, lo] = makeEntry(off, copied[i] ? L1E_COPIED_HI : 0);
    put64(l1, i * 8, hi, lo);
  });
  return l1;
}

function snapshotTableRefs(txn: Transaction, img: Qcow2Image): void {
  if (img.header.nbSnapshots && img.snapshotTableSize) txn.deltaBytes(img.header.snapshotsOffset, img.snapshotTableSize, -1);
}

async function placeSnapshotTable(txn: Transaction, snapshots: Snapshot[]): Promise<number> {
  if (!snapshots.length) return 0;
  // Entries without a disk size (incomplete v3 entries) get the current one, as QEMU's repair does.
  const complete = snapshots.map((s) => (s.diskSize === undefined ? { ...s, diskSize: txn.img.size, incomplete: false } : s));
  return txn.place(serializeSnapshotTable(complete));
}

export async function createSnapshot(img: Qcow2Image, spec: NewSnapshot): Promise<Snapshot> {
  if (img.readOnly) throw new BlockError('EROFS', 'Image opened read-only');
  await img.flushMetadata();
  const id = spec.id ?? nextSnapshotId(img);
  if (img.snapshots.some((s) => s.id === id)) throw new BlockError('EEXIST', `Snapshot with ID '${id}' already exists`);
  if (new TextEncoder().encode(spec.name).length > 65535 || new TextEncoder().encode(id).length > 65535) {
    throw new BlockError('EINVAL', 'Snapshot name too long');
  }
  const cs = img.clusterSize;
  const txn = new Transaction(img);
  const active = img.l1;
  const activeTables = l1Tables(active);

  // The active L1 stops referencing its tables; the snapshot's L1 takes them over as they are,
  // and the new active L1 gets copies whose entries know their clusters are now shared.
  await refL1(txn, img, active, -1);
  txn.deltaBytes(img.header.l1TableOffset, img.l1Size * 8, -1);
  await refL1(txn, img, active, +1);
  const newActive: number[] = [];
  for (const off of activeTables) {
    if (!off) {
      newActive.push(0);
      continue;
    }
    const copy = sharedCopy(await img.l2Cache.get(off), img.l2Entries);
    refTableData(txn, img, copy, +1);
    newActive.push(await txn.place(copy));
  }

  // The snapshot's L1: the active entries, then the VM state tables.
  const snapTables = activeTables.slice(0, Math.max(activeTables.length, 0));
  const vmIndex = diskL1Entries(img);
  const vmState = spec.vmState ?? new Uint8Array(0);
  if (vmState.length) {
    const clusters = Math.ceil(vmState.length / cs);
    const dataOff = await txn.place(vmState);
    const tables = Math.ceil(clusters / img.l2Entries);
    for (let t = 0; t < tables; t++) {
      const table = new Uint8Array(cs);
      for (let j = 0; j < img.l2Entries && t * img.l2Entries + j < clusters; j++) {
        const [hi, lo] = makeEntry(dataOff + (t * img.l2Entries + j) * cs, L2E_COPIED_HI);
        put64(table, j * 8, hi, lo);
      }
      const at = vmIndex + t;
      while (snapTables.length <= at) snapTables.push(0);
      const replaced = snapTables[at]!;
      if (replaced) {
        // The active image had something in its VM state area: the snapshot does not keep it.
        txn.delta(replaced / cs, -1);
        refTableData(txn, img, await img.l2Cache.get(replaced), -1);
      }
      snapTables[at] = await txn.place(table);
    }
  }
  const snapL1 = buildL1(snapTables.length, snapTables, []);
  const snapL1Offset = snapL1.length ? await txn.place(snapL1) : 0;

  const now = Date.now();
  const snapshot: Snapshot = {
    l1TableOffset: snapL1Offset,
    l1Size: snapTables.length,
    id,
    name: spec.name,
    dateSec: spec.dateSec ?? Math.floor(now / 1000),
    dateNsec: spec.dateNsec ?? (now % 1000) * 1e6,
    vmClockNsec: spec.vmClockNsec ?? 0,
    vmStateSize: vmState.length,
    diskSize: img.size,
    icount: spec.icount,
    unknownExtra: new Uint8Array(0),
  };
  snapshotTableRefs(txn, img);
  const snapshots = [...img.snapshots, snapshot];
  const tableOffset = await placeSnapshotTable(txn, snapshots);
  const newL1 = buildL1(img.l1Size, newActive, newActive.map((o) => o !== 0));
  const l1Offset = newL1.length ? await txn.place(newL1) : 0;
  await txn.commit({ ...img.header, l1TableOffset: l1Offset, nbSnapshots: snapshots.length, snapshotsOffset: tableOffset });
  return img.snapshots[img.snapshots.length - 1]!;
}

/** Reverts the disk to a snapshot (qemu-img snapshot -a); the snapshot stays. */
export async function applySnapshot(img: Qcow2Image, idOrName: string): Promise<Snapshot> {
  if (img.readOnly) throw new BlockError('EROFS', 'Image opened read-only');
  await img.flushMetadata();
  const sn = findSnapshot(img, idOrName);
  if (!sn) throw new BlockError('ENOENT', `Can't find snapshot '${idOrName}'`);
  if (sn.l1TableOffset % img.clusterSize !== 0) throw new BlockError('EINVAL', 'Snapshot L1 table offset invalid');
  if (sn.l1Size > img.maxL1Entries) throw new BlockError('EFBIG', 'Snapshot L1 table too large');
  const size = sn.diskSize ?? img.size;
  const txn = new Transaction(img);
  await refL1(txn, img, img.l1, -1);
  txn.deltaBytes(img.header.l1TableOffset, img.l1Size * 8, -1);
  const snapL1 = await readL1(img, sn.l1TableOffset, sn.l1Size);
  const snapTables = l1Tables(snapL1);
  const entries = Math.max(diskL1Entries(img, size), 0);
  const tables: number[] = [];
  for (let i = 0; i < entries; i++) {
    const off = snapTables[i] ?? 0;
    if (!off) {
      tables.push(0);
      continue;
    }
    if (off % img.clusterSize !== 0) throw new BlockError('EIO', `L2 table offset 0x${off.toString(16)} unaligned in snapshot '${sn.name}'`);
    const copy = sharedCopy(await img.l2Cache.get(off), img.l2Entries);
    refTableData(txn, img, copy, +1);
    tables.push(await txn.place(copy));
  }
  const l1 = buildL1(entries, tables, tables.map((o) => o !== 0));
  const l1Offset = l1.length ? await txn.place(l1) : 0;
  await txn.commit({ ...img.header, size, l1Size: entries, l1TableOffset: l1Offset });
  return sn;
}

/** Deletes a snapshot (qemu-img snapshot -d), fixing the COPIED flags of what it shared. */
export async function deleteSnapshot(img: Qcow2Image, idOrName: string): Promise<Snapshot> {
  if (img.readOnly) throw new BlockError('EROFS', 'Image opened read-only');
  await img.flushMetadata();
  const sn = findSnapshot(img, idOrName);
  if (!sn) throw new BlockError('ENOENT', `Can't find snapshot '${idOrName}'`);
  const cs = img.clusterSize;
  const txn = new Transaction(img);
  if (sn.l1TableOffset % cs === 0 && sn.l1Size <= img.maxL1Entries) {
    await refL1(txn, img, await readL1(img, sn.l1TableOffset, sn.l1Size), -1);
    txn.deltaBytes(sn.l1TableOffset, sn.l1Size * 8, -1);
  }
  snapshotTableRefs(txn, img);
  const snapshots = img.snapshots.filter((s) => s !== sn);
  const tableOffset = await placeSnapshotTable(txn, snapshots);

  // The active tables stay, unless an entry's COPIED flag must change: then a corrected copy.
  const tables = l1Tables(img.l1);
  const copied: boolean[] = [];
  for (let i = 0; i < tables.length; i++) {
    const off = tables[i]!;
    if (!off) {
      copied.push(false);
      continue;
    }
    const table = await img.l2Cache.get(off);
    let fixed: Uint8Array | null = null;
    for (let j = 0; j < img.l2Entries; j++) {
      const hi = hiOf(table, j * 8);
      const lo = loOf(table, j * 8);
      const kind = l2Kind(hi, lo, img.v3);
      if (kind !== ClusterKind.Normal && kind !== ClusterKind.ZeroAlloc) continue;
      const want = (await txn.finalRefcount(Math.floor(entryOffset(hi, lo) / cs))) === 1;
      if (want !== ((hi & L2E_COPIED_HI) !== 0)) {
        fixed ??= table.slice();
        put64(fixed, j * 8, (want ? hi | L2E_COPIED_HI : hi & ~L2E_COPIED_HI) >>> 0, lo);
      }
    }
    if (fixed) {
      txn.delta(off / cs, -1); // the active L1 now points at the copy
      tables[i] = await txn.place(fixed);
      copied.push(true);
    } else {
      copied.push((await txn.finalRefcount(off / cs)) === 1);
    }
  }
  const l1 = buildL1(img.l1Size, tables, copied);
  txn.deltaBytes(img.header.l1TableOffset, img.l1Size * 8, -1);
  const l1Offset = l1.length ? await txn.place(l1) : 0;
  await txn.commit({ ...img.header, l1TableOffset: l1Offset, nbSnapshots: snapshots.length, snapshotsOffset: tableOffset });
  return sn;
}

/** Reads the VM state saved with a snapshot (empty when it has none). */
export async function readSnapshotVmState(img: Qcow2Image, idOrName: string): Promise<Uint8Array> {
  const sn = findSnapshot(img, idOrName);
  if (!sn) throw new BlockError('ENOENT', `Can't find snapshot '${idOrName}'`);
  const out = new Uint8Array(sn.vmStateSize);
  if (!out.length) return out;
  const cs = img.clusterSize;
  const l1 = await readL1(img, sn.l1TableOffset, sn.l1Size);
  const base = diskL1Entries(img, sn.diskSize ?? img.size) * img.l2Entries; // first VM state cluster
  // Clusters that follow each other in the file (a vmstate is written in one piece) are read in
  // one request.
  let run: { pos: number; host: number; len: number } | undefined;
  const flush = async () => {
    if (run) await img.file.read(out.subarray(run.pos, run.pos + run.len), run.host);
    run = undefined;
  };
  for (let pos = 0; pos < out.length; pos += cs) {
    const g = base + pos / cs;
    const l1i = Math.floor(g / img.l2Entries);
    const n = Math.min(cs, out.length - pos);
    const l2 = l1i < sn.l1Size ? entryOffset(hiOf(l1, l1i * 8), loOf(l1, l1i * 8)) : 0;
    if (!l2) continue;
    const table = await img.l2Cache.get(l2);
    const j = g % img.l2Entries;
    const hi = hiOf(table, j * 8);
    const lo = loOf(table, j * 8);
    const kind = l2Kind(hi, lo, img.v3);
    if (kind === ClusterKind.Normal) {
      const host = entryOffset(hi, lo);
      if (run && run.pos + run.len === pos && run.host + run.len === host) run.len += n;
      else {
        await flush();
        run = { pos, host, len: n };
      }
    } else if (kind === ClusterKind.Compressed) throw new BlockError('ENOTSUP', 'compressed VM state is not supported');
  }
  await flush();
  return out;
}
