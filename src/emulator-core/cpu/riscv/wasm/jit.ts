// The core's side of dynamic binary translation (the translator itself is TypeScript, in
// src/emulator-core/tcg, and builds WebAssembly at run time). What lives here:
//   - heat: the interpreter counts entries of each decoded block and asks the translator for a
//     translation (the imported tcgHot) when one gets hot;
//   - the lookup of a translation by host address + pc (a direct-mapped hash in linear memory)
//     and its check against the guest bytes it was made from (once per memory epoch, as blocks.ts
//     checks decoded blocks), used by the run loop (run.ts) and, through jitLookup, by translated
//     code that chains to a target it cannot know in advance (indirect jumps, other pages);
//   - the helpers translated code calls for what it does not inline: TLB misses, MMIO, faults,
//     and any instruction it leaves to the interpreter's handler (jitExec).
// Translated functions have the type (budget: i32) -> i64: they run until they leave, and return
// the next pc (or STOP, as handlers do) with the budget left in MEM_JIT_VARS + JV_BUDGET.
//
// An entry (written by the translator in the arena, JE_* offsets): u32 host address of the first
// instruction, u32 function table index, u64 pc, u32 epoch of its last check, u32 host address and
// u32 length of the guest bytes it was made from, u32 address of their snapshot, u32 the budget
// it needs to make progress (its first block's length).
import {
  JIT_HASH, JV_BUDGET, JV_EPOCH, JV_JC_GEN, JV_TLB_X, JC_ENTRIES, JC_ENTRY_BYTES, MEM_JIT_JC, JV_EXIT, JV_LINK, JV_LINK_PC, JV_STATUS, JV_TLB_R, JV_TLB_W, MEM_JIT_ARENA, JIT_ARENA_BYTES, MEM_JIT_HASH,
  MEM_JIT_VARS, MEM_RVC, MEM_STATE, ST_X, TLB_ENTRIES, TLB_ENTRY_SIZE, TLB_MASK,
} from './layout';
import {
  SLOW_FAULT, SLOW_STOP, budgetLeft, excCause, excTval, memEpoch, requestStop, setBudget, sliceBudget, slowEvent, clearSlowEvent, stopAt,
} from './globals';
import { loadSlow, storeSlow } from './mem';
import { takeTrap } from './trap';
import { tlbLookup, tlbX } from './mmu';
import { markCodePage, clearCodeWritten, codeWritten } from './codepages';
import { decodeOp, execOp } from './decode.gen';
import { writeOp } from './blocks';
import { CONT, setBlockBase } from './op';
import { BLOCK_HEADER, OP_BYTES } from './layout';
import { C_JIT_DROP, C_JIT_ENTER, C_JIT_LOOKUP, C_JIT_CHECK, C_JIT_EXIT, C_JIT_HOT, JIT_EXIT_KINDS, count } from './counters';
import { mulhu64 } from './insn/rvm';
import { jumpCacheFill, jumpCacheInvalidate } from './jumpcache';

export const JE_HOST: u32 = 0;
export const JE_INDEX: u32 = 4;
export const JE_PC: u32 = 8;
export const JE_EPOCH: u32 = 16;
export const JE_SNAP_HOST: u32 = 20;
export const JE_SNAP_LEN: u32 = 24;
export const JE_SNAP: u32 = 28;
export const JE_MIN_BUDGET: u32 = 32;
export const JE_SIZE: u32 = 40;
/** JV_EXIT of a translation that left before a page-crossing instruction (tcg/core-abi.ts ExitKind.Guard). */
export const JIT_EXIT_GUARD: u32 = 6;

/** Decoded-block entries before a block asks for a translation (see tcg/ for what it costs). */
export let jitHotThreshold: u32 = 0;
/** Translation on (-accel tcg): the threshold is set; 0 keeps the interpreter alone (tci). */
export function setJitHotThreshold(n: u32): void {
  jitHotThreshold = n;
}

@external('env', 'tcgHot')
declare function tcgHot(host: u32, pc: u64, nextHalf: i32): void;

/**
 * The first 16 bits of the page after pc's, through the fetch TLB as it is now, or -1 (not
 * cached): what a translation needs for an instruction that crosses into that page (it checks
 * them again each time it runs).
 */
function nextPageHalf(pc: u64): i32 {
  const va = (pc & ~0xfff) + 0x1000;
  const t = tlbX + ((<u32>(va >> 12) & TLB_MASK) << 4);
  if (load<u64>(t) != va) return -1;
  return <i32>load<u16>(<u32>va + load<u32>(t, 8));
}

/**
 * A hot block still interpreted this many entries after it asked for a translation asks again (its
 * translation was evicted from the hash, dropped, or could not be made then).
 */
const JIT_REASK: u32 = 4096;

/** Called by the run loop on each entry of a decoded block (its heat at header offset 16). */
@inline export function jitHeat(block: u32, host: u32, pc: u64): void {
  const heat = load<u32>(block, 16) + 1;
  store<u32>(block, heat, 16);
  if (heat == jitHotThreshold || (heat > jitHotThreshold && (heat & (JIT_REASK - 1)) == 0)) {
    count(C_JIT_HOT);
    tcgHot(host, pc, nextPageHalf(pc));
  }
}

