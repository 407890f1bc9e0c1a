// `qemu-img check` for QCOW2 (QEMU's qcow2_co_check_locked / qcow2_check_refcounts): rebuild the
// reference counts from every L1/L2 table, compare them with the refcount blocks, check the
// COPIED flags of the active tables; report with QEMU's messages; with -r, repair leaks
// (refcount too high), errors (too low), COPIED flags and, when the refcount structure itself is
// broken, rebuild it in free space and switch the header to it.
import { BlockError, strerror } from '../errors';
import { INCOMPAT_CORRUPT, INCOMPAT_DIRTY, MAX_L1_BYTES } from './constants';
import {
  ClusterKind, compressedExtent, entryHex, entryOffset, getRefcount, hiOf, l2Kind, L1E_COPIED_HI, L1E_RESERVED_HI,
  L1E_RESERVED_LO, L2E_COPIED_HI, L2E_STD_RESERVED_HI, L2E_STD_RESERVED_LO, loOf, makeEntry, put64, setRefcount,
} from './entries';
import type { Qcow2Image } from './image';
import { BME_OFFSET_MASK, loadBitmapDirectory } from './bitmaps';

export interface CheckResult {
  corruptions: number;
  leaks: number;
  checkErrors: number;
  corruptionsFixed: number;
  leaksFixed: number;
  imageEndOffset: number;
  totalClusters: number;
  allocatedClusters: number;
  fragmentedClusters: number;
  compressedClusters: number;
  /** The check itself failed (qemu-img prints "Check failed: <error>" and no report). */
  failed?: 'EIO' | 'ENOMEM' | 'EFBIG';
}

export interface CheckFix {
  leaks: boolean;
  errors: boolean;
}

export type Reporter = (line: string) => void;

export function emptyCheckResult(): CheckResult {
  return {
    corruptions: 0, leaks: 0, checkErrors: 0, corruptionsFixed: 0, leaksFixed: 0, imageEndOffset: 0,
    totalClusters: 0, allocatedClusters: 0, fragmentedClusters: 0, compressedClusters: 0,
  };
}

const hx = (n: number) => n.toString(16);

/** The in-memory refcount array ("imrt"), as wide as the image's refcounts, growing on demand. */
class RefArray {
  arr: Uint8Array | Uint16Array | Uint32Array | Float64Array;
  constructor(
    readonly order: number,
    public length: number,
  ) {
    this.arr = RefArray.make(order, Math.max(length, 1));
  }
  static make(order: number, n: number) {
    if (order <= 3) return new Uint8Array(n);
    if (order === 4) return new Uint16Array(n);
    if (order === 5) return new Uint32Array(n);
    return new Float64Array(n);
  }
  get(i: number): number {
    return i < this.length ? this.arr[i]! : 0;
  }
  set(i: number, v: number): void {
    if (i >= this.arr.length) {
      const bigger = RefArray.make(this.order, Math.max(i + 1, this.arr.length * 2));
      bigger.set(this.arr as never);
      this.arr = bigger;
    }
    if (i >= this.length) this.length = i + 1;
    this.arr[i] = v;
  }
  grow(n: number): void {
    if (n > this.length) this.set(n - 1, this.get(n - 1));
  }
}

interface Pass {
  img: Qcow2Image;
  res: CheckResult;
  fix: CheckFix;
  report: Reporter;
  refs: RefArray;
  rebuild: boolean;
  fileSize: number;
}

/** Counts one reference to every cluster of [offset, offset+size) (qcow2_inc_refcounts_imrt). */
function incRefs(p: Pass, offset: number, size: number): void {
  if (size <= 0) return;
  const cs = p.img.clusterSize;
  // The last cluster may be half written: up to one cluster past the end of the file is tolerated.
  if (offset + size - p.fileSize >= cs) {
    p.report(`ERROR: counting reference for region exceeding the end of the file by one cluster or more: offset 0x${hx(offset)} size 0x${hx(size)}`);
    p.res.corruptions++;
    return;
  }
  const first = Math.floor(offset / cs);
  const last = Math.floor((offset + size - 1) / cs);
  for (let k = first; k <= last; k++) {
    const rc = p.refs.get(k);
    if (rc === p.img.refcountMax) {
      p.report(`ERROR: overflow cluster offset=0x${hx(k * cs)}`);
      p.report('Use qemu-img amend to increase the refcount entry width or qemu-img convert to create a clean copy if the image cannot be opened for writing');
      p.res.corruptions++;
      continue;
    }
    p.refs.set(k, rc + 1);
  }
}

