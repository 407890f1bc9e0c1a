// Guest I/O on a QCOW2 image (QEMU's qcow2_co_preadv/pwritev/pwrite_zeroes/pdiscard/block_status):
// reads follow the L2 entries (data, zeros, compressed, or the backing file); writes go in place
// to clusters the active L1 owns alone and to freshly allocated clusters otherwise, copying the
// untouched part of the cluster (copy-on-write) from where its old content was.
import type { BlockDriver, BlockStatus, IoRequest, WriteZeroesOptions } from '../driver';
import { BlockError } from '../errors';
import { Scatter } from '../scatter';
import { decompressCluster } from './compress';
import { ClusterKind, compressedExtent, makeEntry, put64, L2E_COPIED_HI, L2E_ZERO_LO } from './entries';
import type { Qcow2Image } from './image';
import { decodeL2, l2ForRead, l2ForWrite, type L2Entry } from './l2';

/** The largest run of clusters one write allocates at once (bounds the copy buffer). */
const MAX_ALLOC_BYTES = 32 * 1024 * 1024;

export interface Layer {
  img: Qcow2Image;
  backing: BlockDriver | null;
  /** The last cluster decompressed (sequential reads of compressed images hit it often). */
  lastCompressed?: { key: string; data: Uint8Array };
}

/**
 * Whether something may show through unallocated clusters: the image names a backing file,
 * whether or not the chain was opened (commit and convert open images without their backing
 * file, and zero writes must still hide it).
 */
function hasBacking(layer: Layer): boolean {
  return layer.backing !== null || layer.img.header.backingFile !== null;
}

function checkRange(img: Qcow2Image, offset: number, length: number): void {
  if (offset < 0 || length < 0 || !Number.isSafeInteger(offset) || offset + length > img.size) {
    throw new BlockError('EINVAL', `Request out of range: offset ${offset}, length ${length}, image size ${img.size}`);
  }
}

/** Reads from the backing file, as zeros past its end (or when there is none). */
async function readBacking(layer: Layer, pos: number, out: Uint8Array): Promise<void> {
  await readBackingInto(layer, pos, [out]);
}

/** readBacking into consecutive buffers (a scatter list) from `pos` on. */
async function readBackingInto(layer: Layer, pos: number, outs: Uint8Array[]): Promise<void> {
  const b = layer.backing;
  const bl = b ? b.length() : 0;
  const reqs: IoRequest[] = [];
  for (const out of outs) {
    const n = Math.max(0, Math.min(out.length, bl - pos));
    if (n > 0) reqs.push({ offset: pos, data: out.subarray(0, n) });
    if (n < out.length) out.fill(0, n);
    pos += out.length;
  }
  if (reqs.length) await b!.readMany(reqs);
}

async function compressedCluster(layer: Layer, e: L2Entry): Promise<Uint8Array> {
  const img = layer.img;
  const { offset, size } = compressedExtent(e.hi, e.lo, img.compressed);
  const key = `${offset}:${size}`;
  if (layer.lastCompressed?.key === key) return layer.lastCompressed.data;
  const src = new Uint8Array(size);
  await img.file.read(src, offset);
  const data = await decompressCluster(src, img.clusterSize, `offset 0x${offset.toString(16)}`);
  layer.lastCompressed = { key, data };
  return data;
}

/** Whether entry b continues a run that started with entry a, `n` clusters earlier. */
function continuesRun(a: L2Entry, b: L2Entry, n: number, clusterSize: number): boolean {
  switch (a.kind) {
    case ClusterKind.Normal:
      return b.kind === ClusterKind.Normal && b.host === a.host + n * clusterSize;
    case ClusterKind.Unallocated:
      return b.kind === ClusterKind.Unallocated;
    case ClusterKind.ZeroPlain:
    case ClusterKind.ZeroAlloc:
      return b.kind === ClusterKind.ZeroPlain || b.kind === ClusterKind.ZeroAlloc;
    default:
      return false; // compressed clusters are handled one at a time
  }
}

/** A read of image data left for after the lock is released (see Qcow2Driver.read). */
export interface DeferredRead {
  data: Uint8Array;
  host: number;
}

/**
 * Reads guest data into `buf` (one buffer, or a scatter list of several holding the range in
 * order). With `deferred`, reads of data clusters are only planned (pushed there) so the caller
 * can do them without holding the image lock, as QEMU drops s->lock around data I/O.
 */
