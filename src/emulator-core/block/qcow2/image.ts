// The state of one open QCOW2 file and the rules that keep it consistent on disk: the header, the
// active L1 table, the refcount table and blocks, cluster allocation, and the ordered flush.
//
// Crash safety (the order QEMU's qcow2-cache dependencies enforce, made explicit): a reference to a
// cluster is never written before the cluster's refcount and content are durable, and a refcount
// is never lowered before the last reference to it is durable. Concretely, `flushMetadata` writes
//   1. refcount blocks (only increments live in memory), then fdatasync   (refcounts + new data durable)
//   2. L2 tables, then fdatasync                                         (new tables durable)
//   3. L1 sectors, then fdatasync
//   4. the deferred decrements (clusters freed by COW, discard, compressed overwrite), then fdatasync.
// Between steps the file holds at worst clusters with a refcount higher than their references
// (leaks, which `qemu-img check` reports but which are not corruption). Structural changes (a new
// refcount block, a bigger refcount table, a bigger L1, a snapshot) write their new tables to
// free clusters first and switch to them with one header (or one table sector) write.
import { BlockError, corruptionError } from '../errors';
import type { HostFile } from '../host-file';
import { MAX_L1_BYTES, MAX_REFTABLE_BYTES, INCOMPAT_CORRUPT, INCOMPAT_DIRTY, COMPAT_LAZY_REFCOUNTS } from './constants';
import {
  entryOffset, nonZeroEntries, getRefcount, hiOf, L1E_COPIED_HI, loOf, makeEntry, maxRefcount, put64, setRefcount,
  compressedGeometry, type CompressedGeometry,
} from './entries';
import { parseHeader, serializeHeader, validateHeaderTables, type Qcow2Header, HEADER_PROBE_BYTES, peekClusterBits } from './header';
import { parseSnapshotTable, type Snapshot } from './snapshot-table';
import { TableCache } from './table-cache';

export interface Qcow2OpenOptions {
  readOnly: boolean;
  /** L2 cache capacity in tables (default: enough to map the whole image, at most 32 MiB of tables). */
  l2CacheTables?: number;
  /** Refcount block cache capacity in blocks (default: a quarter of the L2 cache, at least 4). */
  refblockCacheTables?: number;
}

const SECTOR = 512;

export class Qcow2Image {
  header: Qcow2Header;
  readonly clusterBits: number;
  readonly clusterSize: number;
  /** Entries per L2 table. */
  readonly l2Entries: number;
  readonly refcountOrder: number;
  /** log2 of the refcount entries per refcount block. */
  readonly rbBits: number;
  readonly refcountMax: number;
  readonly compressed: CompressedGeometry;

  /** Active L1 table, as on disk (big-endian entries). */
  l1: Uint8Array;
  private readonly l1DirtySectors = new Set<number>();
  /** Refcount table, as on disk. */
  reftable: Uint8Array;
  snapshots: Snapshot[] = [];
  /** Bytes the snapshot table occupies (for its refcount). */
  snapshotTableSize = 0;

  readonly l2Cache: TableCache;
  readonly rbCache: TableCache;

  /** Refcount decrements that wait until the references they drop are durable. */
  private pendingFrees = new Map<number, number>();
  /** No cluster below this index is free (a search starts here). */
  private freeHint = 0;
  /** Data was written since the last flush (an fdatasync is owed). */
  private dataDirty = false;
  /** Bytes of a partly used cluster where the next compressed cluster goes (QEMU's free_byte_offset). */
  freeByteOffset = 0;

  private constructor(
    readonly file: HostFile,
    header: Qcow2Header,
    readonly readOnly: boolean,
    l1: Uint8Array,
    reftable: Uint8Array,
    options: Qcow2OpenOptions,
  ) {
    this.header = header;
    this.clusterBits = header.clusterBits;
    this.clusterSize = 2 ** header.clusterBits;
    this.l2Entries = this.clusterSize / 8;
    this.refcountOrder = header.refcountOrder;
    this.rbBits = header.clusterBits + 3 - header.refcountOrder;
    this.refcountMax = maxRefcount(header.refcountOrder);
    this.compressed = compressedGeometry(header.clusterBits);
    this.l1 = l1;
    this.reftable = reftable;
    const wholeImageTables = Math.ceil(header.size / (this.clusterSize * this.l2Entries));
    const maxTables = Math.max(4, Math.floor((32 * 1024 * 1024) / this.clusterSize));
    const l2Tables = options.l2CacheTables ?? Math.min(maxTables, Math.max(16, wholeImageTables));
    this.l2Cache = new TableCache(file, this.clusterSize, l2Tables);
    this.rbCache = new TableCache(file, this.clusterSize, options.refblockCacheTables ?? Math.max(4, l2Tables >> 2));
  }

