// Guest virtual memory accesses: the TLB fast paths the handlers inline, and the one slow path
// each for loads, stores, AMOs and instruction fetch (translation, PMP, page crossings, MMIO).
// A slow path that faults records it (memFault: slowEvent = SLOW_FAULT) and the handler raises
// the trap; an MMIO access that changed an interrupt line sets SLOW_STOP after completing.
import { TLB_MASK } from './layout';
import { ACC_EXEC, ACC_READ, ACC_WRITE, CAUSE_MISALIGNED_LOAD, CAUSE_MISALIGNED_STORE, CAUSE_STORE_ACCESS } from './bits';
import { SLOW_FAULT, excCause, excTval, memFault, requestStop, slowEvent, stopAt } from './globals';
import { accessFaultCause, tlbLookup, tlbR, tlbW, tlbX, xlate } from './mmu';
import { isRamHost, memHost, physOk, physRead, physWrite, ramHost } from './phys';
import { takeTrap } from './trap';
import { CONT, npcOf, pcOf } from './op';
import { clearCodeWritten, codeWritten, noteWrite } from './codepages';
import { markDirty } from './dirtypages';
import { C_FETCH_SLOW, C_LOAD_SLOW, C_STORE_SLOW, count } from './counters';

/**
 * Host address for an aligned access of `size` bytes at va in `table`, or 0 on a miss. The tag
 * compare includes va's low alignment bits, so a misaligned address misses (and takes the slow
 * path, which performs it).
 */
@inline export function tlbHit(table: u32, va: u64, size: u64): u32 {
  const e = table + ((<u32>(va >> 12) & TLB_MASK) << 4);
  return load<u64>(e) == (va & (0xffff_ffff_ffff_f000 | (size - 1))) ? <u32>va + load<u32>(e, 8) : 0;
}
@inline export function readHost(va: u64, size: u64): u32 {
  return tlbHit(tlbR, va, size);
}
@inline export function writeHost(va: u64, size: u64): u32 {
  return tlbHit(tlbW, va, size);
}

/** Ends an instruction whose slow path reported something: raise its fault, or stop after it. */
export function slowExit(rec: u32): u64 {
  const ev = slowEvent;
  slowEvent = 0;
  if (ev == SLOW_FAULT) return takeTrap(excCause, excTval, pcOf(rec));
  return stopAt(npcOf(rec));
}

// ---- loads ----

/** Loads size bytes at va (zero-extended); on a fault returns 0 with slowEvent = SLOW_FAULT. */
export function loadSlow(va: u64, size: u32): u64 {
  count(C_LOAD_SLOW);
  const inPage = <u32>(va & 0xfff);
  if (inPage + size > 4096) {
    // Crosses a page: byte by byte, each through its own translation.
    let v: u64 = 0;
    for (let i: u32 = 0; i < size; i++) {
      v |= loadSlow(va + i, 1) << (i * 8);
      if (slowEvent == SLOW_FAULT) return 0;
    }
    return v;
  }
  let h = tlbLookup(tlbR, va);
  if (!h) {
    const pa = xlate(va, size, ACC_READ);
    if (slowEvent == SLOW_FAULT) return 0;
    h = tlbLookup(tlbR, va);
    if (!h) {
      const v = physRead(pa, size);
      if (!physOk) memFault(accessFaultCause(ACC_READ), va);
      return v;
    }
  }
  if (size == 8) return load<u64>(h);
  if (size == 4) return <u64>load<u32>(h);
  if (size == 2) return <u64>load<u16>(h);
  return <u64>load<u8>(h);
}

// ---- stores ----

/**
 * Stores size bytes of v at va; on a fault nothing is written and slowEvent = SLOW_FAULT. A store
 * that wrote a page holding code stops after its instruction (SLOW_STOP), in the interpreter as
 * in translated code: what runs next is fetched and checked afresh, so both run the same bytes.
 */
export function storeSlow(va: u64, v: u64, size: u32): void {
  clearCodeWritten();
  storeSlowAccess(va, v, size);
  if (codeWritten) requestStop();
}

