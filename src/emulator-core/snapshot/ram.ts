// Guest RAM in a snapshot: zero pages skipped (a bitmap says which pages are stored), the rest
// deflated in independent chunks (ram-chunks.ts) so that compression and decompression run on
// libuv's thread pool in parallel, off the event loop. A freshly booted 512 MiB guest is mostly
// zero pages. With the machine's chunk cache (ram-cache.ts), a save looks only at the chunks
// written since the cache last saw them and a load writes only the chunks RAM does not hold yet.
//
// layout (little-endian):
//   "VRAM" u32 version=1 | u32 pageSize | u32 pageCount | u32 pagesPerChunk (any, up to 2^20)
//   bitmap: ceil(pageCount / 8) bytes, bit i set = page i stored
//   for each chunk holding at least one stored page: u32 length + raw deflate of its stored pages
import { promisify } from 'node:util';
import { inflateRaw, inflateRawSync } from 'node:zlib';
import { StateFormatError } from './codec';
import type { ChunkRecord, RamChunkCache } from './ram-cache';
import {
  bufferOf, CHUNK_BITS, chunkCount, chunkKey, copyPages, deflateChunk, isEmpty, isZero, NO_PAGES, PAGE_SIZE, pagesOf, PAGES_PER_CHUNK, scanChunk, ZERO_BLOCK,
} from './ram-chunks';

export { PAGE_SIZE };

const inflateRawAsync = promisify(inflateRaw);

const MAGIC = 0x4d415256; // "VRAM"
const VERSION = 1;
const HEADER = 20;

/** The pages to store, copied out at the instant of the call (the guest may run on afterwards). */
export interface RamCapture {
  pageCount: number;
  bitmap: Uint8Array;
  /** Per chunk: its stored pages, concatenated, to compress; undefined when all zero or in `known`. */
  chunks: Array<Uint8Array | undefined>;
  /** Per chunk: the compressed bytes the cache had for exactly this content (not copied again). */
  known: Array<Uint8Array | undefined>;
  /** With a cache: per chunk to compress, its content key and the cache generation of the copy. */
  pending?: Array<{ key: Buffer; generation: number } | undefined>;
  cache?: RamChunkCache;
  /** Chunks scanned (the others were current in the cache) and copied to be compressed (VIV_SNAPSHOT_STATS). */
  looked: number;
}

function sameRam(a: Uint8Array, b: Uint8Array): boolean {
  return a.buffer === b.buffer && a.byteOffset === b.byteOffset && a.length === b.length;
}

/** Chunk c's 8 bytes of a whole-RAM page bitmap (zero past its end). */
function chunkBits(bitmap: Uint8Array, c: number): Uint8Array {
  const out = new Uint8Array(CHUNK_BITS);
  out.set(bitmap.subarray(c * CHUNK_BITS, Math.min(bitmap.length, (c + 1) * CHUNK_BITS)));
  return out;
}

/**
 * Copies what a snapshot of `ram` stores. `cache` (the machine's, for this RAM): chunks it knows
 * RAM still holds (no page written since it saw them) are neither scanned nor hashed nor copied;
 * the others are, and those whose content it has compressed are not copied. Call it with the
 * machine paused: the cache's view of RAM is brought up to date here, at the instant of the copy.
 */