  /** Reads and validates the header, L1, refcount table and snapshot table. */
  static async open(file: HostFile, options: Qcow2OpenOptions): Promise<Qcow2Image> {
    const fileSize = await file.size();
    const probe = new Uint8Array(HEADER_PROBE_BYTES);
    await file.read(probe, 0);
    if (fileSize < 72) throw new BlockError('EINVAL', 'Image is not in qcow2 format');
    const clusterBits = peekClusterBits(probe);
    const first = new Uint8Array(2 ** clusterBits);
    await file.read(first, 0);
    const header = parseHeader(first);
    validateHeaderTables(header);
    if (!options.readOnly && header.incompatibleFeatures & INCOMPAT_CORRUPT) {
      throw new BlockError('EACCES', 'qcow2: Image is corrupt; cannot be opened read/write');
    }
    const clusterSize = 2 ** clusterBits;
    const reftable = new Uint8Array(header.refcountTableClusters * clusterSize);
    await file.read(reftable, header.refcountTableOffset);
    const l1 = new Uint8Array(header.l1Size * 8);
    if (l1.length) await file.read(l1, header.l1TableOffset);
    const image = new Qcow2Image(file, header, options.readOnly, l1, reftable, options);
    await image.loadSnapshots();
    image.freeHint = 0;
    return image;
  }

  /** Reads the snapshot table; throws on anything that does not parse. */
  private async loadSnapshots(): Promise<void> {
    const h = this.header;
    if (h.nbSnapshots === 0) {
      this.snapshots = [];
      this.snapshotTableSize = 0;
      return;
    }
    let want = Math.min(64 * 1024, 64 * 1024 * 1024);
    for (;;) {
      const buf = new Uint8Array(want);
      await this.file.read(buf, h.snapshotsOffset);
      try {
        const { snapshots, size } = parseSnapshotTable(buf, h.nbSnapshots, h.version);
        this.snapshots = snapshots;
        this.snapshotTableSize = size;
        return;
      } catch (err) {
        if (err instanceof BlockError && err.message === 'Snapshot table is truncated' && want < 64 * 1024 * 1024) {
          want *= 4;
          continue;
        }
        throw err;
      }
    }
  }

  get v3(): boolean {
    return this.header.version === 3;
  }

  get size(): number {
    return this.header.size;
  }

  get l1Size(): number {
    return this.header.l1Size;
  }

  // ---- L1 ---------------------------------------------------------------------------------

  /** The L2 table offset in L1 entry `i` (0 if none). */
  l1Offset(i: number): number {
    return entryOffset(hiOf(this.l1, i * 8), loOf(this.l1, i * 8));
  }

  l1Copied(i: number): boolean {
    return (hiOf(this.l1, i * 8) & L1E_COPIED_HI) !== 0;
  }

  setL1(i: number, offset: number, copied: boolean): void {
    const [hi, lo] = makeEntry(offset, copied && offset ? L1E_COPIED_HI : 0);
    put64(this.l1, i * 8, hi, lo);
    if (offset) this.protectCluster(offset);
    this.l1DirtySectors.add(Math.floor((i * 8) / SECTOR));
  }

  // ---- refcounts --------------------------------------------------------------------------

  get reftableEntries(): number {
    return this.reftable.length / 8;
  }

  reftableOffset(i: number): number {
    return entryOffset(hiOf(this.reftable, i * 8), loOf(this.reftable, i * 8));
  }

  /** The refcount of host cluster `c` as the image (with our in-memory changes) has it. */
  async refcount(c: number): Promise<number> {
    const block = await this.refblockOf(c);
    return block === null ? 0 : getRefcount(block, c % 2 ** this.rbBits, this.refcountOrder);
  }

  /** The refcount block describing host cluster `c`, or null when there is none (all zero). */
  private async refblockOf(c: number): Promise<Uint8Array | null> {
    const rt = Math.floor(c / 2 ** this.rbBits);
    if (rt >= this.reftableEntries) return null;
    const rb = this.reftableOffset(rt);
    if (rb === 0) return null;
    this.checkRefblockOffset(rb, rt);
    return this.rbCache.peek(rb) ?? (await this.rbCache.get(rb));
  }

