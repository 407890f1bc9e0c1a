// Entry of the CPU core module (out/wasm/riscv64.wasm): what the TS side (../wasm-cpu.ts) calls.
// 64-bit values cross as BigInt (i64) except mtime, which is an f64 (exact below 2^53) so the
// per-slice setTime allocates nothing. Harts are validated here too; the TS side checks first.
import {
  MAX_HARTS, MEM_RAM, MEM_ROM, MEM_RVC, MEM_SLOTS, MEM_STATE, MEM_STEP, MEM_TLB, ROM_MAX, STATE_SIZE, ST_F, ST_IRQ_LINES,
  ST_MCOUNTEREN, ST_MEDELEG, ST_MENVCFG, ST_MHARTID, ST_MIDELEG, ST_MIE, ST_MINSTRET, ST_MSTATUS, ST_PC,
  ST_PMPADDR, ST_PMPCFG, ST_PRIV, ST_STIMECMP, ST_TLB_SUPER_HI, ST_TLB_SUPER_LO, ST_X, TLB_HART_BYTES,
  setSt64, st64,
} from './layout';
import { MENVCFG_STCE, MSTATUS_XLEN64, PRV_M, PRV_S, PRV_U, S_INTERRUPTS } from './bits';
import { ST_MIP } from './layout';
import { breakpointCount, breakpoints, builtinFirmware, configure, dropReservation, numHarts, requestExitNow, setBreakpointCount, setIrqChanged, setMtime, setPauseYields } from './globals';
import { curHart, setCurHart, tlbFlushAll, tlbFlushEveryHart, updateTlbBases } from './mmu';
import { PMPADDR_MASK, pmpUpdateLocked } from './pmp';
import { effectiveMipAt } from './trap';
import { csrMissing, csrRead, csrWrite, instretLive } from './csr';
import { ILLEGAL_EXPANSION, expand16 } from './decode.gen';
import { lastRetired, runSlice } from './run';
import { blocksClear } from './blocks';
import { counterValue, resetCounters } from './counters';
import { dirtyClear, dirtyRamMap } from './dirtypages';
import { jitFlush } from './jit';
import { jumpCacheInvalidate } from './jumpcache';
import { JIT_ARENA_BYTES, JV_EPOCH, MEM_CODE_PAGES, MEM_JIT_ARENA, MEM_JIT_VARS } from './layout';

// The translator's interface (jit.ts): tcg/ builds functions that import these.
export {
  JIT_OP_BYTES, jitAbi, jitExec, jitFlush, jitInstall, jitLoad, jitLookup, jitMulh, jitSlowExit, jitStore, jitWriteOp,
  setJitHotThreshold,
} from './jit';
export { setPreciseEpoch } from './globals';
/** The code-page map (codepages.ts): a byte per 4 KiB of linear memory, nonzero if it holds decoded code. */
export function codePagesOffset(): u32 {
  return MEM_CODE_PAGES;
}
/** Where the words shared with translated code are (layout.ts JV_*). */
export function jitVarsOffset(): u32 {
  return MEM_JIT_VARS;
}
/** The arena the translator owns: [jitArenaOffset, + jitArenaBytes). */
export function jitArenaOffset(): u32 {
  return MEM_JIT_ARENA;
}
export function jitArenaBytes(): u32 {
  return JIT_ARENA_BYTES;
}

export { resetCounters };
/** The dirty-page bitmap of RAM (dirtypages.ts): where it starts, and clearing it between runs. */
export { dirtyClear, dirtyRamMap };
/** A slow-path counter (counters.ts); f64 so that reading it allocates no BigInt. */
export function perfCounter(i: u32): f64 {
  return <f64>counterValue(i);
}

let running: bool = false;
/** Scratch for setBreakpointsFrom: MAX_BREAKPOINTS u64s after the step block. */
const BREAKPOINTS_AT: u32 = MEM_STEP + 0x400;
let lastRunHart: u32 = 0;