async function checkL2(p: Pass, l2Offset: number, fragInfo: boolean): Promise<void> {
  const img = p.img;
  const cs = img.clusterSize;
  const table = new Uint8Array(cs);
  try {
    await img.file.read(table, l2Offset);
  } catch {
    p.report('ERROR: I/O error in check_refcounts_l2');
    p.res.checkErrors++;
    throw new BlockError('EIO', 'I/O error in check_refcounts_l2');
  }
  let nextContiguous = 0;
  for (let i = 0; i < img.l2Entries; i++) {
    let hi = hiOf(table, i * 8);
    const lo = loOf(table, i * 8);
    const kind = l2Kind(hi, lo, true);
    if (kind !== ClusterKind.Compressed && ((hi & L2E_STD_RESERVED_HI) || (lo & L2E_STD_RESERVED_LO))) {
      p.report(`ERROR found l2 entry with reserved bits set: ${entryHex(hi, lo)}`);
      p.res.corruptions++;
    }
    switch (kind) {
      case ClusterKind.Compressed: {
        if (hi & L2E_COPIED_HI) {
          const { offset } = compressedExtent(hi, lo, img.compressed);
          p.report(`ERROR: coffset=0x${hx(offset)}: copied flag must never be set for compressed clusters`);
          hi = (hi & ~L2E_COPIED_HI) >>> 0;
          p.res.corruptions++;
        }
        const { offset, size } = compressedExtent(hi, lo, img.compressed);
        incRefs(p, offset, size);
        if (fragInfo) {
          p.res.allocatedClusters++;
          p.res.compressedClusters++;
          // QEMU counts compressed clusters as fragmented by nature (sub-sector, re-read sectors).
          p.res.fragmentedClusters++;
        }
        break;
      }
      case ClusterKind.ZeroAlloc:
      case ClusterKind.Normal: {
        const offset = entryOffset(hi, lo);
        if (offset % cs !== 0) {
          p.res.corruptions++;
          if (kind === ClusterKind.ZeroAlloc) {
            const fixing = p.fix.errors;
            p.report(`${fixing ? 'Repairing' : 'ERROR'} offset=${hx(offset)}: Preallocated cluster is not properly aligned; L2 entry corrupted.`);
            if (fixing) {
              // Turn it into a plain zero cluster: the data was zeros anyway.
              put64(table, i * 8, 0, 1);
              await img.file.write(table.subarray(i * 8, i * 8 + 8), l2Offset + i * 8);
              await img.file.datasync();
              p.res.corruptions--;
              p.res.corruptionsFixed++;
              continue;
            }
          } else {
            p.report(`ERROR offset=${hx(offset)}: Data cluster is not properly aligned; L2 entry corrupted.`);
          }
        }
        if (fragInfo) {
          p.res.allocatedClusters++;
          if (nextContiguous && offset !== nextContiguous) p.res.fragmentedClusters++;
          nextContiguous = offset + cs;
        }
        incRefs(p, offset, cs);
        break;
      }
      default:
        break;
    }
  }
}

async function checkL1(p: Pass, l1Offset: number, l1Size: number, fragInfo: boolean): Promise<void> {
  if (!l1Size) return;
  const img = p.img;
  incRefs(p, l1Offset, l1Size * 8);
  const l1 = new Uint8Array(l1Size * 8);
  try {
    await img.file.read(l1, l1Offset);
  } catch {
    p.report('ERROR: I/O error in check_refcounts_l1');
    p.res.checkErrors++;
    throw new BlockError('EIO', 'I/O error in check_refcounts_l1');
  }
  for (let i = 0; i < l1Size; i++) {
    const hi = hiOf(l1, i * 8);
    const lo = loOf(l1, i * 8);
    if (hi === 0 && lo === 0) continue;
    if ((hi & L1E_RESERVED_HI) || (lo & L1E_RESERVED_LO)) {
      p.report(`ERROR found L1 entry with reserved bits set: ${entryHex(hi, lo)}`);
      p.res.corruptions++;
    }
    const l2Offset = entryOffset(hi, lo);
    incRefs(p, l2Offset, img.clusterSize);
    if (l2Offset % img.clusterSize !== 0) {
      p.report(`ERROR l2_offset=${hx(l2Offset)}: Table is not cluster aligned; L1 entry corrupted`);
      p.res.corruptions++;
    }
    await checkL2(p, l2Offset, fragInfo);
  }
}

