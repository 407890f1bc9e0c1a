// The core's linear memory, in one place (the future translator shares it: generated wasm reads
// and writes the same addresses). All of it is one WebAssembly.Memory that the TS side creates
// (importMemory) and never grows, so devices' views of guest RAM never detach.
//
//   MEM_STATE    the ACTIVE hart's state at address 0 (STATE_SIZE bytes, offsets ST_* below):
//                x[r] is at byte r*8, so an access is one load with no base to add. Hot code uses
//                constant addresses, so run(hart) copies the hart's saved state in and out
//                (selectHart); a hart that is not active lives in its slot MEM_SLOTS + h*STATE_SIZE.
//   MEM_STEP     a one-instruction block (blocks.ts layout) for instructions run one at a time;
//                at MEM_STEP + 0x400 the scratch the TS side passes breakpoints through
//   MEM_JIT_VARS the words the core and translated code share (JV_* below): the memory epoch, the
//                budget a translated function hands back, its slow-path status, the TLB tables in use
//   0x0001_0000  AssemblyScript static data (--memoryBase in scripts/build-wasm.mjs; checked at init)
//   MEM_RVC      the compressed-instruction expansion table: 64 Ki u32, index = the 16-bit word,
//                value = the 32-bit equivalent or ILLEGAL_EXPANSION (decode.gen.ts)
//   MEM_TLB      per hart, per translation context, per access kind: TLB_ENTRIES entries of 16 bytes
//                { tag: u64 = page-aligned virtual address or TLB_INVALID, addend: u32 }, then
//                TLB_VICTIMS entries of the same shape (mmu.ts)
//                host address = u32(vaddr) + addend (mod 2^32). See mmu.ts for contexts and kinds.
//   MEM_BLOCK_HASH, MEM_BLOCK_ARENA  the decoded-block cache (blocks.ts), shared by all harts
//                (keyed by host address, re-checked against a snapshot when memory may have changed)
//   MEM_CODE_PAGES  a byte per 4 KiB of linear memory: the page holds decoded code (codepages.ts)
//   MEM_JIT_HASH, MEM_JIT_JC, MEM_JIT_ARENA  translated code (jit.ts): a direct-mapped hash of
//                entry addresses keyed by host address, the jump cache keyed by pc (jumpcache.ts),
//                and the arena the translator (src/emulator-core/tcg) fills with entries, code
//                snapshots, chaining slots and fallback op records
//   MEM_ROM      the mask ROM (romSize bytes, at most ROM_MAX)
//   MEM_DIRTY_PAGES  a BIT per 4 KiB of linear memory: the page was written since the TS side last
//                cleared the map (dirtypages.ts; only RAM's part is used)
//   MEM_RAM      guest RAM (ramSize bytes), up to the end of the memory

export const MAX_HARTS: u32 = 8;

export const MEM_STATE: u32 = 0;
export const STATE_SIZE: u32 = 0x400;
export const MEM_SLOTS: u32 = 0x1000;
/** A one-instruction block for instructions run one at a time, outside the cache. */
export const MEM_STEP: u32 = MEM_SLOTS + MAX_HARTS * STATE_SIZE;
export const MEM_JIT_VARS: u32 = MEM_STEP + 0x800;
export const MEM_RVC: u32 = 0x8_0000;

export const TLB_BITS: u32 = 8;
export const TLB_ENTRIES: u32 = 1 << TLB_BITS;
export const TLB_MASK: u32 = TLB_ENTRIES - 1;
export const TLB_ENTRY_SIZE: u32 = 16;
export const TLB_CONTEXTS: u32 = 4;
export const TLB_KINDS: u32 = 3;
/**
 * Entries a table's direct-mapped part evicted, searched by the slow paths before a page walk (as
 * QEMU's victim TLB): two hot pages whose page numbers share their low bits (the guest's address
 * layout is randomised, so some runs have such pairs and some do not) take a slow-path call each
 * time instead of a walk. They follow the table's TLB_ENTRIES, so whatever clears a table clears them.
 */
export const TLB_VICTIMS: u32 = 8;
export const TLB_TABLE_BYTES: u32 = (TLB_ENTRIES + TLB_VICTIMS) * TLB_ENTRY_SIZE;
export const TLB_HART_BYTES: u32 = TLB_CONTEXTS * TLB_KINDS * TLB_TABLE_BYTES;
export const MEM_TLB: u32 = 0x10_0000;