/** Error codes of init. */
const INIT_OK: i32 = 0;
const INIT_BAD_CONFIG: i32 = 1;
const INIT_MEMORY_TOO_SMALL: i32 = 2;
const INIT_STATIC_DATA_OVERLAP: i32 = 3;

/** Bytes of linear memory the TS side must provide for `ramSize` bytes of RAM. */
export function memoryBytes(ramSize: u64): u64 {
  return <u64>MEM_RAM + ramSize;
}
export function ramOffset(): u32 {
  return MEM_RAM;
}
export function romOffset(): u32 {
  return MEM_ROM;
}
export function stateOffset(): u32 {
  return MEM_STATE;
}

export function init(ramBase: u64, ramSize: u64, romBase: u64, romSize: u64, harts: u32, builtin: bool): i32 {
  if (harts < 1 || harts > MAX_HARTS || romSize > ROM_MAX || ramSize == 0 || ramSize & 0xfff) return INIT_BAD_CONFIG;
  // RAM and ROM must not overlap each other.
  if (romSize && romBase < ramBase + ramSize && ramBase < romBase + romSize) return INIT_BAD_CONFIG;
  if (<u64>memory.size() << 16 < memoryBytes(ramSize)) return INIT_MEMORY_TOO_SMALL;
  // Static data starts at asconfig's memoryBase, above MEM_STEP; the stub runtime's few
  // allocations (the counters) follow it and must stay below the RVC table.
  if (<u32>__data_end > MEM_RVC - 0x1000 || <u32>__heap_base > MEM_RVC - 0x1000) return INIT_STATIC_DATA_OVERLAP;
  configure(ramBase, ramSize, romBase, romSize, harts, builtin);
  setPauseYields(harts > 1);
  for (let h: u32 = 0; h < 0x10000; h++) {
    const x = expand16(h);
    store<u32>(MEM_RVC + (h << 2), x ? x : ILLEGAL_EXPANSION);
  }
  memory.fill(MEM_STATE, 0, STATE_SIZE);
  memory.fill(MEM_SLOTS, 0, MAX_HARTS * STATE_SIZE);
  memory.fill(MEM_JIT_VARS, 0, 0x100);
  store<u32>(MEM_JIT_VARS + JV_EPOCH, 1);
  blocksClear();
  jitFlush();
  setCurHart(0);
  for (let h: u32 = 0; h < harts; h++) resetHart(h, 0);
  selectHart(0);
  return INIT_OK;
}

/** Where hart h's state lives now: the active area or its slot. */
function hartBase(h: u32): u32 {
  return h == curHart ? MEM_STATE : MEM_SLOTS + h * STATE_SIZE;
}

/** Makes hart h the active one (its state copied into MEM_STATE). Never during a run. */
function selectHart(h: u32): void {
  if (h != curHart) {
    memory.copy(MEM_SLOTS + curHart * STATE_SIZE, MEM_STATE, STATE_SIZE);
    memory.copy(MEM_STATE, MEM_SLOTS + h * STATE_SIZE, STATE_SIZE);
    setCurHart(h);
  }
  updateTlbBases();
}

@inline function validHart(h: u32): bool {
  return h < numHarts;
}

export function run(hart: u32, budget: i32): i32 {
  if (!validHart(hart) || running || budget <= 0) return 0;
  selectHart(hart);
  // The reservation belongs to the hart that last ran (spec: an SC may fail for any reason).
  if (hart != lastRunHart) dropReservation();
  lastRunHart = hart;
  running = true;
  const r = runSlice(budget);
  running = false;
  return r;
}

export function lastRunInstructions(): i32 {
  return lastRetired;
}

/** mtime at the start of the next run and how it advances per instruction (globals.ts setMtime). */
export function setTime(t: f64, num: u32, den: u32, phase: u32): void {
  setMtime(<u64>t, <u64>num, <u64>den, den ? <u64>(phase % den) : 0);
}

/** Ends the running hart's run after the current instruction (no-op between runs). */
export function requestExit(): void {
  if (running) requestExitNow();
}