/** Reference counts from the tables (calculate_refcounts). */
async function calculateRefcounts(p: Pass, withRefcountStructure = true): Promise<void> {
  const img = p.img;
  const h = img.header;
  const cs = img.clusterSize;
  incRefs(p, 0, cs);
  await checkL1(p, h.l1TableOffset, h.l1Size, true);
  for (const sn of img.snapshots) {
    if (sn.l1TableOffset % cs !== 0) {
      p.report(`ERROR snapshot ${sn.id} (${sn.name}) l1_offset=0x${hx(sn.l1TableOffset)}: L1 table is not cluster aligned; snapshot table entry corrupted`);
      p.res.corruptions++;
      continue;
    }
    if (sn.l1Size > MAX_L1_BYTES / 8) {
      p.report(`ERROR snapshot ${sn.id} (${sn.name}) l1_size=0x${hx(sn.l1Size)}: L1 table is too large; snapshot table entry corrupted`);
      p.res.corruptions++;
      continue;
    }
    await checkL1(p, sn.l1TableOffset, sn.l1Size, false);
  }
  incRefs(p, h.snapshotsOffset, img.snapshotTableSize);
  if (!withRefcountStructure) {
    await bitmapRefs(p);
    return;
  }
  incRefs(p, h.refcountTableOffset, img.reftableEntries * 8);
  await bitmapRefs(p);
  await checkRefblocks(p);
}

/** The bitmap directory, each bitmap table and its data clusters (qcow2_check_bitmaps_refcounts). */
async function bitmapRefs(p: Pass): Promise<void> {
  const img = p.img;
  let dir;
  try {
    dir = await loadBitmapDirectory(img.file, img.header);
  } catch {
    p.res.corruptions++;
    return;
  }
  if (!dir) return;
  incRefs(p, dir.offset, dir.size);
  for (const bm of dir.bitmaps) {
    incRefs(p, bm.tableOffset, bm.tableSize * 8);
    const table = new Uint8Array(bm.tableSize * 8);
    await img.file.read(table, bm.tableOffset);
    const v = new DataView(table.buffer);
    for (let i = 0; i < bm.tableSize; i++) {
      const e = v.getBigUint64(i * 8);
      const off = Number(e & BME_OFFSET_MASK);
      if ((e & ~BME_OFFSET_MASK & ~1n) !== 0n || off % img.clusterSize !== 0 || (off !== 0 && e & 1n)) {
        p.res.corruptions++;
        continue;
      }
      if (off) incRefs(p, off, img.clusterSize);
    }
  }
}

async function checkRefblocks(p: Pass): Promise<void> {
  const img = p.img;
  const cs = img.clusterSize;
  for (let i = 0; i < img.reftableEntries; i++) {
    const hi = hiOf(img.reftable, i * 8);
    const lo = loOf(img.reftable, i * 8);
    const offset = entryOffset(hi, lo);
    const cluster = Math.floor(offset / cs);
    if ((lo & 0x1ff) || (hi & 0xff000000)) {
      p.report(`ERROR refcount table entry ${i} has reserved bits set`);
      p.res.corruptions++;
      p.rebuild = true;
      continue;
    }
    if (offset % cs !== 0) {
      p.report(`ERROR refcount block ${i} is not cluster aligned; refcount table entry corrupted`);
      p.res.corruptions++;
      p.rebuild = true;
      continue;
    }
    if (cluster >= p.refs.length && offset !== 0) {
      p.res.corruptions++;
      p.report(`${p.fix.errors ? 'Repairing' : 'ERROR'} refcount block ${i} is outside image`);
      if (p.fix.errors) {
        try {
          await img.file.truncate(offset + cs);
          p.fileSize = await img.file.size();
          p.refs.grow(Math.ceil(p.fileSize / cs));
          p.res.corruptions--;
          p.res.corruptionsFixed++;
          incRefs(p, offset, cs);
          continue;
        } catch (err) {
          p.rebuild = true;
          p.report(`ERROR could not resize image: ${(err as Error).message}`);
        }
      }
      continue;
    }
    if (offset !== 0) {
      incRefs(p, offset, cs);
      if (p.refs.get(cluster) !== 1) {
        p.report(`ERROR refcount block ${i} refcount=${p.refs.get(cluster)}`);
        p.res.corruptions++;
        p.rebuild = true;
      }
    }
  }
}