// Decoded blocks (blocks.ts): a hash table of BLOCK_HASH entries { u32 host address of the first
// instruction (0 = empty), u32 address of the block } and an arena of BLOCK_ARENA_BYTES the
// blocks are bump-allocated in (all dropped at once when it fills). A block is:
//   +0  header: u32 host address, u16 ops, u16 bytes, u32 epoch of its last check (codepages.ts),
//       u16 upper half of a last instruction that crosses into the next page, u16 1 if it does,
//       u32 heat (entries counted for the translator, jit.ts), u32 unused
//   +24 op records, OP_BYTES each
//   then a snapshot of the `bytes` bytes it was decoded from (padded to 8)
// An op record: u16 op id, u8 offset of the instruction in the block, u8 length (2 or 4),
// u8 rd*8, u8 rs1*8, u8 rs2*8 (register byte offsets), u8 index of the record in its block,
// i32 the immediate (decode.gen.ts packImm), u32 the expanded instruction.
export const BLOCK_HASH_BITS: u32 = 15;
export const BLOCK_HASH: u32 = 1 << BLOCK_HASH_BITS;
export const BLOCK_ARENA_BYTES: u32 = 8 << 20;
export const BLOCK_MAX_OPS: u32 = 32;
export const BLOCK_MAX_BYTES: u32 = 128;
export const BLOCK_HEADER: u32 = 24;
export const OP_BYTES: u32 = 16;
/** The most a block can take in the arena. */
export const BLOCK_MAX_SIZE: u32 = BLOCK_HEADER + BLOCK_MAX_OPS * OP_BYTES + BLOCK_MAX_BYTES;
export const MEM_BLOCK_HASH: u32 = (MEM_TLB + MAX_HARTS * TLB_HART_BYTES + 0xffff) & ~0xffff;
export const MEM_BLOCK_ARENA: u32 = MEM_BLOCK_HASH + BLOCK_HASH * 8;

export const ROM_MAX: u32 = 0x1_0000;
/** One byte per 4 KiB of linear memory: nonzero if decoded blocks were made from that page. */
export const MEM_CODE_PAGES: u32 = MEM_BLOCK_ARENA + BLOCK_ARENA_BYTES;
export const CODE_PAGES_BYTES: u32 = 1 << 20;
// Translated code (jit.ts, and the translator in src/emulator-core/tcg that fills the arena).
export const JIT_HASH_BITS: u32 = 16;
export const JIT_HASH: u32 = 1 << JIT_HASH_BITS;
export const MEM_JIT_HASH: u32 = MEM_CODE_PAGES + CODE_PAGES_BYTES;
// The jump cache (jumpcache.ts): JC_ENTRIES entries of 32 bytes { u64 pc, u32 generation, u32 the
// fetch TLB table it was valid for, u32 function table index }, indexed by pc.
export const JC_BITS: u32 = 12;
export const JC_ENTRIES: u32 = 1 << JC_BITS;
export const JC_ENTRY_BYTES: u32 = 32;
export const MEM_JIT_JC: u32 = MEM_JIT_HASH + JIT_HASH * 8;
export const MEM_JIT_ARENA: u32 = MEM_JIT_JC + JC_ENTRIES * JC_ENTRY_BYTES;
export const JIT_ARENA_BYTES: u32 = 24 << 20;
export const MEM_ROM: u32 = MEM_JIT_ARENA + JIT_ARENA_BYTES;
/**
 * One bit per 4 KiB of linear memory (bit p & 7 of byte p >> 3 for page p = host >> 12): set when
 * the page was written since the map was last cleared (dirtypages.ts). A bitmap, not a byte map,
 * so it fits below MEM_RAM's 1 MiB alignment.
 */
export const MEM_DIRTY_PAGES: u32 = MEM_ROM + ROM_MAX;
export const DIRTY_PAGES_BYTES: u32 = 1 << 17;
export const MEM_RAM: u32 = (MEM_DIRTY_PAGES + DIRTY_PAGES_BYTES + 0xf_ffff) & ~0xf_ffff;

// ---- MEM_JIT_VARS: words shared with translated code (byte offsets) ----
export const JV_EPOCH: u32 = 0; // u32 the memory epoch (globals.ts memChanged)
export const JV_BUDGET: u32 = 4; // i32 the budget a translated function returns with
export const JV_STATUS: u32 = 8; // u32 the last jit slow path's event (globals.ts SLOW_*)
export const JV_LINK: u32 = 12; // u32 the chaining slot of the exit just taken, or 0
export const JV_EXIT: u32 = 16; // u32 why translated code returned (jit.ts JIT_EXIT_*)
export const JV_TLB_R: u32 = 20; // u32 the load TLB table in use (mmu.ts tlbR)
export const JV_TLB_W: u32 = 24; // u32 the store TLB table in use
export const JV_TLB_X: u32 = 28; // u32 the fetch TLB table in use
export const JV_LINK_PC: u32 = 32; // u64 the pc that exit goes to
export const JV_JC_GEN: u32 = 48; // u32 the jump cache's generation (jumpcache.ts)

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
// Register access for handlers: `r` is the register's BYTE OFFSET (number * 8), as op records
// carry it, so the hot path does no shifting, and with MEM_STATE = ST_X = 0 no base to add.
// (A base in the load's immediate offset measured ~9% slower under V8 11.3 than an added one.)
@inline export function getX(r: u32): u64 {
  return load<u64>(MEM_STATE + ST_X + r);
}
@inline export function setX(r: u32, v: u64): void {
  store<u64>(MEM_STATE + ST_X + r, v);
}
@inline export function getF(r: u32): u64 {
  return load<u64>(MEM_STATE + ST_F + r);
}
@inline export function setF(r: u32, v: u64): void {
  store<u64>(MEM_STATE + ST_F + r, v);
}
@inline export function priv(): u32 {
  return <u32>load<u64>(MEM_STATE + ST_PRIV);
}
