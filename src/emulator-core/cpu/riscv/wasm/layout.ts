// The core's linear memory, in one place (the future translator shares it: generated wasm reads
// and writes the same addresses). All of it is one WebAssembly.Memory that the TS side creates
// (importMemory) and never grows, so devices' views of guest RAM never detach.
//
//   0x0000_0000  AssemblyScript static data (checked against __heap_base at init)
//   MEM_STATE    the ACTIVE hart's state (STATE_SIZE bytes, offsets ST_* below). Hot code uses
//                constant addresses, so run(hart) copies the hart's saved state in and out
//                (selectHart); a hart that is not active lives in its slot MEM_SLOTS + h*STATE_SIZE.
//   MEM_RVC      the compressed-instruction expansion table: 64 Ki u32, index = the 16-bit word,
//                value = the 32-bit equivalent or 0 (illegal)
//   MEM_TLB      per hart, per translation context, per access kind: TLB_ENTRIES entries of 16 bytes
//                { tag: u64 = page-aligned virtual address or TLB_INVALID, addend: u32 }
//                host address = u32(vaddr) + addend (mod 2^32). See mmu.ts for contexts and kinds.
//   MEM_BLOCKS   the decoded-block cache (blocks.ts): BLOCK_SLOTS slots of BLOCK_SLOT_BYTES,
//                shared by all harts (keyed by host address, validated against a snapshot)
//   MEM_ROM      the mask ROM (romSize bytes, at most ROM_MAX)
//   MEM_RAM      guest RAM (ramSize bytes), up to the end of the memory

export const MAX_HARTS: u32 = 8;

export const MEM_STATE: u32 = 0x4_0000;
export const STATE_SIZE: u32 = 0x400;
export const MEM_SLOTS: u32 = MEM_STATE + 0x1000;
export const MEM_RVC: u32 = 0x8_0000;

export const TLB_BITS: u32 = 8;
export const TLB_ENTRIES: u32 = 1 << TLB_BITS;
export const TLB_MASK: u32 = TLB_ENTRIES - 1;
export const TLB_ENTRY_SIZE: u32 = 16;
export const TLB_CONTEXTS: u32 = 4;
export const TLB_KINDS: u32 = 3;
export const TLB_TABLE_BYTES: u32 = TLB_ENTRIES * TLB_ENTRY_SIZE;
export const TLB_HART_BYTES: u32 = TLB_CONTEXTS * TLB_KINDS * TLB_TABLE_BYTES;
export const MEM_TLB: u32 = 0x10_0000;

// Decoded blocks: a slot is { u32 tag (host address of the first instruction, 0 = empty),
// u16 ops, u16 bytes } at +0, a snapshot of the block's bytes at +16, its op records at +256.
// An op record (16 bytes): u16 op id, u8 offset of the instruction in the block, u8 length
// (2 or 4), u32 expanded instruction, u32 raw instruction, u32 unused.
export const BLOCK_BITS: u32 = 12;
export const BLOCK_SLOTS: u32 = 1 << BLOCK_BITS;
export const BLOCK_SLOT_BYTES: u32 = 1024;
export const BLOCK_MAX_OPS: u32 = 32;
export const BLOCK_MAX_BYTES: u32 = 128;
export const BLOCK_SNAPSHOT: u32 = 16;
export const BLOCK_OPS: u32 = 256;
export const OP_BYTES: u32 = 16;
export const MEM_BLOCKS: u32 = (MEM_TLB + MAX_HARTS * TLB_HART_BYTES + 0xffff) & ~0xffff;

export const ROM_MAX: u32 = 0x1_0000;
export const MEM_ROM: u32 = MEM_BLOCKS + BLOCK_SLOTS * BLOCK_SLOT_BYTES;
export const MEM_RAM: u32 = (MEM_ROM + ROM_MAX + 0xf_ffff) & ~0xf_ffff;