/** The refcount the image stores for cluster `c`, or an error text when it cannot be read. */
async function storedRefcount(img: Qcow2Image, c: number): Promise<number | string> {
  const rt = Math.floor(c / 2 ** img.rbBits);
  if (rt >= img.reftableEntries) return 0;
  const rb = img.reftableOffset(rt);
  if (rb === 0) return 0;
  if (rb % img.clusterSize !== 0) return strerror('EIO');
  const block = img.rbCache.peek(rb) ?? (await img.rbCache.get(rb));
  return getRefcount(block, c % 2 ** img.rbBits, img.refcountOrder);
}

async function compareRefcounts(p: Pass, fix: CheckFix): Promise<number> {
  const img = p.img;
  let highest = 0;
  let changed = false;
  for (let i = 0; i < p.refs.length; i++) {
    const stored = await storedRefcount(img, i);
    if (typeof stored === 'string') {
      p.report(`Can't get refcount for cluster ${i}: ${stored}`);
      p.res.checkErrors++;
      continue;
    }
    const refs = p.refs.get(i);
    if (stored > 0 || refs > 0) highest = i;
    if (stored === refs) continue;
    let fixing: 'leaks' | 'errors' | null = null;
    if (stored === 0) p.rebuild = true;
    else if (stored > refs && fix.leaks) fixing = 'leaks';
    else if (stored < refs && fix.errors) fixing = 'errors';
    const what = fixing ? 'Repairing' : stored < refs ? 'ERROR' : 'Leaked';
    p.report(`${what} cluster ${i} refcount=${stored} reference=${refs}`);
    if (fixing) {
      try {
        await img.addRefcount(i, refs - stored);
        changed = true;
        if (fixing === 'leaks') p.res.leaksFixed++;
        else p.res.corruptionsFixed++;
        continue;
      } catch {
        // fall through: counted as not fixed
      }
    }
    if (stored < refs) p.res.corruptions++;
    else p.res.leaks++;
  }
  if (changed) {
    await img.rbCache.writeDirty();
    await img.file.datasync();
  }
  return highest;
}