export async function readAt(layer: Layer, offset: number, buf: Uint8Array | Scatter, deferred?: DeferredRead[]): Promise<void> {
  const img = layer.img;
  const vec = buf instanceof Scatter ? buf : new Scatter([buf]);
  checkRange(img, offset, vec.length);
  const cs = img.clusterSize;
  const end = offset + vec.length;
  let pos = offset;
  while (pos < end) {
    const g = Math.floor(pos / cs);
    const l1i = Math.floor(g / img.l2Entries);
    const tableEnd = Math.min(end, (l1i + 1) * img.l2Entries * cs);
    const t = await l2ForRead(img, l1i);
    if (!t) {
      await readBackingInto(layer, pos, vec.slices(pos - offset, tableEnd - offset));
      pos = tableEnd;
      continue;
    }
    let l2i = g % img.l2Entries;
    while (pos < tableEnd) {
      const first = decodeL2(img, t.table, l2i, t.offset);
      let n = 1;
      while ((Math.floor(pos / cs) + n) * cs < tableEnd && l2i + n < img.l2Entries) {
        const next = decodeL2(img, t.table, l2i + n, t.offset);
        if (!continuesRun(first, next, n, cs)) break;
        n++;
      }
      const runEnd = Math.min(tableEnd, (Math.floor(pos / cs) + n) * cs);
      const outs = vec.slices(pos - offset, runEnd - offset);
      switch (first.kind) {
        case ClusterKind.Normal: {
          // Consecutive pieces of the file: the caller's fileRuns merges them into one preadv.
          let host = first.host + (pos % cs);
          for (const out of outs) {
            if (deferred) deferred.push({ data: out, host });
            else await img.file.read(out, host);
            host += out.length;
          }
          break;
        }
        case ClusterKind.Unallocated:
          await readBackingInto(layer, pos, outs);
          break;
        case ClusterKind.ZeroPlain:
        case ClusterKind.ZeroAlloc:
          for (const out of outs) out.fill(0);
          break;
        case ClusterKind.Compressed: {
          const data = await compressedCluster(layer, first);
          let at = pos % cs;
          for (const out of outs) {
            out.set(data.subarray(at, at + out.length));
            at += out.length;
          }
          break;
        }
      }
      pos = runEnd;
      l2i += n;
    }
  }
}

/** The current content of guest cluster `g` (whose entry is `e`), for copy-on-write. */
async function oldClusterContent(layer: Layer, g: number, e: L2Entry): Promise<Uint8Array> {
  const img = layer.img;
  const cs = img.clusterSize;
  const out = new Uint8Array(cs);
  switch (e.kind) {
    case ClusterKind.Normal:
      await img.file.read(out, e.host);
      break;
    case ClusterKind.Unallocated:
      await readBacking(layer, g * cs, out);
      break;
    case ClusterKind.Compressed:
      out.set(await compressedCluster(layer, e));
      break;
    default:
      break; // zero clusters
  }
  return out;
}

/** Drops the reference an L2 entry held (after the entry is replaced; applied after the flush). */
export function releaseEntry(img: Qcow2Image, e: L2Entry): void {
  if (e.kind === ClusterKind.Normal || e.kind === ClusterKind.ZeroAlloc) {
    img.deferFree(e.host / img.clusterSize);
  } else if (e.kind === ClusterKind.Compressed) {
    const { offset, size } = compressedExtent(e.hi, e.lo, img.compressed);
    img.deferFreeBytes(offset, size);
  }
}

function markTableDirty(img: Qcow2Image, offset: number, table: Uint8Array): void {
  if (img.l2Cache.peek(offset) === table) img.l2Cache.markDirty(offset);
  else img.l2Cache.put(offset, table, true);
}

/**
 * A write's data I/O left for after the lock is released (see Qcow2Driver.write): `host` is where
 * `data` goes; with `link`, the clusters were freshly allocated for guest clusters
 * [link.first, link.first + link.count) and their L2 entries are set by `linkWrite` once the data
 * is written (QEMU's qcow2_alloc_cluster_link_l2 after the data write, so no L2 entry ever points
 * at a cluster whose content is not there yet).
 */
export interface DeferredWrite {
  data: Uint8Array;
  host: number;
  link?: { first: number; count: number };
}

/**
 * Writes guest data. With `deferred`, the data writes of whole clusters (in place or newly
 * allocated) are only planned (pushed there); runs that need copy-on-write of a partial cluster
 * are done at once, under the lock, as before.
 */
