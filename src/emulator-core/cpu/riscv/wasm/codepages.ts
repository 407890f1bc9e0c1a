// Which pages of guest memory decoded blocks were made from, so that a block need not re-check
// its snapshot on every entry (blocks.ts). Guest memory can change while the core runs only
// through (a) this hart's stores, (b) a device touched by an MMIO access (it may DMA), and between
// runs through anything the board does: JavaScript is single-threaded. Stores to pages holding
// decoded code never hit the write TLB (the page's write entries are dropped when it is marked,
// and xlate() does not cache them), so every such store comes through a slow path that calls
// noteWrite(); MMIO accesses and run() move the epoch unconditionally (globals.ts memEpoch).
// A block whose check is as recent as the epoch runs without one.
import { MAX_HARTS, MEM_CODE_PAGES, MEM_TLB, TLB_ENTRIES, TLB_HART_BYTES, TLB_INVALID, TLB_TABLE_BYTES, TLB_VICTIMS } from './layout';
import { ACC_WRITE } from './bits';
import { memChanged } from './globals';

@inline export function isCodePage(host: u32): bool {
  return load<u8>(MEM_CODE_PAGES + (host >> 12)) != 0;
}

/** Marks the page of `host` as holding decoded code; drops every write-TLB entry that maps it. */
export function markCodePage(host: u32): void {
  const at = MEM_CODE_PAGES + (host >> 12);
  if (load<u8>(at)) return;
  store<u8>(at, 1);
  const page = host & ~0xfff;
  for (let h: u32 = 0; h < MAX_HARTS; h++) {
    for (let ctx: u32 = 0; ctx < 4; ctx++) {
      const table = MEM_TLB + h * TLB_HART_BYTES + (ctx * 3 + ACC_WRITE) * TLB_TABLE_BYTES;
      for (let i: u32 = 0; i < TLB_ENTRIES + TLB_VICTIMS; i++) {
        const e = table + (i << 4);
        const tag = load<u64>(e);
        if (tag != TLB_INVALID && ((<u32>tag + load<u32>(e, 8)) & ~0xfff) == page) store<u64>(e, TLB_INVALID);
      }
    }
  }
}

/** Set when noteWrite found code: the store or atomic that wrote it stops after itself (mem.ts). */
export let codeWritten: bool = false;
export function clearCodeWritten(): void {
  codeWritten = false;
}

/** A write by the core to host address `host` outside the write TLB: if it hits code, say so. */
@inline export function noteWrite(host: u32): void {
  const at = MEM_CODE_PAGES + (host >> 12);
  if (load<u8>(at)) {
    // The page is data again until a block is decoded from it: stores may use the TLB.
    store<u8>(at, 0);
    codeWritten = true;
    memChanged();
  }
}

/** Forgets every mark (with the block cache). */
export function codePagesClear(): void {
  memory.fill(MEM_CODE_PAGES, 0, 1 << 20);
}