/** The COPIED flags of the active L1 and its L2 tables must say "refcount is exactly 1". */
async function checkOflagCopied(p: Pass): Promise<void> {
  const img = p.img;
  const cs = img.clusterSize;
  const fixing = p.fix.errors;
  for (let i = 0; i < img.l1Size; i++) {
    const l1hi = hiOf(img.l1, i * 8);
    const l1lo = loOf(img.l1, i * 8);
    const l2Offset = entryOffset(l1hi, l1lo);
    if (!l2Offset) continue;
    const rc = await storedRefcount(img, Math.floor(l2Offset / cs));
    if (typeof rc === 'string') continue;
    const copied = (l1hi & L1E_COPIED_HI) !== 0;
    if ((rc === 1) !== copied) {
      p.res.corruptions++;
      p.report(`${fixing ? 'Repairing' : 'ERROR'} OFLAG_COPIED L2 cluster: l1_index=${i} l1_entry=${entryHex(l1hi, l1lo)} refcount=${rc}`);
      if (fixing) {
        img.setL1(i, l2Offset, rc === 1);
        await img.flushMetadata();
        p.res.corruptions--;
        p.res.corruptionsFixed++;
      }
    }
    const table = new Uint8Array(cs);
    try {
      await img.file.read(table, l2Offset);
    } catch (err) {
      p.report(`ERROR: Could not read L2 table: ${(err as Error).message}`);
      p.res.checkErrors++;
      return;
    }
    let dirty = 0;
    for (let j = 0; j < img.l2Entries; j++) {
      const hi = hiOf(table, j * 8);
      const lo = loOf(table, j * 8);
      const kind = l2Kind(hi, lo, true);
      if (kind !== ClusterKind.Normal && kind !== ClusterKind.ZeroAlloc) continue;
      const drc = await storedRefcount(img, Math.floor(entryOffset(hi, lo) / cs));
      if (typeof drc === 'string') continue;
      if ((drc === 1) !== ((hi & L2E_COPIED_HI) !== 0)) {
        p.res.corruptions++;
        p.report(`${fixing ? 'Repairing' : 'ERROR'} OFLAG_COPIED data cluster: l2_entry=${entryHex(hi, lo)} refcount=${drc}`);
        if (fixing) {
          put64(table, j * 8, (drc === 1 ? hi | L2E_COPIED_HI : hi & ~L2E_COPIED_HI) >>> 0, lo);
          dirty++;
        }
      }
    }
    if (dirty) {
      await img.file.write(table, l2Offset);
      await img.file.datasync();
      img.l2Cache.forget(l2Offset);
      p.res.corruptions -= dirty;
      p.res.corruptionsFixed += dirty;
    }
  }
}

/**
 * Writes a whole new refcount structure from the in-memory counts (QEMU's
 * rebuild_refcount_structure): each refcount block goes into the first free cluster at or after
 * the start of the range it describes, the table after them, and one header write switches to
 * it. The old structure's clusters stay counted and show up as leaks in the next pass, where
 * they are repaired (QEMU's output, line for line).
 */
async function rebuildRefcountStructure(p: Pass): Promise<void> {
  const img = p.img;
  const cs = img.clusterSize;
  const perBlock = 2 ** img.rbBits;
  const refs = p.refs;
  let table: number[] = [];
  const allocImrt = (count: number, firstFree: { v: number }): number => {
    let c = firstFree.v;
    let run = 0;
    let firstGap = true;
    for (; c < refs.length && run < count; c++) {
      if (!refs.get(c)) {
        run++;
        if (firstGap) {
          firstFree.v = c;
          firstGap = false;
        }
      } else run = 0;
    }
    if (run < count) refs.grow(c + count - run);
    c -= run;
    for (let i = 0; i < count; i++) refs.set(c + i, 1);
    return c;
  };
  const writeBlocks = async (first: number, endCluster: number): Promise<boolean> => {
    let grown = false;
    const firstFree = { v: 0 };
    for (let c = first; c < endCluster; c++) {
      if (!refs.get(c)) continue;
      const rt = Math.floor(c / perBlock);
      const start = rt * perBlock;
      let blockCluster: number;
      if (table.length > rt && table[rt]) blockCluster = table[rt]!;
      else {
        if (firstFree.v < start) firstFree.v = start;
        blockCluster = allocImrt(1, firstFree);
        if (blockCluster >= endCluster) endCluster = blockCluster + 1;
        if (table.length <= rt) {
          const entries = Math.ceil(((rt + 1) * 8) / cs) * (cs / 8);
          table = table.concat(new Array(entries - table.length).fill(0));
          grown = true;
        }
        table[rt] = blockCluster;
      }
      const block = new Uint8Array(cs);
      for (let k = 0; k < perBlock; k++) {
        const v = refs.get(start + k);
        if (v) setRefcount(block, k, img.refcountOrder, v);
      }
      await img.file.write(block, blockCluster * cs);
      c = start + perBlock - 1;
    }
    return grown;
  };
  let changed = await writeBlocks(0, refs.length);
  let tableCluster = 0;
  let tableClusters = 0;
  while (changed) {
    tableClusters = Math.ceil((table.length * 8) / cs);
    tableCluster = allocImrt(tableClusters, { v: 0 });
    changed = await writeBlocks(tableCluster, tableCluster + tableClusters);
  }
  const bytes = new Uint8Array(tableClusters * cs);
  table.forEach((c, i) => {
    if (!c) return;
    const [hi, lo] = makeEntry(c * cs, 0);
    put64(bytes, i * 8, hi, lo);
  });
  await img.file.write(bytes, tableCluster * cs);
  await img.file.datasync();
  const header = { ...img.header, refcountTableOffset: tableCluster * cs, refcountTableClusters: tableClusters };
  img.header = header;
  await img.writeHeader();
  await img.file.datasync();
  await img.reload(header);
}