export async function writeAt(layer: Layer, offset: number, data: Uint8Array, deferred?: DeferredWrite[]): Promise<void> {
  const img = layer.img;
  if (img.readOnly) throw new BlockError('EROFS', 'Image opened read-only');
  checkRange(img, offset, data.length);
  const cs = img.clusterSize;
  const end = offset + data.length;
  let pos = offset;
  while (pos < end) {
    const g = Math.floor(pos / cs);
    const l1i = Math.floor(g / img.l2Entries);
    const tableEnd = Math.min(end, (l1i + 1) * img.l2Entries * cs);
    let l2i = g % img.l2Entries;

    // In place: clusters the active image owns alone, contiguous on the host.
    const t = img.l1Copied(l1i) ? await l2ForRead(img, l1i) : null;
    if (t) {
      const first = decodeL2(img, t.table, l2i, t.offset);
      if (first.kind === ClusterKind.Normal && first.copied) {
        const n = inPlaceRun(img, t, l2i, first.host, Math.ceil(tableEnd / cs) - g);
        const runEnd = Math.min(tableEnd, (g + n) * cs);
        const part = data.subarray(pos - offset, runEnd - offset);
        if (deferred) {
          deferred.push({ data: part, host: first.host + (pos % cs) });
        } else {
          await img.file.write(part, first.host + (pos % cs));
          img.noteDataWritten();
        }
        pos = runEnd;
        continue;
      }
    }

    // Allocate: a run of clusters that need a new home, as long as the request and the table go.
    const tw = await l2ForWrite(img, l1i);
    const k = allocRun(img, tw, l2i, Math.min(Math.ceil(tableEnd / cs) - g, Math.max(1, Math.floor(MAX_ALLOC_BYTES / cs))));
    const { offset: host, count } = await img.allocClusters(k, true);
    const runStart = g * cs;
    const dataEnd = Math.min(tableEnd, (g + count) * cs);
    const head = pos - runStart;
    const tail = (g + count) * cs - dataEnd;
    if (head === 0 && tail === 0) {
      const part = data.subarray(pos - offset, dataEnd - offset);
      if (deferred) {
        deferred.push({ data: part, host, link: { first: g, count } });
        pos = dataEnd;
        continue;
      }
      await img.file.write(part, host);
    } else {
      const buf = new Uint8Array(count * cs);
      let firstOld: Uint8Array | null = null;
      if (head > 0) {
        firstOld = await oldClusterContent(layer, g, decodeL2(img, tw.table, l2i, tw.offset));
        buf.set(firstOld.subarray(0, head), 0);
      }
      if (tail > 0) {
        const lastG = g + count - 1;
        const old = lastG === g && firstOld
          ? firstOld
          : await oldClusterContent(layer, lastG, decodeL2(img, tw.table, l2i + count - 1, tw.offset));
        buf.set(old.subarray(cs - tail), count * cs - tail);
      }
      buf.set(data.subarray(pos - offset, dataEnd - offset), head);
      await img.file.write(buf, host);
    }
    img.noteDataWritten();
    for (let j = 0; j < count; j++) {
      const old = decodeL2(img, tw.table, l2i + j, tw.offset);
      const [hi, lo] = makeEntry(host + j * cs, L2E_COPIED_HI);
      put64(tw.table, (l2i + j) * 8, hi, lo);
      releaseEntry(img, old);
    }
    markTableDirty(img, tw.offset, tw.table);
    pos = dataEnd;
    l2i += count;
  }
  if (img.needsFlush) await img.flushMetadata();
}

/**
 * Points the L2 entries of a deferred allocating write at its clusters, now that their data is
 * written. The entries are looked up again (the table may have left the cache, or been copied
 * by a snapshot taken meanwhile), and whatever they held is released, so a request that changed
 * the same clusters in between (overlapping requests: either one may win) leaves no leak.
 */
export async function linkWrite(layer: Layer, w: DeferredWrite): Promise<void> {
  const img = layer.img;
  const link = w.link;
  if (!link) return;
  const cs = img.clusterSize;
  const guestClusters = Math.ceil(img.size / cs);
  for (let j = 0; j < link.count;) {
    const g = link.first + j;
    if (g >= guestClusters) {
      img.deferFree(w.host / cs + j); // the image shrank meanwhile
      j++;
      continue;
    }
    // The entries of one L2 table at a time (a planned run never crosses one, but a table
    // may have been replaced meanwhile).
    const l1i = Math.floor(g / img.l2Entries);
    const tw = await l2ForWrite(img, l1i);
    const n = Math.min(link.count - j, img.l2Entries - (g % img.l2Entries), guestClusters - g);
    pointEntries(img, tw, g % img.l2Entries, n, w.host + j * cs);
    j += n;
  }
  if (img.needsFlush) await img.flushMetadata();
}