  private checkRefblockOffset(rb: number, rt: number): void {
    if (rb % this.clusterSize !== 0) {
      throw corruptionError(`Refblock offset ${hex(rb)} unaligned (reftable index: ${hex(rt)})`);
    }
  }

  /** Adds `delta` (may be negative) to the refcount of cluster `c`, in the cache. */
  async addRefcount(c: number, delta: number): Promise<number> {
    const rt = Math.floor(c / 2 ** this.rbBits);
    await this.ensureRefblock(rt, c + 1);
    const rb = this.reftableOffset(rt);
    const block = await this.rbCache.get(rb);
    const idx = c % 2 ** this.rbBits;
    const old = getRefcount(block, idx, this.refcountOrder);
    const next = old + delta;
    if (next < 0) {
      throw corruptionError(`Refcount of cluster ${c} would become negative`);
    }
    if (next > this.refcountMax) {
      throw new BlockError('ERANGE', `refcount overflow on cluster ${c} (limit ${this.refcountMax})`);
    }
    setRefcount(block, idx, this.refcountOrder, next);
    this.rbCache.markDirty(rb);
    return next;
  }

  /** True when no refcount block describes cluster `c` (its refcount is then 0). */
  private uncovered(c: number): boolean {
    const rt = Math.floor(c / 2 ** this.rbBits);
    return rt >= this.reftableEntries || this.reftableOffset(rt) === 0;
  }

  /** First cluster at or after `from` that is free and may be handed out. */
  private async findFreeCluster(from: number): Promise<number> {
    for (let c = Math.max(from, this.freeHint); ; c++) {
      if (this.pendingFrees.has(c) || this.isCoreMetadata(c)) continue;
      if ((await this.refcount(c)) === 0) return c;
    }
  }

  /**
   * Makes sure refcount block `rt` exists, placing a new one at the first free cluster at or
   * after `avoidEnd` (so a run being allocated below it stays free), as QEMU's
   * alloc_refcount_block does. A block inside the range it describes counts itself; one
   * elsewhere is counted by the block of its own range, which is written and synced first. The
   * new block is durable before the table entry that points to it is written.
   */
  private async ensureRefblock(rt: number, avoidEnd = 0): Promise<void> {
    if (rt >= this.reftableEntries) await this.growReftable(rt + 1, avoidEnd);
    if (this.reftableOffset(rt) !== 0) return;
    const perBlock = 2 ** this.rbBits;
    for (;;) {
      const x = await this.findFreeCluster(avoidEnd);
      const home = Math.floor(x / perBlock);
      const block = new Uint8Array(this.clusterSize);
      const offset = x * this.clusterSize;
      if (home === rt) {
        setRefcount(block, x - rt * perBlock, this.refcountOrder, 1);
        await this.file.write(block, offset);
        await this.file.datasync();
      } else {
        if (this.uncovered(x)) {
          await this.ensureRefblock(home, avoidEnd);
          continue; // x may be taken now
        }
        await this.file.write(block, offset);
        await this.addRefcount(x, 1);
        const homeOffset = this.reftableOffset(home);
        await this.file.write(this.rbCache.peek(homeOffset)!, homeOffset);
        await this.file.datasync();
      }
      const [hi, lo] = makeEntry(offset, 0);
      put64(this.reftable, rt * 8, hi, lo);
      await this.writeReftableSector(rt);
      await this.file.datasync();
      this.rbCache.put(offset, block, false);
      this.protectCluster(offset);
      return;
    }
  }

  private async writeReftableSector(rt: number): Promise<void> {
    const sector = Math.floor((rt * 8) / SECTOR);
    const start = sector * SECTOR;
    await this.file.write(this.reftable.subarray(start, start + SECTOR), this.header.refcountTableOffset + start);
  }