/** Runs the whole check (and repair, per `fix`) on an open image. */
export async function checkQcow2(img: Qcow2Image, fix: CheckFix, report: Reporter): Promise<CheckResult> {
  const res = emptyCheckResult();
  img.snapshots.forEach((sn, i) => {
    if (!sn.incomplete) return;
    report(`ERROR snapshot table entry ${i} is incomplete`);
    res.corruptions++;
  });
  const cs = img.clusterSize;
  const fileSize = await img.file.size();
  res.totalClusters = Math.ceil((Math.ceil(img.size / 512) * 512) / cs);
  let p: Pass = { img, res, fix, report, refs: new RefArray(img.refcountOrder, Math.ceil(fileSize / cs)), rebuild: false, fileSize };
  await calculateRefcounts(p);
  const before = { ...res };
  let highest = await compareRefcounts(p, { leaks: false, errors: false });
  if (p.rebuild && fix.errors) {
    const old = { ...res };
    report('Rebuilding refcount structure');
    await rebuildRefcountStructure(p);
    res.corruptions = 0;
    res.leaks = 0;
    const again = emptyCheckResult();
    const size = await img.file.size();
    p = { img, res: again, fix: { leaks: false, errors: false }, report, refs: new RefArray(img.refcountOrder, Math.ceil(size / cs)), rebuild: false, fileSize: size };
    await calculateRefcounts(p);
    const saved = { ...again };
    let freshLeaks = 0;
    if (fix.leaks) {
      p.res = emptyCheckResult();
      highest = await compareRefcounts(p, { leaks: true, errors: false });
      if (p.rebuild) report('ERROR rebuilt refcount structure is still broken');
      freshLeaks = p.res.leaks;
    } else {
      highest = await compareRefcounts({ ...p, res: emptyCheckResult() }, { leaks: false, errors: false });
    }
    Object.assign(res, saved, { corruptionsFixed: res.corruptionsFixed, leaksFixed: res.leaksFixed });
    res.totalClusters = old.totalClusters;
    if (res.corruptions < old.corruptions) res.corruptionsFixed += old.corruptions - res.corruptions;
    if (res.leaks < old.leaks) res.leaksFixed += old.leaks - res.leaks;
    res.leaks += freshLeaks;
    p.res = res;
  } else if (fix.leaks || fix.errors) {
    if (p.rebuild) {
      report('ERROR need to rebuild refcount structures');
      res.checkErrors++;
      res.failed = 'EIO';
      return res;
    }
    if (res.leaks || res.corruptions) {
      Object.assign(res, before);
      highest = await compareRefcounts(p, fix);
    }
  }
  await checkOflagCopied(p);
  res.imageEndOffset = (highest + 1) * cs;
  if ((fix.leaks || fix.errors) && res.checkErrors === 0 && res.corruptions === 0) {
    const f = img.header.incompatibleFeatures;
    const clean = f & ~INCOMPAT_DIRTY & ~INCOMPAT_CORRUPT;
    if (clean !== f && img.header.version >= 3) {
      img.header = { ...img.header, incompatibleFeatures: clean };
      await img.writeHeader();
      await img.file.datasync();
    }
  }
  return res;
}

/** What QEMU does when it opens a dirty image read-write: repair everything, quietly. */
export async function repairDirtyImage(img: Qcow2Image): Promise<void> {
  const res = await checkQcow2(img, { leaks: true, errors: true }, () => {});
  if (res.checkErrors || res.corruptions) throw new BlockError('EIO', 'Could not repair dirty image: Input/output error');
  img.resetCaches();
}
