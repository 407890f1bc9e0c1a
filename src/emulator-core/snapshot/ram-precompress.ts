// Keeps the machine's RamChunkCache close to what RAM holds while the guest runs (a pre-copy, as
// live migration does): every `intervalMs` a pass takes the dirty-page log and compresses the
// chunks written since the cache last saw them, a few per event-loop turn, off the event loop
// on libuv's thread pool. A savevm then compresses only what changed since the last pass, and a
// pass over an idle guest costs next to nothing (no chunk was written).
import { bufferOf, chunkKey, copyPages, deflateChunk, NO_PAGES, scanChunk } from './ram-chunks';
import type { RamChunkCache } from './ram-cache';

/** What one background pass may have in flight on libuv's thread pool (a save's deflates come first). */
const PRECOMPRESS_IN_FLIGHT = 2;
/** Chunks looked at per event-loop turn: ~2 MiB of scanning and hashing, a few ms between the guest's slices. */
const PRECOMPRESS_BATCH = 8;

export class RamPrecompressor {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(
    private readonly cache: RamChunkCache,
    private readonly intervalMs: number,
    /** False while nothing changes RAM (a paused VM) or a save or load runs: the pass is skipped or gives way. */
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

  /** One pass over what changed; resolves when its compressions are done. */
  async pass(): Promise<void> {
    if (!this.running()) return;
    const cache = this.cache;
    const mem = bufferOf(cache.ram);
    cache.sync();
    const inFlight = new Set<Promise<void>>();
    let looked = 0;
    for (let c = 0; c < cache.chunks && !this.stopped; c++) {
      if (cache.isCurrent(c)) continue;
      if (looked++ % PRECOMPRESS_BATCH === 0) {
        await new Promise((r) => setImmediate(r));
        // A save or load started (or the VM paused): the pass gives way at once.
        if (!this.running()) break;
        // It may have brought this chunk up to date meanwhile.
        if (cache.isCurrent(c)) continue;
      }
      // Content, copy and generation in one synchronous step: the guest cannot run in between.
      const { bits, pages } = scanChunk(mem, c);
      if (pages.length === 0) {
        cache.setCurrent(c, { bits: NO_PAGES });
        continue;
      }
      const data = copyPages(mem, pages);
      const key = chunkKey(bits, { data });
      const known = cache.record(c);
      if (known?.data && known.key?.equals(key)) {
        cache.setCurrent(c, known);
        continue;
      }
      const generation = cache.generation(c);
      while (inFlight.size >= PRECOMPRESS_IN_FLIGHT) await Promise.race(inFlight);
      // Committed only if no sync saw the chunk written since the copy (then the copy is stale).
      const job = deflateChunk(data).then((z) => void cache.commit(c, generation, { bits, key, data: z }));
      inFlight.add(job);
      void job.finally(() => inFlight.delete(job));
    }
    await Promise.all(inFlight);
  }
}
