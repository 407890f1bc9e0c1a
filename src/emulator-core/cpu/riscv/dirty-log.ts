// The RamDirtyLog of cpu.ts over the core's bitmap (wasm/dirtypages.ts): the core marks its
// harts' writes itself; this marks the writes the board reports (DMA, loaders) in the same map,
// from TypeScript, without a call into WebAssembly.
import type { RamDirtyLog } from './cpu';

const PAGE_SHIFT = 12;

export class CoreDirtyLog implements RamDirtyLog {
  constructor(
    /** RAM's part of the core's map: bit p & 7 of byte p >> 3 is RAM page p. */
    readonly bitmap: Uint8Array,
    private readonly ramSize: number,
    /** The core's dirtyClear: zeroes the map and drops every hart's write-TLB entries. */
    private readonly clearCore: () => void,
  ) {}

  markWritten(offset: number, length: number): void {
    if (length <= 0) return;
    if (!(offset >= 0 && offset + length <= this.ramSize)) throw new RangeError(`dirty range ${offset} +${length} is outside RAM`);
    const last = (offset + length - 1) >>> PAGE_SHIFT;
    for (let p = offset >>> PAGE_SHIFT; p <= last; p++) this.bitmap[p >>> 3]! |= 1 << (p & 7);
  }

  clear(): void {
    this.clearCore();
  }
}