// The per-cluster loops of a write, as small synchronous functions: they run for every cluster
// a convert writes, and the engine then optimises them rather than the async callers.

/** How many clusters from `l2i` on (at most `max`) are in place: COPIED and contiguous on the host. */
function inPlaceRun(img: Qcow2Image, t: { table: Uint8Array; offset: number }, l2i: number, host: number, max: number): number {
  const cs = img.clusterSize;
  let n = 1;
  while (n < max && l2i + n < img.l2Entries) {
    const next = decodeL2(img, t.table, l2i + n, t.offset);
    if (!(next.kind === ClusterKind.Normal && next.copied && next.host === host + n * cs)) break;
    n++;
  }
  return n;
}

/** How many clusters from `l2i` on (at most `max`) need a new home. */
function allocRun(img: Qcow2Image, t: { table: Uint8Array; offset: number }, l2i: number, max: number): number {
  let k = 0;
  while (k < max && l2i + k < img.l2Entries) {
    const e = decodeL2(img, t.table, l2i + k, t.offset);
    if (e.kind === ClusterKind.Normal && e.copied) break;
    k++;
  }
  return k;
}

/** Points `n` entries from `l2i` on at consecutive clusters from `host`, releasing what they held. */
function pointEntries(img: Qcow2Image, t: { table: Uint8Array; offset: number }, l2i: number, n: number, host: number): void {
  for (let j = 0; j < n; j++) {
    const old = decodeL2(img, t.table, l2i + j, t.offset);
    const [hi, lo] = makeEntry(host + j * img.clusterSize, L2E_COPIED_HI);
    put64(t.table, (l2i + j) * 8, hi, lo);
    releaseEntry(img, old);
  }
  markTableDirty(img, t.offset, t.table);
}

/** Gives back the clusters of a deferred allocating write whose data write failed. */
export function abortWrite(img: Qcow2Image, w: DeferredWrite): void {
  for (let j = 0; j < (w.link?.count ?? 0); j++) img.deferFree(w.host / img.clusterSize + j);
}

/**
 * Writes zeros. Whole clusters become zero clusters (v3), keeping their host cluster unless the
 * caller allows unmapping (QEMU's zero_in_l2_slice); partial clusters are written with zeros.
 */
export async function writeZeroesAt(layer: Layer, offset: number, length: number, options: WriteZeroesOptions = {}): Promise<void> {
  const img = layer.img;
  if (img.readOnly) throw new BlockError('EROFS', 'Image opened read-only');
  checkRange(img, offset, length);
  const cs = img.clusterSize;
  const end = offset + length;
  const alignedStart = Math.ceil(offset / cs) * cs;
  const alignedEnd = Math.floor(end / cs) * cs;
  if (!img.v3 || alignedStart >= alignedEnd) {
    await writeZeroBuffers(layer, offset, end);
    return;
  }
  if (offset < alignedStart) await writeZeroBuffers(layer, offset, alignedStart);
  let g = alignedStart / cs;
  const gEnd = alignedEnd / cs;
  while (g < gEnd) {
    const l1i = Math.floor(g / img.l2Entries);
    const l2i0 = g % img.l2Entries;
    const n = Math.min(gEnd - g, img.l2Entries - l2i0);
    const existing = await l2ForRead(img, l1i);
    if (!existing && !hasBacking(layer)) {
      g += n; // nothing allocated and nothing below: already reads as zeros
      continue;
    }
    const tw = await l2ForWrite(img, l1i);
    for (let j = 0; j < n; j++) {
      const e = decodeL2(img, tw.table, l2i0 + j, tw.offset);
      if (e.kind === ClusterKind.ZeroPlain) continue;
      if (e.kind === ClusterKind.Unallocated && !hasBacking(layer)) continue;
      const unmap = options.mayUnmap || e.kind === ClusterKind.Compressed || e.kind === ClusterKind.Unallocated ||
        ((e.kind === ClusterKind.Normal || e.kind === ClusterKind.ZeroAlloc) && !e.copied);
      if (unmap) {
        put64(tw.table, (l2i0 + j) * 8, 0, L2E_ZERO_LO);
        releaseEntry(img, e);
      } else {
        const [hi, lo] = makeEntry(e.host, L2E_COPIED_HI, L2E_ZERO_LO);
        put64(tw.table, (l2i0 + j) * 8, hi, lo);
      }
    }
    markTableDirty(img, tw.offset, tw.table);
    g += n;
  }
  if (alignedEnd < end) await writeZeroBuffers(layer, alignedEnd, end);
  if (img.needsFlush) await img.flushMetadata();
}

