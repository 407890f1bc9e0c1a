// Guest RAM in a snapshot: zero pages skipped (a bitmap says which pages are stored), the rest
// deflated in independent chunks so that compression and decompression run on libuv's thread
// pool in parallel, off the event loop. A freshly booted 512 MiB guest is mostly zero pages.
//
// layout (little-endian):
//   "VRAM" u32 version=1 | u32 pageSize | u32 pageCount | u32 pagesPerChunk (any, up to 2^20)
//   bitmap: ceil(pageCount / 8) bytes, bit i set = page i stored
//   for each chunk holding at least one stored page: u32 length + raw deflate of its stored pages
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { deflateRaw, inflateRaw, inflateRawSync, constants } from 'node:zlib';
import { StateFormatError } from './codec';

const deflateRawAsync = promisify(deflateRaw);
const inflateRawAsync = promisify(inflateRaw);

const MAGIC = 0x4d415256; // "VRAM"
const VERSION = 1;
export const PAGE_SIZE = 4096;
/**
 * 256 KiB of RAM per chunk: with a 4 KiB deflate window a bigger chunk compresses no better, and
 * a small one spreads over the threads and lets a save or load skip what did not change.
 */
const PAGES_PER_CHUNK = 64;
const HEADER = 20;
/** A 4 KiB window: 20% faster than 32 KiB on a booted guest's RAM for 3% more bytes (measured). */
const DEFLATE_WINDOW_BITS = 12;

/** The pages to store, copied out at the instant of the call (the guest may run on afterwards). */
export interface RamCapture {
  pageCount: number;
  bitmap: Uint8Array;
  /**
   * Per chunk: its stored pages, concatenated; undefined when the chunk is all zero, or when the
   * cache given to captureRam already had it (then `known` holds its compressed bytes).
   */
  chunks: Array<Uint8Array | undefined>;
  /** With a cache: per chunk, the compressed bytes the cache had for exactly this content. */
  known?: Array<Uint8Array | undefined>;
  /** With a cache: per stored chunk, the hash of its content (the cache key). */
  keys?: Array<Buffer | undefined>;
}

const ZERO_PAGE = Buffer.alloc(PAGE_SIZE);
/** Zero tests go a block at a time first: most of a guest's RAM is long zero runs. */
const ZERO_BLOCK = Buffer.alloc(16 * PAGE_SIZE);

function isZero(mem: Buffer, from: number, to: number): boolean {
  const zeros = to - from === ZERO_BLOCK.length ? ZERO_BLOCK : ZERO_PAGE;
  return zeros.compare(mem, from, to) === 0;
}

/**
 * `cache`: the chunks it already knows (by a hash of RAM's content, taken now) are not copied;
 * the capture carries their compressed bytes instead.
 */