export function captureRam(ram: Uint8Array, cache?: RamChunkCache): RamCapture {
  if (ram.length % PAGE_SIZE !== 0) throw new Error(`RAM size ${ram.length} is not a whole number of pages`);
  if (cache && !sameRam(cache.ram, ram)) throw new Error('the RAM chunk cache belongs to another RAM');
  const pageCount = ram.length / PAGE_SIZE;
  const bitmap = new Uint8Array(Math.ceil(pageCount / 8));
  const mem = bufferOf(ram);
  const chunks: Array<Uint8Array | undefined> = [];
  const known: Array<Uint8Array | undefined> = [];
  const pending: Array<{ key: Buffer; generation: number } | undefined> = [];
  let looked = 0;
  const setBits = (c: number, bits: Uint8Array) => bitmap.set(bits.subarray(0, Math.min(CHUNK_BITS, bitmap.length - c * CHUNK_BITS)), c * CHUNK_BITS);
  cache?.sync();
  for (let c = 0; c < chunkCount(pageCount); c++) {
    chunks.push(undefined);
    known.push(undefined);
    pending.push(undefined);
    if (cache?.isCurrent(c)) {
      const r = cache.record(c)!;
      setBits(c, r.bits);
      if (isEmpty(r.bits)) continue;
      if (r.data) {
        known[c] = r.data;
        continue;
      }
      // Current but never compressed: copy the pages it names and compress them.
      const pages = pagesOf(c, r.bits);
      pending[c] = { key: r.key ?? chunkKey(r.bits, { mem, pages }), generation: cache.generation(c) };
      chunks[c] = copyPages(mem, pages);
      continue;
    }
    looked++;
    const { bits, pages } = scanChunk(mem, c);
    setBits(c, bits);
    if (pages.length === 0) {
      cache?.setCurrent(c, { bits: NO_PAGES });
      continue;
    }
    if (cache) {
      const key = chunkKey(bits, { mem, pages });
      const r = cache.record(c);
      if (r?.data && r.key?.equals(key)) {
        // Written since, but back to what the cache compressed (or written with the same bytes).
        cache.setCurrent(c, r);
        known[c] = r.data;
        continue;
      }
      pending[c] = { key, generation: cache.generation(c) };
    }
    chunks[c] = copyPages(mem, pages);
  }
  return cache ? { pageCount, bitmap, chunks, known, pending, cache, looked } : { pageCount, bitmap, chunks, known, looked };
}

/**
 * Compresses what captureRam copied (the cache of the capture learns the new chunks) and lays out
 * the image, `headroom` bytes into the buffer returned (room for what goes before it).
 */
export async function encodeRam(capture: RamCapture, headroom = 0): Promise<Uint8Array> {
  const compressed = await Promise.all(
    capture.chunks.map(async (data, i) => {
      const hit = capture.known[i];
      if (hit) return hit;
      if (!data) return undefined;
      const z = await deflateChunk(data);
      const p = capture.pending?.[i];
      if (p && capture.cache) capture.cache.commit(i, p.generation, { bits: chunkBits(capture.bitmap, i), data: z, key: p.key });
      return z;
    }),
  );
  let size = HEADER + capture.bitmap.length;
  for (const c of compressed) if (c) size += 4 + c.length;
  const whole = new Uint8Array(headroom + size);
  const out = whole.subarray(headroom);
  const view = new DataView(whole.buffer, headroom);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, VERSION, true);
  view.setUint32(8, PAGE_SIZE, true);
  view.setUint32(12, capture.pageCount, true);
  view.setUint32(16, PAGES_PER_CHUNK, true);
  out.set(capture.bitmap, HEADER);
  let pos = HEADER + capture.bitmap.length;
  for (const c of compressed) {
    if (!c) continue;
    view.setUint32(pos, c.length, true);
    out.set(c, pos + 4);
    pos += 4 + c.length;
  }
  return whole;
}

/** Restores `ram` from an encoded blob; checks everything before touching `ram`. */
export async function decodeRam(blob: Uint8Array, ram: Uint8Array): Promise<void> {
  (await prepareRam(blob, ram.length)).apply(ram);
}

/** A RAM image decoded and checked, ready to be written (synchronously) into guest RAM. */
export interface PreparedRam {
  /**
   * Writes the image into `ram`. `onWrite` hears every range written (RAM offsets), before the
   * cache takes its marks: the machine reports them as its other RAM writes (GuestMemory).
   */
  apply(ram: Uint8Array, onWrite?: (offset: number, length: number) => void): void;
  /** Chunks stored in the image, and how many of them RAM was found to hold already (VIV_SNAPSHOT_STATS). */
  readonly stored: number;
  readonly inPlace: number;
}

/** One chunk of the image: its stored pages and their compressed bytes. */
interface Job {
  index: number;
  pages: number[];
  data: Uint8Array;
}

/**
 * Decodes and checks a RAM image for a RAM of `ramLength` bytes without touching any RAM: a
 * truncated, corrupt or foreign image fails here, before the machine is changed. With the
 * machine's `cache`, chunks RAM already holds (the cache compressed them to the very bytes of
 * this image) are found without reading RAM when no page of them was written since the cache saw
 * them, and are neither inflated nor written.
 */