// The hash is 4-way set associative: a bucket of 4 ways { u32 host, u32 entry } per host hash,
// so regions at nearby addresses (one per entry point of the same code) rarely evict each other,
// and a miss (the common case while code is interpreted) reads one cache line, not the entries.
const JIT_WAYS: u32 = 4;
@inline function bucketOf(host: u32): u32 {
  return MEM_JIT_HASH + ((((host >> 1) ^ (host >> 15)) & (JIT_HASH / JIT_WAYS - 1)) << 5);
}
/** The way of the bucket holding the translation of (host, pc), or 0. */
@inline function findSlot(host: u32, pc: u64): u32 {
  const b = bucketOf(host);
  for (let w: u32 = 0; w < JIT_WAYS; w++) {
    const way = b + (w << 3);
    if (load<u32>(way) == host) {
      const e = load<u32>(way, 4);
      if (e && load<u64>(e, JE_PC) == pc) return way;
    }
  }
  return 0;
}

/** Whether the guest bytes a translation was made from are still there. */
function snapshotMatches(e: u32): bool {
  const host = load<u32>(e, JE_SNAP_HOST);
  const n = load<u32>(e, JE_SNAP_LEN);
  const snap = load<u32>(e, JE_SNAP);
  let k: u32 = 0;
  for (; k + 8 <= n; k += 8) if (load<u64>(host + k) != load<u64>(snap + k)) return false;
  for (; k < n; k += 2) if (load<u16>(host + k) != load<u16>(snap + k)) return false;
  return true;
}

/**
 * The translation for the instruction at host address `host` and virtual `pc`, checked against
 * guest memory for the current epoch; 0 if there is none (or it went stale: then it is dropped,
 * and the code is interpreted and translated afresh when it gets hot again).
 */
export function jitFind(host: u32, pc: u64): u32 {
  const slot = findSlot(host, pc);
  if (!slot) return 0;
  const e = load<u32>(slot, 4);
  const epoch = memEpoch();
  if (load<u32>(e, JE_EPOCH) != epoch) {
    count(C_JIT_CHECK);
    if (!snapshotMatches(e)) {
      count(C_JIT_DROP);
      store<u64>(slot, 0);
      return 0;
    }
    markCodePage(load<u32>(e, JE_SNAP_HOST));
    store<u32>(e, epoch, JE_EPOCH);
  }
  return e;
}

/** Runs the translation `e` with the current budget; returns the next pc (or STOP). */
@inline export function jitRun(e: u32): u64 {
  count(C_JIT_ENTER);
  store<u32>(MEM_JIT_VARS + JV_LINK, 0);
  const next = call_indirect<u64>(load<u32>(e, JE_INDEX), budgetLeft);
  setBudget(load<i32>(MEM_JIT_VARS + JV_BUDGET), sliceBudget);
  const why = load<u32>(MEM_JIT_VARS + JV_EXIT);
  count(C_JIT_EXIT + (why < JIT_EXIT_KINDS ? why : JIT_EXIT_KINDS - 1));
  return next;
}

/**
 * After a translation returned through a same-page exit (its chaining slot, where JV_LINK_PC says
 * it goes) and the run loop found the translation `e` of that pc: the exit chains to it from now
 * on, for this memory epoch (a slot is { u32 table index, u32 epoch }; a translation's same-page
 * targets share its page's mapping, so the link stays right while the code does).
 */
@inline export function jitLink(slot: u32, e: u32): void {
  store<u32>(slot, load<u32>(e, JE_INDEX));
  store<u32>(slot, memEpoch(), 4);
}

// ---- exports for the translator (wasm/index.ts re-exports them) ----

/**
 * Puts a translation the translator wrote at `e` into the hash (replacing whatever was there). Its
 * epoch is 0, so it is checked against guest memory before it first runs (the guest may have
 * changed the bytes since they were translated).
 */
export function jitInstall(e: u32): bool {
  if (e < MEM_JIT_ARENA || e + JE_SIZE > MEM_JIT_ARENA + JIT_ARENA_BYTES) return false;
  store<u32>(e, 0, JE_EPOCH);
  const host = load<u32>(e, JE_HOST);
  let slot = findSlot(host, load<u64>(e, JE_PC));
  if (!slot) {
    // An empty way, else the one the host's low bits pick (a cheap spread of evictions).
    const b = bucketOf(host);
    slot = b + (((host >> 1) & (JIT_WAYS - 1)) << 3);
    for (let w: u32 = 0; w < JIT_WAYS; w++) {
      if (!load<u32>(b + (w << 3), 4)) {
        slot = b + (w << 3);
        break;
      }
    }
  }
  store<u32>(slot, host);
  store<u32>(slot, e, 4);
  return true;
}

/** Forgets every translation (the translator's arena or table is full, or a reset). */
export function jitFlush(): void {
  memory.fill(MEM_JIT_HASH, 0, JIT_HASH * 8);
  // Table indices are reused from now on.
  jumpCacheInvalidate();
}