/** A tag no access matches: its low 12 bits are all ones, an aligned access's never are. */
export const TLB_INVALID: u64 = 0xffff_ffff_ffff_ffff;

// ---- hart state: byte offsets in MEM_STATE (every field a u64 unless noted) ----
export const ST_X: u32 = 0x000; // x0..x31 (x0 is re-zeroed before each instruction)
export const ST_F: u32 = 0x100; // f0..f31, raw bits (singles NaN-boxed)
export const ST_PC: u32 = 0x200;
export const ST_PRIV: u32 = 0x208; // 0 U, 1 S, 3 M
export const ST_MSTATUS: u32 = 0x210; // without SD (computed on read)
export const ST_MEDELEG: u32 = 0x218;
export const ST_MIDELEG: u32 = 0x220;
export const ST_MIE: u32 = 0x228;
export const ST_MIP: u32 = 0x230; // the software-written bits (SSIP, STIP, SEIP)
export const ST_IRQ_LINES: u32 = 0x238; // levels driven by the board (mip bit numbers)
export const ST_MTVEC: u32 = 0x240;
export const ST_MSCRATCH: u32 = 0x248;
export const ST_MEPC: u32 = 0x250;
export const ST_MCAUSE: u32 = 0x258;
export const ST_MTVAL: u32 = 0x260;
export const ST_MCOUNTEREN: u32 = 0x268;
export const ST_MENVCFG: u32 = 0x270;
export const ST_MCOUNTINHIBIT: u32 = 0x278;
export const ST_STVEC: u32 = 0x280;
export const ST_SSCRATCH: u32 = 0x288;
export const ST_SEPC: u32 = 0x290;
export const ST_SCAUSE: u32 = 0x298;
export const ST_STVAL: u32 = 0x2a0;
export const ST_SCOUNTEREN: u32 = 0x2a8;
export const ST_SENVCFG: u32 = 0x2b0;
export const ST_SATP: u32 = 0x2b8;
export const ST_STIMECMP: u32 = 0x2c0;
export const ST_FCSR: u32 = 0x2c8; // frm << 5 | fflags
export const ST_MCYCLE: u32 = 0x2d0; // value at the start of the current slice
export const ST_MINSTRET: u32 = 0x2d8; // value at the start of the current slice
export const ST_MHARTID: u32 = 0x2e0;
export const ST_PMPCFG: u32 = 0x2e8; // 16 bytes: pmp0cfg..pmp15cfg
export const ST_PMPADDR: u32 = 0x2f8; // 16 x u64
export const ST_PMP_LOCKED: u32 = 0x378; // u64: nonzero if any entry has L set (M-mode checks needed)
// The virtual range [lo, hi] that cached superpage translations span (lo > hi: none), so an
// SFENCE.VMA of one address outside it flushes one page, not the whole TLB.
export const ST_TLB_SUPER_LO: u32 = 0x380;
export const ST_TLB_SUPER_HI: u32 = 0x388;
// 0x390..0x3ff free

@inline export function stAddr(off: u32): usize {
  return <usize>(MEM_STATE + off);
}
@inline export function st64(off: u32): u64 {
  return load<u64>(MEM_STATE + off);
}
@inline export function setSt64(off: u32, v: u64): void {
  store<u64>(MEM_STATE + off, v);
}
@inline export function getX(r: u32): u64 {
  return load<u64>(MEM_STATE + ST_X + (r << 3));
}
@inline export function setX(r: u32, v: u64): void {
  store<u64>(MEM_STATE + ST_X + (r << 3), v);
}
@inline export function getF(r: u32): u64 {
  return load<u64>(MEM_STATE + ST_F + (r << 3));
}
@inline export function setF(r: u32, v: u64): void {
  store<u64>(MEM_STATE + ST_F + (r << 3), v);
}
@inline export function priv(): u32 {
  return <u32>load<u64>(MEM_STATE + ST_PRIV);
}