export async function prepareRam(blob: Uint8Array, ramLength: number, cache?: RamChunkCache): Promise<PreparedRam> {
  if (blob.length < HEADER) throw new StateFormatError('RAM image truncated (no header)');
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw new StateFormatError('RAM image has a bad magic');
  if (view.getUint32(4, true) !== VERSION) throw new StateFormatError(`RAM image version ${view.getUint32(4, true)} is not supported`);
  const pageSize = view.getUint32(8, true);
  const pageCount = view.getUint32(12, true);
  const perChunk = view.getUint32(16, true);
  if (pageSize !== PAGE_SIZE) throw new StateFormatError(`RAM image page size ${pageSize} is not ${PAGE_SIZE}`);
  if (pageCount * PAGE_SIZE !== ramLength) {
    throw new StateFormatError(
      `snapshot RAM is ${(pageCount * PAGE_SIZE) / 2 ** 20} MiB, this machine has ${ramLength / 2 ** 20} MiB`,
    );
  }
  if (perChunk === 0 || perChunk > 1 << 20) throw new StateFormatError(`RAM image chunk size ${perChunk} is invalid`);
  const bitmapLen = Math.ceil(pageCount / 8);
  if (blob.length < HEADER + bitmapLen) throw new StateFormatError('RAM image truncated (bitmap)');
  const bitmap = blob.subarray(HEADER, HEADER + bitmapLen);
  const isStored = (p: number) => (bitmap[p >> 3]! & (1 << (p & 7))) !== 0;

  // Locate every chunk first, so that a truncated blob fails before anything is inflated.
  const jobs: Job[] = [];
  let pos = HEADER + bitmapLen;
  for (let first = 0; first < pageCount; first += perChunk) {
    const pages: number[] = [];
    for (let p = first; p < Math.min(pageCount, first + perChunk); p++) if (isStored(p)) pages.push(p);
    if (pages.length === 0) continue;
    if (pos + 4 > blob.length) throw new StateFormatError('RAM image truncated (chunk length)');
    const len = view.getUint32(pos, true);
    if (pos + 4 + len > blob.length) throw new StateFormatError('RAM image truncated (chunk data)');
    jobs.push({ pages, data: blob.subarray(pos + 4, pos + 4 + len), index: first / perChunk });
    pos += 4 + len;
  }
  if (pos !== blob.length) throw new StateFormatError(`RAM image has ${blob.length - pos} trailing bytes`);

  // The cache speaks of chunks of its own size only.
  const cached = cache && cache.ram.length === ramLength && perChunk === PAGES_PER_CHUNK ? cache : undefined;
  const inPlace = new Set<number>();
  if (cached) {
    cached.sync();
    const mem = bufferOf(cached.ram);
    jobs.forEach((job, j) => {
      if (holds(cached, mem, job.index, chunkBits(bitmap, job.index), job.data)) inPlace.add(j);
    });
  }
  const inflated: Array<Buffer | undefined> = await Promise.all(
    jobs.map(async ({ pages, data }, j) => {
      if (inPlace.has(j)) return undefined;
      let out: Buffer;
      try {
        out = await inflateRawAsync(data, { maxOutputLength: pages.length * PAGE_SIZE, windowBits: 15 });
      } catch (e) {
        throw new StateFormatError(`RAM image chunk does not inflate: ${(e as Error).message}`);
      }
      if (out.length !== pages.length * PAGE_SIZE) throw new StateFormatError('RAM image chunk has the wrong size');
      return out;
    }),
  );
  return {
    stored: jobs.length,
    inPlace: inPlace.size,
    apply(ram: Uint8Array, onWrite?: (offset: number, length: number) => void): void {
      if (ram.length !== ramLength) throw new RangeError(`RAM image prepared for ${ramLength} bytes, given ${ram.length}`);
      const mem = bufferOf(ram);
      const c2 = cached && sameRam(cached.ram, ram) ? cached : undefined;
      // Chunks judged in place when prepared: a device may have written guest RAM while the load
      // waited for its inflates (a network frame). Those are checked again, or inflated now.
      if (c2) c2.sync();
      for (const j of inPlace) {
        const job = jobs[j]!;
        if (c2 && holds(c2, mem, job.index, chunkBits(bitmap, job.index), job.data)) continue;
        inflated[j] = inflateChunkSync(job.data, job.pages.length);
        inPlace.delete(j);
      }
      const jobAt = new Int32Array(chunkCount(pageCount)).fill(-1);
      jobs.forEach((job, j) => (jobAt[job.index] = j));
      const written = new RangeReporter(onWrite);
      for (let c = 0; c < jobAt.length; c++) {
        const j = jobAt[c]!;
        if (j >= 0 && inPlace.has(j)) continue;
        // A chunk the cache knows is still all zero needs no look at all.
        if (j < 0 && c2?.isCurrent(c) && isEmpty(c2.record(c)!.bits)) continue;
        writeChunk(mem, c, j >= 0 ? jobs[j]!.pages : [], inflated[j] ?? undefined, written);
      }
      written.flush();
      if (c2) {
        // RAM now holds the image: our own writes (reported above) are what the log has since the
        // sync at the start of apply, and nothing else ran in between.
        c2.sync();
        for (let c = 0; c < jobAt.length; c++) {
          const j = jobAt[c]!;
          const rec: ChunkRecord =
            j < 0 ? { bits: NO_PAGES } : inPlace.has(j) ? c2.record(c)! : { bits: chunkBits(bitmap, c), data: jobs[j]!.data.slice() };
          c2.setCurrent(c, rec);
        }
      }
    },
  };
}

