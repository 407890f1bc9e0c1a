// Virtual memory (privileged ISA 4.3-4.5): Sv39 and Sv48 page walks with hardware A/D updates
// (as QEMU 7.2 does), and the software TLB the fast paths read.
//
// TLB organisation: per hart, per translation context, per access kind, a direct-mapped table of
// TLB_ENTRIES 4 KiB pages (superpages are cached page by page), followed by TLB_VICTIMS entries it
// evicted, which the slow paths search before walking the page table (tlbLookup). Contexts:
//   CTX_U      U-mode accesses
//   CTX_S      S-mode accesses with SUM = 0
//   CTX_S_SUM  S-mode loads/stores with SUM = 1 (Linux toggles SUM around every user copy; a
//              context of its own makes that toggle free)
//   CTX_M      M-mode (bare translation; only PMP with locked entries restricts it)
// M-mode loads/stores with MPRV = 1 use the context of MPP. Kinds: ACC_READ, ACC_WRITE, ACC_EXEC.
// An entry is filled only for an access that passed every check (permissions, A/D already set,
// PMP uniform over the page), so a hit needs no check at all; a write entry also only for a page
// marked dirty (dirtypages.ts).
// Flushes: satp writes and SFENCE.VMA drop the translated contexts (U, S, S_SUM); MXR changes
// too; PMP writes drop everything.
import {
  JV_TLB_R, JV_TLB_W, JV_TLB_X, MEM_JIT_VARS, MEM_TLB, ST_MSTATUS, ST_PRIV, ST_SATP, ST_TLB_SUPER_HI, ST_TLB_SUPER_LO, TLB_ENTRIES, TLB_HART_BYTES, TLB_INVALID, TLB_MASK, TLB_TABLE_BYTES, TLB_VICTIMS,
  setSt64, st64,
} from './layout';
import {
  ACC_EXEC, ACC_WRITE, CAUSE_FETCH_ACCESS, CAUSE_FETCH_PAGE_FAULT, CAUSE_LOAD_ACCESS, CAUSE_LOAD_PAGE_FAULT,
  CAUSE_STORE_ACCESS, CAUSE_STORE_PAGE_FAULT, MSTATUS_MPP_SHIFT, MSTATUS_MPRV, MSTATUS_MXR, MSTATUS_SUM, PRV_M,
  PRV_S, PRV_U, PTE_A, PTE_D, PTE_PPN_MASK, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X, SATP_MODE_SV39, SATP_PPN_MASK,
} from './bits';
import { SLOW_FAULT, memFault, slowEvent } from './globals';
import { isCodePage, noteWrite } from './codepages';
import { jumpCacheInvalidate } from './jumpcache';
import { markDirty } from './dirtypages';
import { ramHost, romHost } from './phys';
import { pmpAllows, pmpPerm } from './pmp';
import { C_FLUSH_ALL, C_FLUSH_PAGE, C_XLATE, count } from './counters';

export const CTX_U: u32 = 0;
export const CTX_S: u32 = 1;
export const CTX_S_SUM: u32 = 2;
export const CTX_M: u32 = 3;

/** The hart whose state is in MEM_STATE (its TLB is at MEM_TLB + curHart * TLB_HART_BYTES). */
export let curHart: u32 = 0;
export function setCurHart(h: u32): void {
  curHart = h;
}

/** Tables the fast paths use now (set by updateTlbBases on every privilege/mstatus change). */
export let tlbR: u32 = MEM_TLB;
export let tlbW: u32 = MEM_TLB + TLB_TABLE_BYTES;
export let tlbX: u32 = MEM_TLB + 2 * TLB_TABLE_BYTES;

@inline function tableOf(ctx: u32, kind: u32): u32 {
  return MEM_TLB + curHart * TLB_HART_BYTES + (ctx * 3 + kind) * TLB_TABLE_BYTES;
}

/** The privilege loads and stores are checked with (MPRV, spec 3.1.6.3). */
export function dataPriv(): u32 {
  const p = <u32>st64(ST_PRIV);
  const ms = st64(ST_MSTATUS);
  if (p == PRV_M && ms & MSTATUS_MPRV) return <u32>(ms >> MSTATUS_MPP_SHIFT) & 3;
  return p;
}

export function updateTlbBases(): void {
  const p = <u32>st64(ST_PRIV);
  const dp = dataPriv();
  const sum = (st64(ST_MSTATUS) & MSTATUS_SUM) != 0;
  const dctx = dp == PRV_M ? CTX_M : dp == PRV_S ? (sum ? CTX_S_SUM : CTX_S) : CTX_U;
  const xctx = p == PRV_M ? CTX_M : p == PRV_S ? CTX_S : CTX_U;
  tlbR = tableOf(dctx, 0);
  tlbW = tableOf(dctx, 1);
  tlbX = tableOf(xctx, 2);
  // Translated code reads the tables in use from memory (tcg/ cannot see this module's globals).
  store<u32>(MEM_JIT_VARS + JV_TLB_R, tlbR);
  store<u32>(MEM_JIT_VARS + JV_TLB_W, tlbW);
  store<u32>(MEM_JIT_VARS + JV_TLB_X, tlbX);
}