async function writeZeroBuffers(layer: Layer, from: number, to: number): Promise<void> {
  const chunk = 4 * 1024 * 1024;
  for (let p = from; p < to; p += chunk) {
    await writeAt(layer, p, new Uint8Array(Math.min(chunk, to - p)));
  }
}

/**
 * Discards whole clusters (partial ones are ignored: discard is advisory). On v3 images with a
 * backing file the cluster becomes a zero cluster so the backing data does not show through, as
 * QEMU does for guest discards; otherwise the entry is cleared.
 */
export async function discardAt(layer: Layer, offset: number, length: number): Promise<void> {
  const img = layer.img;
  if (img.readOnly) throw new BlockError('EROFS', 'Image opened read-only');
  checkRange(img, offset, length);
  const cs = img.clusterSize;
  let g = Math.ceil(offset / cs);
  const gEnd = Math.floor((offset + length) / cs) + ((offset + length) === img.size && img.size % cs ? 1 : 0);
  if (hasBacking(layer) && !img.v3) return;
  while (g < gEnd) {
    const l1i = Math.floor(g / img.l2Entries);
    const l2i0 = g % img.l2Entries;
    const n = Math.min(gEnd - g, img.l2Entries - l2i0);
    if (!(await l2ForRead(img, l1i))) {
      if (!hasBacking(layer)) {
        g += n;
        continue;
      }
    }
    const tw = await l2ForWrite(img, l1i);
    for (let j = 0; j < n; j++) {
      const e = decodeL2(img, tw.table, l2i0 + j, tw.offset);
      // QEMU (discard_in_l2_slice, full_discard=false): the cluster reads as zeros afterwards, so
      // v3 marks it zero when it was allocated or a backing file would show through.
      if (e.kind === ClusterKind.ZeroPlain) continue;
      if (e.kind === ClusterKind.Unallocated && !hasBacking(layer)) continue;
      put64(tw.table, (l2i0 + j) * 8, 0, img.v3 ? L2E_ZERO_LO : 0);
      releaseEntry(img, e);
    }
    markTableDirty(img, tw.offset, tw.table);
    g += n;
  }
  if (img.needsFlush) await img.flushMetadata();
}

/** Block status of the extent at `offset` in this layer only (see BlockStatus). */
export async function blockStatusAt(layer: Layer, offset: number, length: number): Promise<BlockStatus> {
  const img = layer.img;
  checkRange(img, offset, length);
  const cs = img.clusterSize;
  const end = offset + length;
  const g = Math.floor(offset / cs);
  const l1i = Math.floor(g / img.l2Entries);
  const tableEnd = Math.min(end, (l1i + 1) * img.l2Entries * cs);
  const t = await l2ForRead(img, l1i);
  if (!t) return { length: tableEnd - offset, allocated: false, zero: false, data: false };
  const l2i = g % img.l2Entries;
  const first = decodeL2(img, t.table, l2i, t.offset);
  let n = 1;
  while ((g + n) * cs < tableEnd && l2i + n < img.l2Entries) {
    const next = decodeL2(img, t.table, l2i + n, t.offset);
    if (first.kind === ClusterKind.ZeroAlloc) {
      if (!(next.kind === ClusterKind.ZeroAlloc && next.host === first.host + n * cs)) break;
    } else if (first.kind === ClusterKind.ZeroPlain) {
      if (next.kind !== ClusterKind.ZeroPlain) break;
    } else if (!continuesRun(first, next, n, cs)) break;
    n++;
  }
  const len = Math.min(tableEnd, (g + n) * cs) - offset;
  const within = offset % cs;
  switch (first.kind) {
    case ClusterKind.Normal:
      return { length: len, allocated: true, zero: false, data: true, hostOffset: first.host + within };
    case ClusterKind.ZeroAlloc:
      return { length: len, allocated: true, zero: true, data: false, hostOffset: first.host + within };
    case ClusterKind.ZeroPlain:
      return { length: len, allocated: true, zero: true, data: false };
    case ClusterKind.Compressed:
      return { length: len, allocated: true, zero: false, data: true, compressed: true };
    default:
      return { length: len, allocated: false, zero: false, data: false };
  }
}