  /**
   * Moves the refcount table to a bigger one. The new table and the refcount blocks describing it
   * go to uncovered space (past everything the old table can describe, and past `avoidEnd`); the
   * header switch is one sector write; the old table's clusters are freed afterwards.
   */
  private async growReftable(minEntries: number, avoidEnd = 0): Promise<void> {
    const cs = this.clusterSize;
    const perBlock = 2 ** this.rbBits;
    const oldEntries = this.reftableEntries;
    const area = Math.max(oldEntries * perBlock, avoidEnd);
    const firstRange = Math.floor(area / perBlock);
    let k = 1;
    let entries = 0;
    let tableClusters = 0;
    for (;;) {
      // k blocks, then the table; the table must reach every range the area touches, and each
      // of those ranges needs one of the k blocks.
      entries = Math.max(minEntries, Math.ceil(oldEntries * 1.5));
      let lastRange: number;
      for (;;) {
        tableClusters = Math.ceil((entries * 8) / cs);
        lastRange = Math.floor((area + k + tableClusters - 1) / perBlock);
        if (entries >= lastRange + 1) break;
        entries = lastRange + 1;
      }
      const ranges = lastRange - firstRange + 1;
      if (ranges <= k) break;
      k = ranges;
    }
    if (tableClusters * cs > MAX_REFTABLE_BYTES) throw new BlockError('EFBIG', 'Reference count table too large');
    const newTable = new Uint8Array(tableClusters * cs);
    newTable.set(this.reftable);
    const used = k + tableClusters;
    const blocks = new Map<number, Uint8Array>();
    for (let c = area; c < area + used; c++) {
      const r = Math.floor(c / perBlock);
      let b = blocks.get(r);
      if (!b) blocks.set(r, (b = new Uint8Array(cs)));
      setRefcount(b, c - r * perBlock, this.refcountOrder, 1);
    }
    let j = 0;
    for (const [r, block] of [...blocks.entries()].sort((a, b) => a[0] - b[0])) {
      const off = (area + j++) * cs;
      await this.file.write(block, off);
      const [hi, lo] = makeEntry(off, 0);
      put64(newTable, r * 8, hi, lo);
      this.rbCache.put(off, block, false);
    }
    const tableOffset = (area + k) * cs;
    await this.file.write(newTable, tableOffset);
    await this.file.datasync();
    const oldOffset = this.header.refcountTableOffset;
    const oldClusters = this.header.refcountTableClusters;
    this.header = { ...this.header, refcountTableOffset: tableOffset, refcountTableClusters: tableClusters };
    await this.writeHeader();
    await this.file.datasync();
    this.reftable = newTable;
    this.protectedClusters = null;
    for (let i = 0; i < oldClusters; i++) this.deferFree(oldOffset / cs + i, 1);
  }

  /** Queues a refcount decrement for after the next ordered metadata write. */
  deferFree(cluster: number, count = 1): void {
    this.pendingFrees.set(cluster, (this.pendingFrees.get(cluster) ?? 0) + count);
  }

  /** Frees the host clusters covering [offset, offset+length) (e.g. a compressed cluster's data). */
  deferFreeBytes(offset: number, length: number): void {
    const first = Math.floor(offset / this.clusterSize);
    const last = Math.floor((offset + length - 1) / this.clusterSize);
    for (let c = first; c <= last; c++) this.deferFree(c);
  }

  /**
   * Overlap protection (QEMU's overlap-check=cached): clusters holding the header, the L1 tables,
   * the active L2 tables, the refcount table and blocks and the snapshot table must never be
   * handed out for data, whatever the refcounts say; a refcount that claims one is free means the
   * image is corrupt, and we stop before writing over it.
   */
  private protectedClusters: Set<number> | null = null;

  private isCoreMetadata(c: number): boolean {
    if (!this.protectedClusters) this.protectedClusters = this.collectProtected();
    return this.protectedClusters.has(c);
  }

  /** Records a new metadata cluster (L2 table, refcount block) for overlap protection. */
  protectCluster(offset: number): void {
    this.protectedClusters?.add(offset / this.clusterSize);
  }

  unprotectCluster(offset: number): void {
    this.protectedClusters?.delete(offset / this.clusterSize);
  }

  private collectProtected(): Set<number> {
    const cs = this.clusterSize;
    const h = this.header;
    const set = new Set<number>([0]);
    const range = (off: number, bytes: number) => {
      for (let c = Math.floor(off / cs); bytes > 0 && c < Math.ceil((off + bytes) / cs); c++) set.add(c);
    };
    range(h.l1TableOffset, h.l1Size * 8);
    range(h.refcountTableOffset, h.refcountTableClusters * cs);
    range(h.snapshotsOffset, this.snapshotTableSize);
    for (const sn of this.snapshots) range(sn.l1TableOffset, sn.l1Size * 8);
    for (const i of nonZeroEntries(this.l1)) {
      const off = this.l1Offset(i);
      if (off && i < this.l1Size) set.add(Math.floor(off / cs));
    }
    for (const i of nonZeroEntries(this.reftable)) {
      const off = this.reftableOffset(i);
      if (off) set.add(Math.floor(off / cs));
    }
    return set;
  }