export function setIrq(hart: u32, line: u32, level: bool): void {
  if (!validHart(hart) || line > 11 || !((<u32>0xaaa >> line) & 1)) return;
  const a = hartBase(hart) + ST_IRQ_LINES;
  const bit: u64 = <u64>1 << line;
  const old = load<u64>(a);
  const nv = level ? old | bit : old & ~bit;
  if (nv != old) {
    store<u64>(a, nv);
    setIrqChanged(true);
  }
}

/** mip & mie != 0: what wakes a WFI (global enables do not matter, spec 3.3.3). */
export function hasPendingInterrupt(hart: u32): bool {
  if (!validHart(hart)) return false;
  const base = hartBase(hart);
  return (effectiveMipAt(base) & load<u64>(base + ST_MIE)) != 0;
}

/**
 * Power-on reset: M-mode at pc, CSRs at reset values (the board's interrupt line levels are kept).
 * With built-in firmware the hart comes out in S-mode with the M-mode CSRs as OpenSBI leaves them
 * for the kernel: exceptions except S-mode ECALL and the S interrupts delegated, every counter
 * readable from S, Sstc enabled (menvcfg.STCE), and PMP entry 0 granting all memory to S/U.
 */
export function resetHart(hart: u32, pc: u64): void {
  if (!validHart(hart) || running) return;
  selectHart(hart);
  const lines = st64(ST_IRQ_LINES);
  memory.fill(MEM_STATE, 0, STATE_SIZE);
  setSt64(ST_IRQ_LINES, lines);
  setSt64(ST_PC, pc & ~1);
  setSt64(ST_PRIV, PRV_M);
  setSt64(ST_MSTATUS, MSTATUS_XLEN64);
  setSt64(ST_MHARTID, hart);
  setSt64(ST_STIMECMP, <u64>-1);
  if (builtinFirmware) {
    setSt64(ST_MEDELEG, 0xb1ff);
    setSt64(ST_MIDELEG, S_INTERRUPTS);
    setSt64(ST_MCOUNTEREN, 0xffff_ffff);
    setSt64(ST_MENVCFG, MENVCFG_STCE);
    store<u64>(MEM_STATE + ST_PMPADDR, PMPADDR_MASK);
    store<u8>(MEM_STATE + ST_PMPCFG, 0x1f); // NAPOT, R W X
    pmpUpdateLocked();
    setSt64(ST_PRIV, PRV_S);
  }
  memory.fill(MEM_TLB + hart * TLB_HART_BYTES, 0xff, TLB_HART_BYTES);
  jumpCacheInvalidate();
  setSt64(ST_TLB_SUPER_LO, <u64>-1);
  setSt64(ST_TLB_SUPER_HI, 0);
  updateTlbBases();
}

export function getPc(hart: u32): u64 {
  return validHart(hart) ? load<u64>(hartBase(hart) + ST_PC) : 0;
}
export function setPc(hart: u32, pc: u64): void {
  if (validHart(hart)) store<u64>(hartBase(hart) + ST_PC, pc & ~1);
}
export function getX(hart: u32, r: u32): u64 {
  return validHart(hart) && r > 0 && r < 32 ? load<u64>(hartBase(hart) + ST_X + (r << 3)) : 0;
}
export function setX(hart: u32, r: u32, v: u64): void {
  if (validHart(hart) && r > 0 && r < 32) store<u64>(hartBase(hart) + ST_X + (r << 3), v);
}
export function getF(hart: u32, r: u32): u64 {
  return validHart(hart) && r < 32 ? load<u64>(hartBase(hart) + ST_F + (r << 3)) : 0;
}
export function setF(hart: u32, r: u32, v: u64): void {
  if (validHart(hart) && r < 32) store<u64>(hartBase(hart) + ST_F + (r << 3), v);
}
export function getPriv(hart: u32): u32 {
  return validHart(hart) ? <u32>load<u64>(hartBase(hart) + ST_PRIV) : 0;
}
export function setPriv(hart: u32, p: u32): void {
  if (!validHart(hart) || (p != PRV_U && p != PRV_S && p != PRV_M)) return;
  store<u64>(hartBase(hart) + ST_PRIV, p);
  if (hart == curHart) updateTlbBases();
}