/** Drops every cached translation of the active hart. */
export function tlbFlushAll(): void {
  jumpCacheInvalidate();
  memory.fill(MEM_TLB + curHart * TLB_HART_BYTES, 0xff, TLB_HART_BYTES);
  setSt64(ST_TLB_SUPER_LO, <u64>-1);
  setSt64(ST_TLB_SUPER_HI, 0);
}

/** Drops the active hart's translated contexts (U, S, S+SUM): satp, SFENCE.VMA, MXR. */
export function tlbFlushTranslated(): void {
  jumpCacheInvalidate();
  count(C_FLUSH_ALL);
  memory.fill(tableOf(CTX_U, 0), 0xff, 9 * TLB_TABLE_BYTES);
  setSt64(ST_TLB_SUPER_LO, <u64>-1);
  setSt64(ST_TLB_SUPER_HI, 0);
}

/**
 * Drops the entries of one virtual page in the translated contexts (SFENCE.VMA rs1). A superpage
 * is cached as many 4 KiB entries, so a page inside a cached superpage's range flushes everything.
 */
export function tlbFlushPage(va: u64): void {
  jumpCacheInvalidate();
  count(C_FLUSH_PAGE);
  if (va >= st64(ST_TLB_SUPER_LO) && va <= st64(ST_TLB_SUPER_HI)) {
    tlbFlushTranslated();
    return;
  }
  const idx = (<u32>(va >> 12) & TLB_MASK) << 4;
  const tag = va & ~0xfff;
  for (let t: u32 = 0; t < 9; t++) {
    const table = tableOf(CTX_U, 0) + t * TLB_TABLE_BYTES;
    if (load<u64>(table + idx) == tag) store<u64>(table + idx, TLB_INVALID);
    for (let v: u32 = 0; v < TLB_VICTIMS; v++) {
      const e = table + ((TLB_ENTRIES + v) << 4);
      if (load<u64>(e) == tag) store<u64>(e, TLB_INVALID);
    }
  }
}

/** Every hart's TLB (at init). */
export function tlbFlushEveryHart(harts: u32): void {
  jumpCacheInvalidate();
  memory.fill(MEM_TLB, 0xff, harts * TLB_HART_BYTES);
}

/**
 * Host address of va in `table` if cached, else 0 (no alignment requirement; the caller keeps
 * within the page). For the slow paths: an entry found among the victims swaps places with the
 * direct-mapped one, so the fast paths hit it next time.
 */
export function tlbLookup(table: u32, va: u64): u32 {
  const tag = va & ~0xfff;
  const e = table + ((<u32>(va >> 12) & TLB_MASK) << 4);
  if (load<u64>(e) == tag) return <u32>va + load<u32>(e, 8);
  for (let i: u32 = 0; i < TLB_VICTIMS; i++) {
    const v = table + ((TLB_ENTRIES + i) << 4);
    if (load<u64>(v) != tag) continue;
    const addend = load<u32>(v, 8);
    store<u64>(v, load<u64>(e));
    store<u32>(v, load<u32>(e, 8), 8);
    store<u64>(e, tag);
    store<u32>(e, addend, 8);
    return <u32>va + addend;
  }
  return 0;
}

/** Round-robin choice of the victim slot an evicted entry goes to (shared by every table). */
let nextVictim: u32 = 0;

function tlbFill(table: u32, va: u64, host: u32): void {
  const e = table + ((<u32>(va >> 12) & TLB_MASK) << 4);
  const old = load<u64>(e);
  if (old != TLB_INVALID && old != (va & ~0xfff)) {
    const v = table + ((TLB_ENTRIES + nextVictim) << 4);
    nextVictim = (nextVictim + 1) & (TLB_VICTIMS - 1);
    store<u64>(v, old);
    store<u32>(v, load<u32>(e, 8), 8);
  }
  store<u64>(e, va & ~0xfff);
  store<u32>(e, host - <u32>(va & ~0xfff), 8);
}

@inline function pageFaultCause(kind: u32): u64 {
  return kind == ACC_EXEC ? CAUSE_FETCH_PAGE_FAULT : kind == ACC_WRITE ? CAUSE_STORE_PAGE_FAULT : CAUSE_LOAD_PAGE_FAULT;
}
@inline export function accessFaultCause(kind: u32): u64 {
  return kind == ACC_EXEC ? CAUSE_FETCH_ACCESS : kind == ACC_WRITE ? CAUSE_STORE_ACCESS : CAUSE_LOAD_ACCESS;
}

/**
 * Virtual -> physical for one access of `kind` by privilege `prv` (already resolved for MPRV).
 * On a fault, records it (memFault) and returns 0.
 */