/**
 * Writes at `at` a one-op block (blocks.ts layout) for the instruction `raw` (16 or 32 bits),
 * so translated code can run it with the interpreter's handler (jitExec). 48 bytes.
 */
export function jitWriteOp(at: u32, raw: u32, len: u32): void {
  let x = raw;
  if (len == 2) x = load<u32>(MEM_RVC + ((raw & 0xffff) << 2));
  memory.fill(at, 0, BLOCK_HEADER);
  store<u16>(at, 1, 4);
  store<u16>(at, <u16>len, 6);
  const rec = at + BLOCK_HEADER;
  writeOp(rec, decodeOp(x), x, 0, len, 0);
  store<u32>(rec + OP_BYTES, raw);
}
export const JIT_OP_BYTES: u32 = 48;

// ---- helpers translated code imports ----

/** A load that missed the TLB (loadSlow); the event (0, SLOW_FAULT, SLOW_STOP) goes to JV_STATUS. */
export function jitLoad(va: u64, size: u32): u64 {
  const v = loadSlow(va, size);
  store<u32>(MEM_JIT_VARS + JV_STATUS, slowEvent);
  return v;
}

/**
 * A store that missed the TLB (storeSlow). One that wrote a page holding code stops after itself
 * (the code after it may be stale: the run loop checks it again; the interpreter does the same),
 * as does MMIO that changed an interrupt line.
 */
export function jitStore(va: u64, v: u64, size: u32): void {
  storeSlow(va, v, size);
  store<u32>(MEM_JIT_VARS + JV_STATUS, slowEvent);
}

/** Ends an instruction whose slow path reported an event: its trap, or a stop after it. */
export function jitSlowExit(pc: u64, npc: u64): u64 {
  const ev = slowEvent;
  clearSlowEvent();
  store<u32>(MEM_JIT_VARS + JV_STATUS, 0);
  if (ev == SLOW_FAULT) return takeTrap(excCause, excTval, pc);
  return stopAt(npc);
}

/**
 * Runs the one-op block at `op` (jitWriteOp) for the instruction at `pc` with the interpreter's
 * handler, the translated code's budget in force (counters and time read it). Returns what the
 * handler does: CONT, a pc, or STOP.
 */
export function jitExec(op: u32, pc: u64, budget: i32): u64 {
  setBudget(budget, sliceBudget);
  setBlockBase(pc);
  store<u64>(MEM_STATE + ST_X, 0);
  return execOp(op + BLOCK_HEADER);
}

/**
 * The table index of the translation to chain to at `pc` (an indirect jump, another page), or 0:
 * return to the loop. Translated code calls it when its inline probe of the jump cache missed;
 * a hit here fills the cache.
 */
export function jitLookup(pc: u64): u32 {
  count(C_JIT_LOOKUP);
  const host = tlbLookup(tlbX, pc);
  if (!host) return 0;
  const slot = findSlot(host, pc);
  if (!slot) return 0;
  const e = load<u32>(slot, 4);
  if (load<u32>(e, JE_EPOCH) != memEpoch()) return 0;
  const index = load<u32>(e, JE_INDEX);
  jumpCacheFill(pc, tlbX, index);
  return index;
}

/** High halves of 64x64 products (WebAssembly has no 128-bit multiply): kind 0 mulh, 1 mulhsu, 2 mulhu. */
export function jitMulh(a: u64, b: u64, kind: u32): u64 {
  let h = mulhu64(a, b);
  if (kind < 2 && <i64>a < 0) h -= b;
  if (kind == 0 && <i64>b < 0) h -= a;
  return h;
}

/** Why translated code returned to the loop (JV_EXIT), for -d tcg-stats. */
export function jitExitReason(): u32 {
  return load<u32>(MEM_JIT_VARS + JV_EXIT);
}

/** The layout translated code relies on, for tcg/core-abi.ts to check (same order as its abiValues). */
export function jitAbi(i: u32): u32 {
  switch (i) {
    case 0: return ST_X;
    case 1: return TLB_ENTRIES;
    case 2: return TLB_ENTRY_SIZE;
    case 3: return JV_EPOCH;
    case 4: return JV_BUDGET;
    case 5: return JV_STATUS;
    case 6: return JV_LINK;
    case 7: return JV_EXIT;
    case 8: return JV_TLB_R;
    case 9: return JV_TLB_W;
    case 10: return JV_LINK_PC;
    case 11: return JE_HOST;
    case 12: return JE_INDEX;
    case 13: return JE_PC;
    case 14: return JE_EPOCH;
    case 15: return JE_SNAP_HOST;
    case 16: return JE_SNAP_LEN;
    case 17: return JE_SNAP;
    case 18: return JE_MIN_BUDGET;
    case 19: return JE_SIZE;
    case 20: return SLOW_FAULT;
    case 21: return SLOW_STOP;
    case 22: return <u32>CONT;
    case 23: return JV_JC_GEN;
    case 24: return MEM_JIT_JC;
    case 25: return JC_ENTRIES;
    case 26: return JC_ENTRY_BYTES;
    case 27: return JV_TLB_X;
  }
  return 0xffff_ffff;
}