export function captureRam(ram: Uint8Array, cache?: RamChunkCache): RamCapture {
  if (ram.length % PAGE_SIZE !== 0) throw new Error(`RAM size ${ram.length} is not a whole number of pages`);
  const pageCount = ram.length / PAGE_SIZE;
  const bitmap = new Uint8Array(Math.ceil(pageCount / 8));
  // One Buffer over RAM: zero tests are memcmp against zeros (no per-page objects), copies memcpy.
  const mem = Buffer.from(ram.buffer, ram.byteOffset, ram.length);
  const chunks: Array<Uint8Array | undefined> = [];
  const known: Array<Uint8Array | undefined> = [];
  const keys: Array<Buffer | undefined> = [];
  const stored: number[] = [];
  const pagesPerBlock = ZERO_BLOCK.length / PAGE_SIZE;
  for (let c = 0; c * PAGES_PER_CHUNK < pageCount; c++) {
    const first = c * PAGES_PER_CHUNK;
    const last = Math.min(pageCount, first + PAGES_PER_CHUNK);
    stored.length = 0;
    for (let p = first; p < last; ) {
      if (p % pagesPerBlock === 0 && p + pagesPerBlock <= last && isZero(mem, p * PAGE_SIZE, (p + pagesPerBlock) * PAGE_SIZE)) {
        p += pagesPerBlock;
        continue;
      }
      if (!isZero(mem, p * PAGE_SIZE, (p + 1) * PAGE_SIZE)) {
        stored.push(p);
        bitmap[p >> 3]! |= 1 << (p & 7);
      }
      p++;
    }
    if (stored.length === 0) {
      chunks.push(undefined);
      known.push(undefined);
      keys.push(undefined);
      continue;
    }
    if (cache) {
      const hash = createHash('sha256').update(bitmap.subarray((first / 8) | 0, ((first + PAGES_PER_CHUNK) / 8) | 0));
      for (const p of stored) hash.update(mem.subarray(p * PAGE_SIZE, (p + 1) * PAGE_SIZE));
      const key = hash.digest();
      keys.push(key);
      const hit = cache.get(c, key);
      known.push(hit);
      if (hit) {
        chunks.push(undefined);
        continue;
      }
    } else {
      keys.push(undefined);
      known.push(undefined);
    }
    const data = Buffer.allocUnsafe(stored.length * PAGE_SIZE);
    // Runs of consecutive pages are one copy each.
    for (let i = 0; i < stored.length; ) {
      let j = i + 1;
      while (j < stored.length && stored[j] === stored[j - 1]! + 1) j++;
      mem.copy(data, i * PAGE_SIZE, stored[i]! * PAGE_SIZE, (stored[j - 1]! + 1) * PAGE_SIZE);
      i = j;
    }
    chunks.push(data);
  }
  return cache ? { pageCount, bitmap, chunks, known, keys } : { pageCount, bitmap, chunks };
}

/**
 * The compressed chunks of the last RAM image a machine saved or loaded, by chunk index and a
 * SHA-256 of the chunk's bitmap and pages: a chunk that did not change since is not compressed
 * again (most of an idle guest's RAM, from one snapshot of a timeline to the next).
 */
export class RamChunkCache {
  private readonly entries = new Map<number, { key: Buffer; data: Uint8Array }>();
  get(index: number, key: Buffer): Uint8Array | undefined {
    const e = this.entries.get(index);
    return e && e.key.equals(key) ? e.data : undefined;
  }
  set(index: number, key: Buffer, data: Uint8Array): void {
    this.entries.set(index, { key, data });
  }
  /** Chunks that are all zero now: nothing to remember. */
  drop(index: number): void {
    this.entries.delete(index);
  }
  get size(): number {
    return this.entries.size;
  }
}

function chunkKey(bitmap: Uint8Array, index: number, data: Uint8Array): Buffer {
  const bits = PAGES_PER_CHUNK / 8;
  return createHash('sha256').update(bitmap.subarray(index * bits, (index + 1) * bits)).update(data).digest();
}

export async function encodeRam(capture: RamCapture, cache?: RamChunkCache): Promise<Uint8Array> {
  const compressed = await Promise.all(
    capture.chunks.map(async (data, i) => {
      const hit = capture.known?.[i];
      if (hit) return hit;
      if (!data) {
        cache?.drop(i);
        return undefined;
      }
      const key = cache && (capture.keys?.[i] ?? chunkKey(capture.bitmap, i, data));
      const cached = key && cache.get(i, key);
      if (cached) return cached;
      const c = await deflateRawAsync(data, { level: constants.Z_BEST_SPEED, windowBits: DEFLATE_WINDOW_BITS });
      if (key) cache.set(i, key, c);
      return c;
    }),
  );
  let size = HEADER + capture.bitmap.length;
  for (const c of compressed) if (c) size += 4 + c.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
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
  return out;
}

/** Restores `ram` from an encoded blob; checks everything before touching `ram`. */
export async function decodeRam(blob: Uint8Array, ram: Uint8Array): Promise<void> {
  (await prepareRam(blob, ram.length)).apply(ram);
}

/** A RAM image decoded and checked, ready to be written (synchronously) into guest RAM. */
export interface PreparedRam {
  apply(ram: Uint8Array): void;
}

/**
 * Decodes and checks a RAM image for a RAM of `ramLength` bytes without touching any RAM: a
 * truncated, corrupt or foreign image fails here, before the machine is changed.
 */
