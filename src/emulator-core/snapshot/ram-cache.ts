// What a machine's snapshot code knows about its RAM, chunk by chunk (ram-chunks.ts): the last
// content it saw there (page bitmap, compressed pages, a hash when it computed one) and whether RAM
// still holds exactly that. "Still holds" comes from the dirty-page log (QEMU's migration dirty
// bitmap): a chunk none of whose pages was written since the cache looked at it needs no look
// again, so a save copies, hashes and compresses only the chunks written since the last save, load
// or background pass, and a load recognises the chunks RAM already holds without reading them.
//
// Correctness rests on one rule: a chunk is marked current only by code that read its content in
// the same synchronous step (or that wrote it), and every write after that reaches the log. A
// write is noticed by the next sync(), which drops "current" for the chunks it touched. Work that
// completes later (a compression on the thread pool) commits only if no sync saw its chunk
// written since it copied the content (the chunk's generation did not move).
import { CHUNK_BITS, chunkCount, PAGE_SIZE } from './ram-chunks';

/** Pages of guest RAM written since the last take (bit p & 7 of byte p >> 3: RAM page p): the CPU's RamDirtyReader. */
export interface DirtyPages {
  take(): Uint8Array;
}

/** What the cache knows of one chunk's content. */
export interface ChunkRecord {
  /** Which of the chunk's pages are non-zero (bit i: page i of the chunk); all clear: a zero chunk. */
  readonly bits: Uint8Array;
  /** Raw deflate of the non-zero pages, concatenated; undefined for a zero chunk. */
  readonly data?: Uint8Array;
  /** SHA-256 of bits and pages (ram-chunks.ts chunkKey), where it was computed (not for a loaded chunk). */
  readonly key?: Buffer;
}

export class RamChunkCache {
  readonly chunks: number;
  private readonly records: Array<ChunkRecord | undefined>;
  /** 1: RAM holds records[c] exactly (no page of the chunk written since). */
  private readonly current: Uint8Array;
  /** Moves when a sync finds the chunk written: pending work on an older copy is then dropped. */
  private readonly generations: Uint32Array;

  /**
   * @param ram the machine's RAM (the cache describes this RAM only)
   * @param dirty its dirty-page log; without one every sync forgets everything (each save and load
   *   then looks at all of RAM again, as before the log existed)
   */
  constructor(
    readonly ram: Uint8Array,
    private readonly dirty?: DirtyPages,
  ) {
    if (ram.length % PAGE_SIZE !== 0) throw new Error(`RAM size ${ram.length} is not a whole number of pages`);
    this.chunks = chunkCount(ram.length / PAGE_SIZE);
    this.records = new Array<ChunkRecord | undefined>(this.chunks);
    this.current = new Uint8Array(this.chunks);
    this.generations = new Uint32Array(this.chunks);
  }

  /**
   * Takes the pages written since the last sync from the log and forgets that RAM holds what the
   * cache saw in their chunks. Call it with nothing else running (between slices) before looking
   * at RAM: what a look then records stays true until the next write, which the next sync sees.
   */
  sync(): void {
    if (!this.dirty) {
      for (let c = 0; c < this.chunks; c++) this.written(c);
      return;
    }
    const map = this.dirty.take();
    for (let c = 0; c < this.chunks; c++) {
      for (let i = c * CHUNK_BITS; i < Math.min(map.length, (c + 1) * CHUNK_BITS); i++) {
        if (map[i] !== 0) {
          this.written(c);
          break;
        }
      }
    }
  }

  /** Chunk c was written: RAM no longer holds its record, and copies taken before are stale. */
  private written(c: number): void {
    this.current[c] = 0;
    this.generations[c]!++;
  }

  /** The last content seen in chunk c (RAM may have changed since unless isCurrent). */
  record(c: number): ChunkRecord | undefined {
    return this.records[c];
  }

  /** Whether RAM still holds record(c) (as of the last sync). */
  isCurrent(c: number): boolean {
    return this.current[c] === 1;
  }

  /** What commit() compares against: take it when copying chunk c's content. */
  generation(c: number): number {
    return this.generations[c]!;
  }

  /** Chunk c holds `rec` now: its content was just read (or written) in this synchronous step. */
  setCurrent(c: number, rec: ChunkRecord): void {
    this.records[c] = rec;
    this.current[c] = 1;
  }

  /**
   * Records `rec`, made from a copy of chunk c taken at generation `generation`, as what RAM holds,
   * unless a sync saw the chunk written since (then the copy is stale and nothing changes).
   */
  commit(c: number, generation: number, rec: ChunkRecord): boolean {
    if (this.generations[c] !== generation) return false;
    // Current again: writes after the copy are in the log, the next sync sees them.
    this.setCurrent(c, rec);
    return true;
  }

  /** Chunks with compressed content remembered (what a save can reuse). */
  get size(): number {
    let n = 0;
    for (const r of this.records) if (r?.data) n++;
    return n;
  }

  /** Chunks RAM still holds as recorded (for tests and stats). */
  get currentCount(): number {
    let n = 0;
    for (let c = 0; c < this.chunks; c++) n += this.current[c]!;
    return n;
  }
}