export function translate(va: u64, kind: u32, prv: u32): u64 {
  const satp = st64(ST_SATP);
  const mode = satp >> 60;
  if (prv == PRV_M || mode == 0) return va;
  const levels: u32 = mode == SATP_MODE_SV39 ? 3 : 4;
  // The address must be the sign extension of its low 12 + 9 * levels bits.
  const unused: u64 = 64 - 12 - 9 * <u64>levels;
  if ((<i64>(va << unused) >> unused) != <i64>va) {
    memFault(pageFaultCause(kind), va);
    return 0;
  }
  const ms = st64(ST_MSTATUS);
  let table = (satp & SATP_PPN_MASK) << 12;
  for (let lvl: i32 = <i32>levels - 1; lvl >= 0; lvl--) {
    const pteAddr = table + (((va >> (12 + 9 * <u64>lvl)) & 0x1ff) << 3);
    // Implicit accesses to the page table are S-mode reads for PMP (spec 3.7.1).
    const host = ramHost(pteAddr, 8);
    if (!host || !pmpAllows(pteAddr, 8, pmpPerm(0), PRV_S)) {
      memFault(accessFaultCause(kind), va);
      return 0;
    }
    let pte = load<u64>(host);
    // Invalid, W without R, or reserved bits 63:54 set (no Svnapot/Svpbmt): page fault.
    if (!(pte & PTE_V) || (pte & (PTE_R | PTE_W)) == PTE_W || pte >> 54) break;
    const ppn = (pte >> 10) & PTE_PPN_MASK;
    if (!(pte & (PTE_R | PTE_X))) {
      table = ppn << 12;
      continue;
    }
    // A leaf: privilege, permission, superpage alignment.
    if (prv == PRV_U) {
      if (!(pte & PTE_U)) break;
    } else if (pte & PTE_U) {
      // S-mode never executes user pages and touches their data only with SUM.
      if (kind == ACC_EXEC || !(ms & MSTATUS_SUM)) break;
    }
    if (kind == ACC_EXEC) {
      if (!(pte & PTE_X)) break;
    } else if (kind == ACC_WRITE) {
      if (!(pte & PTE_W)) break;
    } else if (!(pte & PTE_R) && !(ms & MSTATUS_MXR && pte & PTE_X)) {
      break;
    }
    const low: u64 = 9 * <u64>lvl;
    if (ppn & ((<u64>1 << low) - 1)) break;
    const need = kind == ACC_WRITE ? PTE_A | PTE_D : PTE_A;
    if ((pte & need) != need) {
      if (!pmpAllows(pteAddr, 8, pmpPerm(ACC_WRITE), PRV_S)) {
        memFault(accessFaultCause(kind), va);
        return 0;
      }
      pte |= need;
      store<u64>(host, pte);
      noteWrite(host);
      markDirty(host);
    }
    const off: u64 = (<u64>1 << (12 + low)) - 1;
    if (lvl) {
      // Widen the superpage range (see ST_TLB_SUPER_LO) before the TLB caches a part of it.
      if ((va & ~off) < st64(ST_TLB_SUPER_LO)) setSt64(ST_TLB_SUPER_LO, va & ~off);
      if ((va | off) > st64(ST_TLB_SUPER_HI)) setSt64(ST_TLB_SUPER_HI, va | off);
    }
    return ((ppn << 12) & ~off) | (va & off);
  }
  memFault(pageFaultCause(kind), va);
  return 0;
}

/**
 * One access of `size` bytes (within one page) of `kind`: translation, then PMP; fills the TLB
 * table the fast path reads when the whole page may be cached. Returns the physical address; on a
 * fault records it (memFault) and returns 0.
 */
export function xlate(va: u64, size: u32, kind: u32): u64 {
  count(C_XLATE);
  const prv = kind == ACC_EXEC ? <u32>st64(ST_PRIV) : dataPriv();
  const pa = translate(va, kind, prv);
  if (slowEvent == SLOW_FAULT) return 0;
  const perm = pmpPerm(kind);
  if (!pmpAllows(pa, size, perm, prv)) {
    memFault(accessFaultCause(kind), va);
    return 0;
  }
  const page = pa & ~0xfff;
  if (kind == ACC_WRITE) {
    // AMOs use the write table too: cache only pages PMP lets us both read and write.
    if (pmpAllows(page, 4096, perm | pmpPerm(0), prv)) {
      const h = ramHost(page, 4096);
      // The write TLB maps only pages marked dirty (dirtypages.ts): marked here, before caching.
      if (h) markDirty(h);
      // Pages holding decoded code stay out of the write TLB: their stores take the slow path,
      // which tells the block cache (codepages.ts).
      if (h && !isCodePage(h)) tlbFill(tlbW, va, h);
    }
  } else if (pmpAllows(page, 4096, perm, prv)) {
    let h = ramHost(page, 4096);
    if (!h) h = romHost(page, 4096);
    if (h) tlbFill(kind == ACC_EXEC ? tlbX : tlbR, va, h);
  }
  return pa;
}