  /**
   * Allocates `n` contiguous free clusters (refcount 0 -> 1) and returns the offset of the first.
   * With `atMost`, takes the first free run, even if shorter than n.
   */
  async allocClusters(n: number, atMost = false): Promise<{ offset: number; count: number }> {
    if (this.readOnly) throw new BlockError('EROFS', 'Image opened read-only');
    const perBlock = 2 ** this.rbBits;
    let start = this.freeHint;
    let run = 0;
    // One refcount block at a time: the clusters it describes are scanned without an await each
    // (a convert allocates every cluster of the image here).
    scan: for (let c = start; run < n;) {
      const block = await this.refblockOf(c);
      for (const blockEnd = (Math.floor(c / perBlock) + 1) * perBlock; c < blockEnd && run < n; c++) {
        const free = !this.pendingFrees.has(c) && !this.isCoreMetadata(c) &&
          (block === null || getRefcount(block, c % perBlock, this.refcountOrder) === 0);
        if (free) {
          if (run === 0) start = c;
          run++;
        } else {
          if (atMost && run > 0) break scan;
          run = 0;
        }
      }
    }
    // Refcount blocks the run needs go after it (ensureRefblock's avoidEnd), so it stays free.
    for (let rt = Math.floor(start / perBlock); rt <= Math.floor((start + run - 1) / perBlock); rt++) {
      await this.ensureRefblock(rt, start + run);
    }
    for (let c = start; c < start + run;) {
      // The run's refcounts (all 0 -> 1), a refcount block at a time.
      const rb = this.reftableOffset(Math.floor(c / perBlock));
      const block = await this.rbCache.get(rb);
      for (const blockEnd = Math.min(start + run, (Math.floor(c / perBlock) + 1) * perBlock); c < blockEnd; c++) {
        setRefcount(block, c % perBlock, this.refcountOrder, getRefcount(block, c % perBlock, this.refcountOrder) + 1);
      }
      this.rbCache.markDirty(rb);
    }
    // Like QEMU's free_cluster_index: the next search starts after this run (frees move it back).
    this.freeHint = start + run;
    return { offset: start * this.clusterSize, count: run };
  }

  /**
   * Allocates `size` bytes (at most one cluster) for compressed data, packed right after the
   * previous compressed cluster as QEMU's qcow2_alloc_bytes does: every host cluster the bytes
   * touch gets one more reference; data may spill into the next cluster only if that one is free.
   */
  async allocBytes(size: number): Promise<number> {
    const cs = this.clusterSize;
    let offset = this.freeByteOffset;
    if (offset && (await this.refcount(Math.floor(offset / cs))) >= this.refcountMax) offset = 0;
    const freeInCluster = offset ? cs - (offset % cs) : 0;
    if (!offset || freeInCluster < size) {
      const fresh = (await this.allocClusters(1)).offset;
      if (offset && Math.ceil(offset / cs) * cs === fresh) await this.addRefcount(Math.floor(offset / cs), 1);
      else offset = fresh;
    } else {
      await this.addRefcount(Math.floor(offset / cs), 1);
    }
    this.freeByteOffset = (offset + size) % cs === 0 ? 0 : offset + size;
    return offset;
  }

  noteDataWritten(): void {
    this.dataDirty = true;
  }

  get hasPendingMetadata(): boolean {
    return this.rbCache.hasDirty() || this.l2Cache.hasDirty() || this.l1DirtySectors.size > 0 || this.pendingFrees.size > 0;
  }

  get needsFlush(): boolean {
    return this.l2Cache.overCapacity || this.rbCache.overCapacity || this.pendingFrees.size > 4096;
  }