function storeSlowAccess(va: u64, v: u64, size: u32): void {
  count(C_STORE_SLOW);
  const inPage = <u32>(va & 0xfff);
  if (inPage + size > 4096) {
    // Crosses a page: check both pages before writing anything (precise faults).
    const first: u32 = 4096 - inPage;
    const pa1 = xlate(va, first, ACC_WRITE);
    if (slowEvent == SLOW_FAULT) return;
    const pa2 = xlate(va + first, size - first, ACC_WRITE);
    if (slowEvent == SLOW_FAULT) return;
    for (let i: u32 = 0; i < size; i++) {
      physWrite(i < first ? pa1 + i : pa2 + (i - first), 1, (v >> (i * 8)) & 0xff);
      if (!physOk) {
        memFault(CAUSE_STORE_ACCESS, va + i);
        return;
      }
    }
    return;
  }
  let h = tlbLookup(tlbW, va);
  if (!h) {
    const pa = xlate(va, size, ACC_WRITE);
    if (slowEvent == SLOW_FAULT) return;
    h = tlbLookup(tlbW, va);
    if (!h) {
      physWrite(pa, size, v);
      if (!physOk) memFault(CAUSE_STORE_ACCESS, va);
      return;
    }
  }
  if (size == 8) store<u64>(h, v);
  else if (size == 4) store<u32>(h, <u32>v);
  else if (size == 2) store<u16>(h, <u16>v);
  else store<u8>(h, <u8>v);
}

// ---- AMOs and LR/SC ----

/**
 * Host address for an atomic access (needs read and write permission; RAM only, naturally
 * aligned), or 0 with the fault recorded. Misaligned -> store/AMO address misaligned (QEMU).
 */
export function amoHost(va: u64, size: u32): u32 {
  clearCodeWritten();
  if (va & (size - 1)) {
    memFault(CAUSE_MISALIGNED_STORE, va);
    return 0;
  }
  let h = writeHost(va, size);
  if (h) return h;
  const pa = xlate(va, size, ACC_WRITE);
  if (slowEvent == SLOW_FAULT) return 0;
  h = ramHost(pa, size);
  if (!h) {
    // Atomics on devices or ROM are not supported (no AMO PMA there): access fault.
    memFault(CAUSE_STORE_ACCESS, va);
    return 0;
  }
  noteWrite(h); // about to be written (a code page is never in the write TLB)
  markDirty(h); // the page may not be cached for writes (code, PMP not uniform over it)
  return h;
}

/**
 * How an AMO or SC that wrote through amoHost ends: stopped after itself if it wrote a page holding
 * code (as storeSlow does for stores), else on to the next instruction.
 */
export function afterAtomicWrite(rec: u32): u64 {
  return codeWritten ? stopAt(npcOf(rec)) : CONT;
}

/** Host address for LR (load permission; RAM only), or 0 with the fault recorded. */
export function lrHost(va: u64, size: u32): u32 {
  if (va & (size - 1)) {
    memFault(CAUSE_MISALIGNED_LOAD, va);
    return 0;
  }
  let h = readHost(va, size);
  if (h && isRamHost(h, size)) return h;
  const pa = xlate(va, size, ACC_READ);
  if (slowEvent == SLOW_FAULT) return 0;
  h = ramHost(pa, size);
  if (!h) {
    memFault(accessFaultCause(ACC_READ), va);
    return 0;
  }
  return h;
}

// ---- instruction fetch ----

/** The code page the loop caches after a fetchSlow: page vaddr and host address of its start
 * (fetchHost 0: the page must not be cached; run each instruction through fetchSlow). */
export let fetchPage: u64 = 0;
export let fetchHost: u32 = 0;

function fetchHalf(va: u64): u32 {
  let h = tlbLookup(tlbX, va);
  if (!h) {
    const pa = xlate(va, 2, ACC_EXEC);
    if (slowEvent == SLOW_FAULT) return 0;
    h = memHost(pa, 2);
    if (!h) {
      memFault(accessFaultCause(ACC_EXEC), va);
      return 0;
    }
  }
  return <u32>load<u16>(h);
}

/** Fetches the instruction at pc (16 or 32 bits) and sets up the code page cache. */
export function fetchSlow(pc: u64): u32 {
  count(C_FETCH_SLOW);
  fetchHost = 0;
  let h = tlbLookup(tlbX, pc);
  if (!h) {
    xlate(pc, 2, ACC_EXEC);
    if (slowEvent == SLOW_FAULT) return 0;
    h = tlbLookup(tlbX, pc);
  }
  const off = <u32>(pc & 0xfff);
  if (h) {
    fetchPage = pc & ~0xfff;
    fetchHost = h - off;
    if (off <= 0xffc) return load<u32>(h);
  }
  const lo = fetchHalf(pc);
  if (slowEvent == SLOW_FAULT || (lo & 3) != 3) return lo;
  const hi = fetchHalf(pc + 2);
  return lo | (hi << 16);
}