/**
 * Whether RAM's chunk c holds the content the image stores as (bits, data): the cache compressed
 * that content to these very bytes and RAM has it still, as the dirty log says, or (written since)
 * its hash matches again.
 */
function holds(cache: RamChunkCache, mem: Buffer, c: number, bits: Uint8Array, data: Uint8Array): boolean {
  const r = cache.record(c);
  if (!r?.data || Buffer.compare(r.bits, bits) !== 0 || Buffer.compare(r.data, data) !== 0) return false;
  if (cache.isCurrent(c)) return true;
  if (!r.key) return false;
  const now = scanChunk(mem, c);
  if (Buffer.compare(now.bits, bits) !== 0 || !chunkKey(now.bits, { mem, pages: now.pages }).equals(r.key)) return false;
  cache.setCurrent(c, r);
  return true;
}

/**
 * Writes chunk c: its stored `pages` from `data`, zeros in the others. Each page is compared
 * before it is written: writing zeros over RAM that already is zero would make the host back
 * every untouched page of it, and what is not written need not be reported (code caches keep it).
 */
function writeChunk(mem: Buffer, c: number, pages: readonly number[], data: Buffer | undefined, written: RangeReporter): void {
  const first = c * PAGES_PER_CHUNK;
  const last = Math.min(mem.length / PAGE_SIZE, first + PAGES_PER_CHUNK);
  const block = ZERO_BLOCK.length / PAGE_SIZE;
  let k = 0;
  for (let p = first; p < last; ) {
    if (k < pages.length && pages[k] === p) {
      // Pages that already hold what the image has are left alone (and not reported written).
      if (data!.compare(mem, p * PAGE_SIZE, (p + 1) * PAGE_SIZE, k * PAGE_SIZE, (k + 1) * PAGE_SIZE) !== 0) {
        data!.copy(mem, p * PAGE_SIZE, k * PAGE_SIZE, (k + 1) * PAGE_SIZE);
        written.page(p);
      }
      k++;
      p++;
      continue;
    }
    const nextStored = k < pages.length ? pages[k]! : last;
    if ((p - first) % block === 0 && p + block <= nextStored && isZero(mem, p * PAGE_SIZE, (p + block) * PAGE_SIZE)) {
      p += block;
      continue;
    }
    if (!isZero(mem, p * PAGE_SIZE, (p + 1) * PAGE_SIZE)) {
      mem.fill(0, p * PAGE_SIZE, (p + 1) * PAGE_SIZE);
      written.page(p);
    }
    p++;
  }
}

/** Reports written pages as ranges, consecutive pages together. */
class RangeReporter {
  private from = -1;
  private to = -1;
  constructor(private readonly onWrite: ((offset: number, length: number) => void) | undefined) {}
  page(p: number): void {
    if (!this.onWrite) return;
    if (p === this.to) {
      this.to++;
      return;
    }
    this.flush();
    this.from = p;
    this.to = p + 1;
  }
  flush(): void {
    if (this.from >= 0) this.onWrite?.(this.from * PAGE_SIZE, (this.to - this.from) * PAGE_SIZE);
    this.from = this.to = -1;
  }
}

function inflateChunkSync(data: Uint8Array, pages: number): Buffer {
  let out: Buffer;
  try {
    out = inflateRawSync(data, { maxOutputLength: pages * PAGE_SIZE, windowBits: 15 });
  } catch (e) {
    throw new StateFormatError(`RAM image chunk does not inflate: ${(e as Error).message}`);
  }
  if (out.length !== pages * PAGE_SIZE) throw new StateFormatError('RAM image chunk has the wrong size');
  return out;
}