  /** Writes all metadata in the crash-safe order (see the top of this file) and makes it durable. */
  async flushMetadata(): Promise<void> {
    if (this.readOnly) return;
    const refs = this.rbCache.hasDirty();
    const l2 = this.l2Cache.hasDirty();
    const l1 = this.l1DirtySectors.size > 0;
    // Taken before the sync: data a request outside the lock finishes writing meanwhile sets it
    // again, so the next flush still syncs it.
    const data = this.dataDirty;
    this.dataDirty = false;
    try {
      if (refs) await this.rbCache.writeDirty();
      if (refs || data || l2 || l1) await this.file.datasync();
    } catch (err) {
      if (data) this.dataDirty = true;
      throw err;
    }
    if (l2) {
      await this.l2Cache.writeDirty();
      await this.file.datasync();
    }
    if (l1) {
      const sectors = [...this.l1DirtySectors].sort((a, b) => a - b);
      for (const s of sectors) {
        const start = s * SECTOR;
        await this.file.write(this.l1.subarray(start, start + SECTOR), this.header.l1TableOffset + start);
        this.l1DirtySectors.delete(s); // only once written: a failed write (ENOSPC) is retried
      }
      await this.file.datasync();
    }
    if (this.pendingFrees.size) await this.applyFrees();
  }

  /**
   * Waits until no read or write is using a cluster outside the lock (set by the driver): a
   * freed cluster may be reused at once, and an I/O still on its way must not touch someone
   * else's data.
   */
  drainReads: () => Promise<void> = async () => undefined;

  private async applyFrees(): Promise<void> {
    await this.drainReads();
    const frees = [...this.pendingFrees.entries()].sort((a, b) => a[0] - b[0]);
    this.pendingFrees = new Map();
    let lowest = Infinity;
    for (const [c, n] of frees) {
      const left = await this.addRefcount(c, -n);
      if (left === 0) {
        lowest = Math.min(lowest, c);
        this.protectedClusters?.delete(c);
        this.l2Cache.forget(c * this.clusterSize);
        if (this.freeByteOffset && Math.floor(this.freeByteOffset / this.clusterSize) === c) this.freeByteOffset = 0;
      }
    }
    if (lowest < this.freeHint) this.freeHint = lowest;
    await this.rbCache.writeDirty();
    await this.file.datasync();
  }

  /** Writes the header cluster (fields, extensions, backing file name). */
  async writeHeader(): Promise<void> {
    await this.file.write(serializeHeader(this.header), 0);
  }

  /** Sets the corrupt bit (QEMU's qcow2_signal_corruption): no further writes will be made. */
  async markCorrupt(): Promise<void> {
    if (this.readOnly || this.header.version < 3) return;
    this.header = { ...this.header, incompatibleFeatures: this.header.incompatibleFeatures | INCOMPAT_CORRUPT };
    await this.writeHeader();
    await this.file.datasync();
  }

  get lazyRefcounts(): boolean {
    return (this.header.compatibleFeatures & COMPAT_LAZY_REFCOUNTS) !== 0n;
  }

  get dirty(): boolean {
    return (this.header.incompatibleFeatures & INCOMPAT_DIRTY) !== 0n;
  }

  async setDirty(dirty: boolean): Promise<void> {
    const f = this.header.incompatibleFeatures;
    const next = dirty ? f | INCOMPAT_DIRTY : f & ~INCOMPAT_DIRTY;
    if (next === f) return;
    this.header = { ...this.header, incompatibleFeatures: next };
    await this.writeHeader();
    await this.file.datasync();
  }

  /** L1 size limit for this cluster size (QEMU's QCOW_MAX_L1_SIZE). */
  get maxL1Entries(): number {
    return MAX_L1_BYTES / 8;
  }

  /** Forgets cached state (after a transaction rewrote tables behind the caches). */
  resetCaches(): void {
    this.l2Cache.clear();
    this.rbCache.clear();
    this.freeHint = 0;
    this.freeByteOffset = 0;
  }

  /** Reloads L1, refcount table and snapshot table from the header now on disk. */
  async reload(header: Qcow2Header): Promise<void> {
    this.header = header;
    const reftable = new Uint8Array(header.refcountTableClusters * this.clusterSize);
    await this.file.read(reftable, header.refcountTableOffset);
    this.reftable = reftable;
    const l1 = new Uint8Array(header.l1Size * 8);
    if (l1.length) await this.file.read(l1, header.l1TableOffset);
    this.l1 = l1;
    this.l1DirtySectors.clear();
    await this.loadSnapshots();
    this.resetCaches();
    this.protectedClusters = null;
  }

  /** Pending decrements not yet applied (for transactions that must start from a clean state). */
  get pendingFreeCount(): number {
    return this.pendingFrees.size;
  }
}

export function hex(n: number): string {
  return '0x' + n.toString(16);
}
