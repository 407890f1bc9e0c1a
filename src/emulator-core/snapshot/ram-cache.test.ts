// The RAM chunk cache with a dirty-page log: a save looks only at chunks written since the cache
// last saw them, a load writes only the chunks RAM does not hold, the background pass compresses
// only what was written. The log is load-bearing: a write it is not told of is missed (the tests
// show it), which is why every writer of guest RAM reports its writes (CPU, GuestMemory, loaders).
import { describe, expect, it } from 'vitest';
import { captureRam, decodeRam, encodeRam, PAGE_SIZE, prepareRam } from './ram';
import { RamChunkCache, type DirtyPages } from './ram-cache';
import { CHUNK_BYTES } from './ram-chunks';
import { RamPrecompressor } from './ram-precompress';

/** A dirty-page log as the CPU keeps it, written by hand. */
class FakeLog implements DirtyPages {
  private marks: Uint8Array;
  constructor(private readonly pages: number) {
    this.marks = new Uint8Array(Math.ceil(pages / 8));
  }
  mark(offset: number, length: number): void {
    for (let p = Math.floor(offset / PAGE_SIZE); p <= Math.floor((offset + length - 1) / PAGE_SIZE); p++) this.marks[p >> 3]! |= 1 << (p & 7);
  }
  take(): Uint8Array {
    const out = this.marks;
    this.marks = new Uint8Array(Math.ceil(this.pages / 8));
    return out;
  }
}

/** 16 MiB of RAM: the first 8 MiB stored (a byte in every page), the rest zero. */
function setup() {
  const ram = new Uint8Array(16 << 20);
  for (let i = 0; i < ram.length / 2; i += PAGE_SIZE) ram[i] = 1 + ((i >> 12) % 251);
  const log = new FakeLog(ram.length / PAGE_SIZE);
  const cache = new RamChunkCache(ram, log);
  /** A write the log is told of (as GuestMemory and the CPU do it). */
  const write = (offset: number, bytes: ArrayLike<number>) => {
    ram.set(bytes, offset);
    log.mark(offset, bytes.length);
  };
  return { ram, log, cache, write };
}

async function save(ram: Uint8Array, cache?: RamChunkCache) {
  const capture = captureRam(ram, cache);
  const copied = capture.chunks.filter((c) => c !== undefined).length;
  const known = capture.known.filter((c) => c !== undefined).length;
  return { blob: await encodeRam(capture), copied, known };
}

async function decoded(blob: Uint8Array, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  await decodeRam(blob, out);
  return out;
}

