// Atomic metadata changes by shadow copy: a transaction writes every table it changes (L1, L2,
// snapshot table, refcount blocks, refcount table) to clusters that are free in the current
// image, makes them durable, and commits by rewriting the header once (one sector), as a
// copy-on-write file system commits its superblock. A crash before the header write leaves the
// old image untouched; after it, the new one complete. Snapshot create/apply/delete and resize
// use this: QEMU updates those tables in place, where a crash can leave COPIED flags or
// refcounts that `qemu-img check` reports as corruption.
import { BlockError } from '../errors';
import { getRefcount, makeEntry, put64, setRefcount } from './entries';
import type { Qcow2Header } from './header';
import type { Qcow2Image } from './image';

export class Transaction {
  /** Refcount changes by host cluster index. */
  private readonly deltas = new Map<number, number>();
  /** Clusters this transaction allocated (free in the current image). */
  private readonly claimed = new Set<number>();
  /** New contents to write, by host offset. */
  private readonly writes = new Map<number, Uint8Array>();
  private hint = 1;

  constructor(readonly img: Qcow2Image) {}

  delta(cluster: number, d: number): void {
    const v = (this.deltas.get(cluster) ?? 0) + d;
    if (v === 0) this.deltas.delete(cluster);
    else this.deltas.set(cluster, v);
  }

  /** The refcount cluster `c` will have once the transaction commits. */
  async finalRefcount(c: number): Promise<number> {
    return (await this.img.refcount(c)) + (this.deltas.get(c) ?? 0);
  }

  /** One reference more (or less) to every cluster of a byte range. */
  deltaBytes(offset: number, length: number, d: number): void {
    const cs = this.img.clusterSize;
    for (let c = Math.floor(offset / cs); c <= Math.floor((offset + length - 1) / cs); c++) this.delta(c, d);
  }

  /** Allocates `n` contiguous clusters free in the current image; returns the byte offset. */
  async alloc(n: number): Promise<number> {
    let start = this.hint;
    let run = 0;
    for (let c = this.hint; run < n; c++) {
      if (!this.claimed.has(c) && !(await this.isProtected(c)) && (await this.img.refcount(c)) === 0) {
        if (run === 0) start = c;
        run++;
      } else run = 0;
    }
    for (let i = 0; i < n; i++) {
      this.claimed.add(start + i);
      this.delta(start + i, 1);
    }
    if (start === this.hint) this.hint = start + n;
    return start * this.img.clusterSize;
  }

  private async isProtected(c: number): Promise<boolean> {
    // Cluster 0 and the live tables listed in the header are never free, whatever refcounts say.
    const h = this.img.header;
    const cs = this.img.clusterSize;
    const inRange = (off: number, bytes: number) => bytes > 0 && c >= Math.floor(off / cs) && c < Math.ceil((off + bytes) / cs);
    return c === 0 || inRange(h.l1TableOffset, h.l1Size * 8) || inRange(h.refcountTableOffset, h.refcountTableClusters * cs) ||
      inRange(h.snapshotsOffset, this.img.snapshotTableSize);
  }

  /** Allocates clusters for `data` and schedules it; returns its offset. */
  async place(data: Uint8Array): Promise<number> {
    const cs = this.img.clusterSize;
    const n = Math.max(1, Math.ceil(data.length / cs));
    const offset = await this.alloc(n);
    const padded = new Uint8Array(n * cs);
    padded.set(data);
    this.writes.set(offset, padded);
    return offset;
  }

  /**
   * Builds the new refcount blocks and table, writes everything, syncs, writes `header` (with
   * the new refcount table filled in), syncs, and reloads the image from it.
   */
  async commit(header: Qcow2Header): Promise<void> {
    const img = this.img;
    await img.drainReads(); // what this frees may be reused right after the commit
    if (this.deltas.size === 0 && this.writes.size === 0) {
      // Nothing but header fields change: the header write alone is the commit.
      img.header = header;
      await img.writeHeader();
      await img.file.datasync();
      await img.reload(header);
      return;
    }
    const cs = img.clusterSize;
    const perBlock = 2 ** img.rbBits;
    const oldTableClusters = img.header.refcountTableClusters;
    const oldTableFirst = img.header.refcountTableOffset / cs;
    for (let i = 0; i < oldTableClusters; i++) this.delta(oldTableFirst + i, -1);
    const newBlockAt = new Map<number, number>();
    let tableOffset = 0;
    let tableClusters = 0;
    for (;;) {
      let changed = false;
      const touched = new Set<number>();
      for (const c of this.deltas.keys()) touched.add(Math.floor(c / perBlock));
      for (const rt of [...touched].sort((a, b) => a - b)) {
        if (newBlockAt.has(rt)) continue;
        newBlockAt.set(rt, await this.alloc(1));
        const old = rt < img.reftableEntries ? img.reftableOffset(rt) : 0;
        if (old) this.delta(old / cs, -1);
        changed = true;
      }
      const maxRt = Math.max(img.reftableEntries - 1, ...newBlockAt.keys());
      const needClusters = Math.ceil(((maxRt + 1) * 8) / cs);
      if (needClusters !== tableClusters) {
        if (tableClusters) {
          for (let i = 0; i < tableClusters; i++) {
            this.claimed.delete(tableOffset / cs + i);
            this.delta(tableOffset / cs + i, -1);
          }
        }
        tableClusters = needClusters;
        tableOffset = await this.alloc(tableClusters);
        changed = true;
      }
      if (!changed) break;
    }
    const table = new Uint8Array(tableClusters * cs);
    table.set(img.reftable.subarray(0, Math.min(img.reftable.length, table.length)));
    for (const [rt, off] of newBlockAt) {
      const old = rt < img.reftableEntries ? img.reftableOffset(rt) : 0;
      const block = old ? (await img.rbCache.get(old)).slice() : new Uint8Array(cs);
      for (let i = 0; i < perBlock; i++) {
        const d = this.deltas.get(rt * perBlock + i);
        if (!d) continue;
        const v = getRefcount(block, i, img.refcountOrder) + d;
        if (v < 0) throw new BlockError('EIO', `Refcount of cluster ${rt * perBlock + i} would become negative (corrupt image)`);
        if (v > img.refcountMax) throw new BlockError('ERANGE', `refcount overflow on cluster ${rt * perBlock + i}`);
        setRefcount(block, i, img.refcountOrder, v);
      }
      this.writes.set(off, block);
      const [hi, lo] = makeEntry(off, 0);
      put64(table, rt * 8, hi, lo);
    }
    this.writes.set(tableOffset, table);
    for (const [off, data] of [...this.writes.entries()].sort((a, b) => a[0] - b[0])) {
      await img.file.write(data, off);
    }
    await img.file.datasync();
    const next = { ...header, refcountTableOffset: tableOffset, refcountTableClusters: tableClusters };
    img.header = next;
    await img.writeHeader();
    await img.file.datasync();
    await img.reload(next);
  }
}