export async function prepareRam(blob: Uint8Array, ramLength: number, cache?: RamChunkCache, current?: Uint8Array): Promise<PreparedRam> {
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
  const jobs: Array<{ pages: number[]; data: Uint8Array; index: number }> = [];
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
  // Chunks that RAM already holds (the cache knows RAM's content there by hash, and compressed it
  // to the very bytes of this image's chunk) are neither inflated nor copied. apply() checks
  // them again: a device may write guest RAM while the load waits for its inflates (a network
  // frame arriving), and such a chunk is then inflated after all.
  const inPlace = new Map<number, Buffer>();
  const bits = perChunk / 8;
  if (cache && current && current.length === ramLength && perChunk === PAGES_PER_CHUNK) {
    const mem = Buffer.from(current.buffer, current.byteOffset, current.length);
    jobs.forEach((job, j) => {
      const key = contentKey(mem, pageCount, job.index, bitmap.subarray(job.index * bits, (job.index + 1) * bits));
      const cached = key && cache.get(job.index, key);
      if (cached && Buffer.compare(cached, job.data) === 0) inPlace.set(j, key);
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
    apply(ram: Uint8Array): void {
      if (ram.length !== ramLength) throw new RangeError(`RAM image prepared for ${ramLength} bytes, given ${ram.length}`);
      const mem = Buffer.from(ram.buffer, ram.byteOffset, ram.length);
      const sameRam = current !== undefined && ram.buffer === current.buffer && ram.byteOffset === current.byteOffset;
      for (const [j, key] of inPlace) {
        const job = jobs[j]!;
        const now = sameRam ? contentKey(mem, pageCount, job.index, bitmap.subarray(job.index * bits, (job.index + 1) * bits)) : undefined;
        if (now && now.equals(key)) continue;
        // Changed since prepare (or another RAM): inflated now, synchronously (checked as in prepare).
        inflated[j] = inflateChunkSync(job.data, job.pages.length);
        inPlace.delete(j);
      }
      // The runs between stored pages must read zero. Writing zeros over RAM that already is
      // zero would make the host back every untouched page of it: those are only tested.
      const zeroRange = (from: number, to: number) => {
        for (let at = from; at < to; ) {
          const end = at % ZERO_BLOCK.length === 0 && to - at >= ZERO_BLOCK.length ? at + ZERO_BLOCK.length : Math.min(to, at + PAGE_SIZE - (at % PAGE_SIZE));
          if (!isZero(mem, at, end)) mem.fill(0, at, end);
          at = end;
        }
      };
      let zeroFrom = 0;
      jobs.forEach(({ pages }, j) => {
        const data = inflated[j];
        pages.forEach((p, i) => {
          if (p * PAGE_SIZE > zeroFrom) zeroRange(zeroFrom, p * PAGE_SIZE);
          data?.copy(mem, p * PAGE_SIZE, i * PAGE_SIZE, (i + 1) * PAGE_SIZE);
          zeroFrom = (p + 1) * PAGE_SIZE;
        });
      });
      if (zeroFrom < ram.length) zeroRange(zeroFrom, ram.length);
      // The loaded chunks are what the next save compares against; hashed after the load
      // returns (off its critical path), from the inflated copies, not from RAM the guest changes.
      if (cache && perChunk === PAGES_PER_CHUNK) {
        setImmediate(() => {
          const kept = new Set([...inPlace.keys()].map((j) => jobs[j]!.index));
          for (let i = 0; i < Math.ceil(pageCount / perChunk); i++) if (!kept.has(i)) cache.drop(i);
          jobs.forEach(({ data, index }, j) => {
            const raw = inflated[j];
            // A chunk left in place kept its cache entry (the same content, the same bytes).
            if (raw) cache.set(index, chunkKey(bitmap, index, raw), data.slice());
          });
        });
      }
    },
  };
}

/**
 * The cache key of what RAM holds in chunk `index` (hash of its bitmap and stored pages), or
 * undefined when its zero-page layout is not `expectBits`.
 */
function contentKey(mem: Buffer, pageCount: number, index: number, expectBits: Uint8Array): Buffer | undefined {
  const first = index * PAGES_PER_CHUNK;
  const own = new Uint8Array(PAGES_PER_CHUNK / 8);
  const pages: number[] = [];
  for (let p = first; p < Math.min(pageCount, first + PAGES_PER_CHUNK); p++) {
    if (!isZero(mem, p * PAGE_SIZE, (p + 1) * PAGE_SIZE)) {
      own[(p - first) >> 3]! |= 1 << ((p - first) & 7);
      pages.push(p);
    }
  }
  if (Buffer.compare(own.subarray(0, expectBits.length), expectBits) !== 0 || own.subarray(expectBits.length).some((b) => b !== 0)) return undefined;
  const hash = createHash('sha256').update(expectBits);
  for (const p of pages) hash.update(mem.subarray(p * PAGE_SIZE, (p + 1) * PAGE_SIZE));
  return hash.digest();
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

/** What one background pass may have in flight on libuv's thread pool (a save's deflates come first). */
const PRECOMPRESS_IN_FLIGHT = 2;
/** Chunks scanned per event-loop turn: ~2 MiB of hashing, a few ms between the guest's slices. */
const PRECOMPRESS_BATCH = 8;

/**
 * Keeps a RamChunkCache close to what RAM holds while the guest runs (a pre-copy, as live
 * migration does): every `intervalMs` a pass copies each chunk's stored pages, hashes them and
 * compresses the chunks the cache does not know, a few chunks per event-loop turn. A savevm then
 * compresses only what changed since the last pass. Entries are keyed by the hash of the exact
 * bytes compressed (taken from one copy), so a chunk the guest changes meanwhile is a cache
 * miss, never a wrong entry.
 */
export class RamPrecompressor {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(
    private readonly ram: Uint8Array,
    private readonly cache: RamChunkCache,
    private readonly intervalMs: number,
    /** False while nothing changes RAM (a paused VM): the pass is skipped. */
    private readonly running: () => boolean = () => true,
  ) {}

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.pass().finally(() => this.schedule()), this.intervalMs);
    this.timer.unref?.();
  }

  /** One pass over RAM; resolves when its compressions are done. */
  async pass(): Promise<void> {
    if (!this.running()) return;
    const mem = Buffer.from(this.ram.buffer, this.ram.byteOffset, this.ram.length);
    const pageCount = this.ram.length / PAGE_SIZE;
    const chunks = Math.ceil(pageCount / PAGES_PER_CHUNK);
    const inFlight = new Set<Promise<void>>();
    for (let c = 0; c < chunks && !this.stopped; c++) {
      if (c % PRECOMPRESS_BATCH === 0) {
        await new Promise((r) => setImmediate(r));
        // A save or load started (or the VM paused): the pass gives way at once.
        if (!this.running()) break;
      }
      const first = c * PAGES_PER_CHUNK;
      const bits = new Uint8Array(PAGES_PER_CHUNK / 8);
      const pages: number[] = [];
      for (let p = first; p < Math.min(pageCount, first + PAGES_PER_CHUNK); p++) {
        if (!isZero(mem, p * PAGE_SIZE, (p + 1) * PAGE_SIZE)) {
          bits[(p - first) >> 3]! |= 1 << ((p - first) & 7);
          pages.push(p);
        }
      }
      if (pages.length === 0) continue;
      const data = Buffer.allocUnsafe(pages.length * PAGE_SIZE);
      pages.forEach((p, i) => mem.copy(data, i * PAGE_SIZE, p * PAGE_SIZE, (p + 1) * PAGE_SIZE));
      const key = createHash('sha256').update(bits).update(data).digest();
      if (this.cache.get(c, key)) continue;
      while (inFlight.size >= PRECOMPRESS_IN_FLIGHT) await Promise.race(inFlight);
      const job = deflateRawAsync(data, { level: constants.Z_BEST_SPEED, windowBits: DEFLATE_WINDOW_BITS }).then((z) => this.cache.set(c, key, z));
      inFlight.add(job);
      void job.finally(() => inFlight.delete(job));
    }
    await Promise.all(inFlight);
  }
}