describe('RAM chunk cache with a dirty-page log', () => {
  it('a save copies and compresses only the chunks written since the last one', async () => {
    const { ram, cache, write } = setup();
    const first = await save(ram, cache);
    expect([first.copied, first.known]).toEqual([32, 0]);
    expect(cache.size).toBe(32);
    const again = await save(ram, cache);
    expect([again.copied, again.known]).toEqual([0, 32]);
    expect(Buffer.compare(again.blob, first.blob)).toBe(0);
    write(CHUNK_BYTES + 17, [0x55]); // a stored chunk changes
    write(12 << 20, [0x66]); // a zero chunk gets a page
    write(0, new Uint8Array(CHUNK_BYTES)); // a stored chunk becomes all zero
    const third = await save(ram, cache);
    expect([third.copied, third.known]).toEqual([2, 30]);
    expect(Buffer.compare(await decoded(third.blob, ram.length), ram)).toBe(0);
    expect(Buffer.compare(third.blob, (await save(ram)).blob)).toBe(0); // the same image as without a cache
  });

  it('a chunk written with the bytes it had is recognised by its hash, not compressed again', async () => {
    const { ram, cache, write } = setup();
    await save(ram, cache);
    write(5 * CHUNK_BYTES, ram.slice(5 * CHUNK_BYTES, 5 * CHUNK_BYTES + 100));
    const s = await save(ram, cache);
    expect([s.copied, s.known]).toEqual([0, 32]);
  });

  it('a write the log is not told of is missed by the next save (every writer must report)', async () => {
    const { ram, cache } = setup();
    await save(ram, cache);
    ram[3 * CHUNK_BYTES + 5] ^= 0xff; // behind the log's back
    const stale = await save(ram, cache);
    expect(Buffer.compare(await decoded(stale.blob, ram.length), ram)).not.toBe(0);
    // Without a log the cache trusts nothing: every save looks at all of RAM.
    const blind = new RamChunkCache(ram);
    await save(ram, blind);
    ram[3 * CHUNK_BYTES + 6] ^= 0xff;
    const seen = await save(ram, blind);
    expect(seen.copied).toBe(1);
    expect(Buffer.compare(await decoded(seen.blob, ram.length), ram)).toBe(0);
  });

  it('a load writes only the chunks RAM does not hold, reports them, and leaves the cache knowing RAM', async () => {
    const { ram, cache, write } = setup();
    const { blob } = await save(ram, cache);
    const image = ram.slice();
    const ranges: Array<[number, number]> = [];
    const onWrite = (offset: number, length: number) => ranges.push([offset, length]);
    // Nothing changed: nothing is written.
    (await prepareRam(blob, ram.length, cache)).apply(ram, onWrite);
    expect(ranges).toEqual([]);
    // Written since: a stored chunk, a zero chunk, a chunk made zero.
    write(2 * CHUNK_BYTES + 8, [1, 2, 3]);
    write(40 * CHUNK_BYTES, [9]);
    write(7 * CHUNK_BYTES, new Uint8Array(CHUNK_BYTES));
    (await prepareRam(blob, ram.length, cache)).apply(ram, onWrite);
    expect(Buffer.compare(ram, image)).toBe(0);
    expect(ranges).toEqual([
      [2 * CHUNK_BYTES, PAGE_SIZE], // the page written, copied back
      [7 * CHUNK_BYTES, CHUNK_BYTES], // every page of it
      [40 * CHUNK_BYTES, PAGE_SIZE], // zeroed again
    ]);
    // The cache now knows RAM is the image: a save copies nothing and gives the same image.
    const s = await save(ram, cache);
    expect([s.copied, s.known]).toEqual([0, 32]);
    expect(Buffer.compare(s.blob, blob)).toBe(0);
  });

  it('a write between prepare and apply (a device while the load waits) is undone too', async () => {
    const { ram, cache, write } = setup();
    const { blob } = await save(ram, cache);
    const image = ram.slice();
    const prepared = await prepareRam(blob, ram.length, cache);
    write(4 * CHUNK_BYTES + PAGE_SIZE + 9, [0xee]);
    write(50 * CHUNK_BYTES, [0xee]);
    prepared.apply(ram);
    expect(Buffer.compare(ram, image)).toBe(0);
  });

  it('a fresh cache learns a load, then saves and loads from it', async () => {
    const { ram } = setup();
    const { blob } = await save(ram);
    const other = new Uint8Array(ram.length).fill(0x11);
    const log = new FakeLog(other.length / PAGE_SIZE);
    const cache = new RamChunkCache(other, log);
    (await prepareRam(blob, other.length, cache)).apply(other);
    expect(Buffer.compare(other, ram)).toBe(0);
    const s = await save(other, cache);
    expect([s.copied, s.known]).toEqual([0, 32]);
    expect(Buffer.compare(s.blob, blob)).toBe(0);
    // A load with another cache's chunk size or into another RAM still writes everything right.
    const third = new Uint8Array(ram.length).fill(3);
    (await prepareRam(blob, third.length, cache)).apply(third);
    expect(Buffer.compare(third, ram)).toBe(0);
  });

  it('work on a copy that a sync saw written since is dropped', () => {
    const { ram, log, cache } = setup();
    cache.sync();
    const g = cache.generation(3);
    log.mark(3 * CHUNK_BYTES, 1); // written after the copy was taken, before its compression is done
    cache.sync();
    expect(cache.commit(3, g, { bits: new Uint8Array(8) })).toBe(false);
    expect(cache.isCurrent(3)).toBe(false);
    const g2 = cache.generation(3);
    cache.sync(); // nothing written: the copy stays good
    expect(cache.commit(3, g2, { bits: new Uint8Array(8) })).toBe(true);
    expect(ram.length).toBeGreaterThan(0);
  });
});

describe('RAM pre-compression with a dirty-page log', () => {
  it('compresses in the background what was written; a save then copies nothing', async () => {
    const { ram, log, cache, write } = setup();
    const pre = new RamPrecompressor(cache, 60_000);
    await pre.pass();
    expect(cache.size).toBe(32);
    expect(cache.currentCount).toBe(cache.chunks);
    write(1000, [1]);
    write(40 * CHUNK_BYTES, [2]); // a zero chunk gets a page
    await pre.pass();
    const s = await save(ram, cache);
    expect([s.copied, s.known]).toEqual([0, 33]);
    expect(Buffer.compare(await decoded(s.blob, ram.length), ram)).toBe(0);
    // A pass over an idle guest looks at nothing (an unreported change stays unseen).
    ram[50 * CHUNK_BYTES] = 7;
    await pre.pass();
    expect(cache.record(50)!.data).toBeUndefined();
    log.mark(50 * CHUNK_BYTES, 1);
    await pre.pass();
    expect(cache.record(50)!.data).toBeDefined();
    pre.stop();
  });

  it('a chunk written while its compression is in flight is not taken for current', async () => {
    const { ram, cache, write } = setup();
    const pre = new RamPrecompressor(cache, 60_000);
    const pass = pre.pass();
    // Let the pass copy its first chunks, then write one of them and sync (as a save would).
    await new Promise((r) => setImmediate(r));
    write(0, [0xab]);
    cache.sync();
    await pass;
    expect(cache.isCurrent(0)).toBe(false);
    const s = await save(ram, cache);
    expect(Buffer.compare(await decoded(s.blob, ram.length), ram)).toBe(0);
    pre.stop();
  });
});