let csrOk: bool = false;
/** Whether the last csrGet found the CSR. */
export function csrGetOk(): bool {
  return csrOk;
}
/** Reads a CSR as M-mode would (no privilege check). Not for another hart during a run. */
export function csrGet(hart: u32, csr: u32): u64 {
  csrOk = false;
  if (!validHart(hart) || csr > 0xfff || (running && hart != curHart)) return 0;
  if (!running) selectHart(hart);
  const v = csrRead(csr);
  csrOk = !csrMissing;
  return v;
}
/** Writes a CSR as M-mode would (WARL rules apply); false for an unimplemented one. */
export function csrSet(hart: u32, csr: u32, v: u64): bool {
  if (!validHart(hart) || csr > 0xfff || (running && hart != curHart)) return false;
  if (!running) selectHart(hart);
  csrWrite(csr, v);
  return !csrMissing;
}

export function instret(hart: u32): u64 {
  if (!validHart(hart)) return 0;
  if (hart == curHart) return instretLive();
  return load<u64>(hartBase(hart) + ST_MINSTRET);
}

/** Drops every cached translation of the hart (SBI remote SFENCE.VMA). */
export function flushTlb(hart: u32): void {
  if (!validHart(hart)) return;
  if (hart == curHart) {
    tlbFlushAll();
    return;
  }
  memory.fill(MEM_TLB + hart * TLB_HART_BYTES, 0xff, TLB_HART_BYTES);
  jumpCacheInvalidate();
  store<u64>(hartBase(hart) + ST_TLB_SUPER_LO, <u64>-1);
  store<u64>(hartBase(hart) + ST_TLB_SUPER_HI, 0);
}

/** The expansion table's entry for a 16-bit word (tests compare it with the TS decoder). */
export function expandedCompressed(h: u32): u32 {
  return load<u32>(MEM_RVC + ((h & 0xffff) << 2));
}

/** Sets the breakpoints (virtual addresses, all harts): addresses at BREAKPOINTS_AT, count n. */
export function setBreakpointsFrom(n: u32): void {
  setBreakpointCount(n);
  for (let i: u32 = 0; i < breakpointCount; i++) unchecked((breakpoints[i] = load<u64>(BREAKPOINTS_AT + (i << 3))));
}
/** Where the TS side writes breakpoint addresses before setBreakpointsFrom (a scratch area). */
export function breakpointsScratch(): u32 {
  return BREAKPOINTS_AT;
}

/** Every hart's TLB at once (used after the board rewrites guest memory wholesale, e.g. a restore). */
export function flushAllTlbs(): void {
  tlbFlushEveryHart(numHarts);
}

// ---- vmstate (../hart-vmstate.ts): the hart state that the CSR interface cannot round-trip ----
// mip reads as the OR of the software-written bits and the board's line levels; a snapshot keeps
// them apart, or a restored line-driven bit would stick as a software one.

/** mip's software-written bits (SSIP, STIP, SEIP). */
export function mipSoftware(hart: u32): u64 {
  return validHart(hart) ? load<u64>(hartBase(hart) + ST_MIP) : 0;
}
export function setMipSoftware(hart: u32, v: u64): void {
  if (!validHart(hart) || running) return;
  store<u64>(hartBase(hart) + ST_MIP, v & S_INTERRUPTS);
  setIrqChanged(true);
}
/** The interrupt line levels the board drives (mip bit numbers). */
export function irqLines(hart: u32): u64 {
  return validHart(hart) ? load<u64>(hartBase(hart) + ST_IRQ_LINES) : 0;
}
/** Drops the LR reservation (a snapshot never carries one: an SC after a restore fails, as the spec allows). */
export function clearReservation(): void {
  dropReservation();
}
