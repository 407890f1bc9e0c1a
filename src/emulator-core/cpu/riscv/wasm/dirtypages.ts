// Which 4 KiB pages of guest RAM were written since the TS side last cleared the map (QEMU's
// dirty memory bitmap for migration and its TLB_NOTDIRTY): a save or load of the machine then looks
// only at what changed instead of hashing all of RAM.
//
// The invariant: the write TLB maps only pages already marked. xlate() marks a page before it
// caches it for writes, and every write that bypasses the write TLB (physWrite to RAM, an AMO on a
// page not cached for writes, a page-table A/D update) marks its page where it writes. Hence the
// first store to a clean page takes a slow path that marks it and later stores hit the TLB at no
// cost. Clearing the map drops every hart's write-TLB entries (all contexts) with it, so the next
// store to every page comes through a slow path again. Writes from outside the core (devices'
// DMA, loaders) are marked by the TS side in the same map (../wasm-cpu.ts).
//
// Independent of the code-page marks (codepages.ts), which protect the decoded-block cache: a page
// can be dirty and hold code, clean and hold none, in any combination.
import { MEM_DIRTY_PAGES, MEM_RAM, MEM_TLB, TLB_CONTEXTS, TLB_HART_BYTES, TLB_KINDS, TLB_TABLE_BYTES } from './layout';
import { ACC_WRITE } from './bits';
import { numHarts, ramSize } from './globals';

/** Marks the page of host address `host` (in RAM) written. */
@inline export function markDirty(host: u32): void {
  const at = MEM_DIRTY_PAGES + (host >> 15);
  store<u8>(at, load<u8>(at) | (<u8>1 << <u8>((host >> 12) & 7)));
}

/** Where RAM's part of the map starts: bit 0 of this byte is RAM page 0 (MEM_RAM is 32 KiB-aligned). */
export function dirtyRamMap(): u32 {
  return MEM_DIRTY_PAGES + (MEM_RAM >> 15);
}

/** Clears RAM's marks and drops every hart's write-TLB entries, so each page's next store marks it. */
export function dirtyClear(): void {
  memory.fill(dirtyRamMap(), 0, <u32>((ramSize + 0x7fff) >> 15));
  for (let h: u32 = 0; h < numHarts; h++) {
    for (let ctx: u32 = 0; ctx < TLB_CONTEXTS; ctx++) {
      memory.fill(MEM_TLB + h * TLB_HART_BYTES + (ctx * TLB_KINDS + ACC_WRITE) * TLB_TABLE_BYTES, 0xff, TLB_TABLE_BYTES);
    }
  }
}
