// The RamDirtyLog of cpu.ts over the core's bitmap (wasm/dirtypages.ts). The core marks its harts'
// writes itself; markWritten marks the writes the board reports (DMA, loaders) in the same map from
// TypeScript, without a call into WebAssembly. Readers each keep their own bitmap: a take folds the
// core's marks into every reader's (QEMU's per-client dirty bitmaps) and clears the core's, so one
// reader taking its marks never hides a write from another.
import type { RamDirtyLog, RamDirtyReader } from './cpu';

const PAGE_SHIFT = 12;

export class CoreDirtyLog implements RamDirtyLog {
  private readonly readers = new Set<DirtyReader>();
  /** The core map as 32-bit words, to find marks quickly (it is 4-byte aligned, see below). */
  private readonly words: Uint32Array;

  constructor(
    /** RAM's part of the core's map: bit p & 7 of byte p >> 3 is RAM page p. */
    private readonly map: Uint8Array,
    private readonly ramSize: number,
    /** The core's dirtyClear: zeroes the map and drops every hart's write-TLB entries. */
    private readonly clearCore: () => void,
  ) {
    // The map starts at a 32 KiB boundary of RAM in the core (layout.ts) and its part past RAM's
    // last page is never marked, so reading it in whole words is safe.
    if (map.byteOffset % 4 !== 0) throw new Error('dirty-page map is not 4-byte aligned');
    this.words = new Uint32Array(map.buffer, map.byteOffset, Math.ceil(map.length / 4));
  }

  markWritten(offset: number, length: number): void {
    if (length <= 0) return;
    if (!(offset >= 0 && offset + length <= this.ramSize)) throw new RangeError(`dirty range ${offset} +${length} is outside RAM`);
    const last = (offset + length - 1) >>> PAGE_SHIFT;
    for (let p = offset >>> PAGE_SHIFT; p <= last; p++) this.map[p >>> 3]! |= 1 << (p & 7);
  }

  reader(): RamDirtyReader {
    const r = new DirtyReader(this.map.length, this);
    this.readers.add(r);
    return r;
  }

  /** @internal */
  drop(r: DirtyReader): void {
    this.readers.delete(r);
  }

  /** @internal Moves the core's marks into every reader's bitmap and clears the core's. */
  fold(): void {
    const w = this.words;
    let any = false;
    for (let i = 0; i < w.length; i++) {
      if (w[i] !== 0) {
        any = true;
        break;
      }
    }
    // No mark means no write-TLB entry either (each is made with a mark): nothing to clear.
    if (!any) return;
    for (const r of this.readers) r.or(this.map);
    this.clearCore();
  }
}

class DirtyReader implements RamDirtyReader {
  private marks: Uint8Array;
  constructor(
    private readonly bytes: number,
    private readonly log: CoreDirtyLog,
  ) {
    this.marks = new Uint8Array(bytes);
  }

  /** @internal */
  or(map: Uint8Array): void {
    const m = this.marks;
    for (let i = 0; i < m.length; i++) m[i]! |= map[i]!;
  }

  take(): Uint8Array {
    this.log.fold();
    const out = this.marks;
    this.marks = new Uint8Array(this.bytes);
    return out;
  }

  close(): void {
    this.log.drop(this);
  }
}
