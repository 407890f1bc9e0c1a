// The interpreter loop (TinyEMU's shape, with decoded blocks): pc is translated only when it
// leaves the cached code page; within the page, execution goes block by block through the
// decoded-block cache (blocks.ts), each op dispatched on its id. Everything rare leaves through
// one slow path: a handler returns STOP (an impossible pc) after traps, exits, and anything that
// changes translation or interrupt state; the loop then re-checks interrupts and drops the code
// page. A block ends at control transfers and SYSTEM instructions; an op that does not continue
// to its sequential successor (a taken trap, STOP) ends it early.
import { BLOCK_HEADER, MEM_RVC, MEM_STATE, MEM_STEP, OP_BYTES, ST_PC, ST_X, setSt64, st64 } from './layout';
import {
  EXIT_BREAKPOINT, EXIT_BUDGET, EXIT_NONE, STOP, breakpointCount, breakpoints, budgetLeft, exitAt, memMayHaveChanged, excCause, excTval, exitReason, irqChanged, resumePc, sliceBudget,
  slowEvent,
} from './globals';
import { fetchHost, fetchPage, fetchSlow } from './mem';
import { pendingInterrupt, takeInterrupt, takeTrap } from './trap';
import { decodeOp, execOp } from './decode.gen';
import { blockAt, blockPeek, writeOp } from './blocks';
import { CONT, npcOf, setBlockBase } from './op';
import { retireSlice } from './csr';
import { C_INTERP_INSNS, C_JIT_AFTER_EXIT, C_STEP, C_STOP, count, countN } from './counters';
import { JE_MIN_BUDGET, JIT_EXIT_GUARD, jitFind, jitHeat, jitHotThreshold, jitLink, jitRun } from './jit';
import { JV_EXIT, JV_LINK, JV_LINK_PC, MEM_JIT_VARS } from './layout';

/** Instructions retired by the last runSlice. */
export let lastRetired: i32 = 0;

/** Runs one instruction fetched by fetchSlow (page-crossing or from an uncacheable page). */
function step(insn: u32, pc: u64): u64 {
  count(C_STEP);
  let x = insn;
  let len: u32 = 4;
  if ((insn & 3) != 3) {
    insn &= 0xffff;
    x = load<u32>(MEM_RVC + (insn << 2));
    len = 2;
  }
  // A one-instruction block at MEM_STEP (its snapshot holds the raw bits, for tval).
  store<u16>(MEM_STEP, 1, 4);
  store<u16>(MEM_STEP, <u16>len, 6);
  const rec = MEM_STEP + BLOCK_HEADER;
  store<u32>(rec + OP_BYTES, insn);
  writeOp(rec, decodeOp(x), x, 0, len, 0);
  store<u64>(MEM_STATE + ST_X, 0);
  setBlockBase(pc);
  const next = execOp(rec);
  return next == CONT ? pc + len : next;
}

/** The pc this run started from and whether an instruction was checked since (breakpoints). */
let bpStartPc: u64 = 0;
let bpStarted: bool = false;

/**
 * Whether the hart must stop before the instruction at pc: a breakpoint is there and it is not
 * the pc the run started from (a debugger resumes from a breakpoint by running it).
 */
function atBreakpoint(pc: u64): bool {
  const resumed = pc == bpStartPc && !bpStarted;
  bpStarted = true;
  if (resumed) return false;
  for (let i: u32 = 0; i < breakpointCount; i++) if (unchecked(breakpoints[i]) == pc) return true;
  return false;
}

/** Runs the active hart for at most `budget` instructions; returns the exit reason. */
export function runSlice(budget: i32): i32 {
  exitReason = EXIT_NONE;
  memMayHaveChanged();
  sliceBudget = budget;
  budgetLeft = budget;
  irqChanged = false;
  let pc = st64(ST_PC);
  // The code page cache: while pc - codePage < codeLimit (0x1000, or 0 when there is none),
  // pc's bytes are at codeHost + (pc - codePage).
  let codePage: u64 = 0;
  let codeHost: u32 = 0;
  let codeLimit: u64 = 0;
  // The chaining slot of the direct exit translated code just returned through (jit.ts jitRun):
  // linked to the translation of its target if the next thing run is that translation.
  let link: u32 = 0;
  let fromJit = false;
  let interpretNext = false;
  const first = pendingInterrupt();
  if (first >= 0) pc = takeInterrupt(first, pc);
  bpStartPc = pc;
  bpStarted = false;

  while (budgetLeft > 0) {
    if (pc == STOP) {
      count(C_STOP);
      link = 0;
      pc = resumePc;
      if (exitReason != EXIT_NONE) break;
      codeLimit = 0;
      irqChanged = false;
      const irq = pendingInterrupt();
      if (irq >= 0) pc = takeInterrupt(irq, pc);
      continue;
    }
    let off = pc - codePage;
    if (off >= codeLimit) {
      const insn = fetchSlow(pc);
      if (slowEvent) {
        // A fetch fault: it costs a budget unit so that a trap loop cannot hang the host.
        slowEvent = 0;
        budgetLeft--;
        pc = takeTrap(excCause, excTval, pc);
        continue;
      }
      codePage = fetchPage;
      codeHost = fetchHost;
      codeLimit = fetchHost ? 0x1000 : 0;
      off = pc - codePage;
      if (off >= codeLimit) {
        // Code that cannot be cached (e.g. a partial ROM page): one instruction at a time.
        if (breakpointCount && atBreakpoint(pc)) {
          pc = exitAt(pc, EXIT_BREAKPOINT);
          continue;
        }
        budgetLeft--;
        pc = step(insn, pc);
        continue;
      }
    }
    // Breakpoints (only when a debugger set some): stop before one; see atBreakpoint.
    if (breakpointCount && atBreakpoint(pc)) {
      pc = exitAt(pc, EXIT_BREAKPOINT);
      continue;
    }
    const host = codeHost + <u32>off;
    // Translated code first (jit.ts), looked up only where there can be some: not in a cached
    // block still warming up (0 < heat < threshold: it has not asked for a translation). Probing
    // the translation hash for every interpreted block was a cache miss each time (perf: a sixth
    // of this function in a boot). Where no block is cached, or one never run since it was
    // decoded (the block cache may have dropped it while its translation lived on), it probes.
    // A block with a translation that is interpreted all the same (too little budget left, or
    // after a guard exit) keeps heat 0, so that it keeps finding its translation.
    let translated = false;
    if (jitHotThreshold && !breakpointCount) {
      const cached = blockPeek(host);
      const heat = cached ? load<u32>(cached, 16) : 0;
      const e = heat >= jitHotThreshold || heat == 0 ? jitFind(host, pc) : 0;
      translated = e != 0;
      if (e && !interpretNext) {
        if (budgetLeft >= load<i32>(e, JE_MIN_BUDGET)) {
          // A direct exit that came back here is chained to it.
          if (link && load<u64>(MEM_JIT_VARS + JV_LINK_PC) == pc) jitLink(link, e);
          if (fromJit) count(C_JIT_AFTER_EXIT);
          pc = jitRun(e);
          fromJit = true;
          link = load<u32>(MEM_JIT_VARS + JV_LINK);
          // A page-crossing instruction whose other half changed: the interpreter runs the next
          // block (its translation would only leave again).
          interpretNext = load<u32>(MEM_JIT_VARS + JV_EXIT) == JIT_EXIT_GUARD;
          continue;
        }
      }
    }
    link = 0;
    interpretNext = false;
    fromJit = false;
    const block = blockAt(host, pc);
    if (!block) {
      // The instruction crosses into the next page: fetched in two halves.
      const insn = fetchSlow(pc);
      if (slowEvent) {
        slowEvent = 0;
        budgetLeft--;
        pc = takeTrap(excCause, excTval, pc);
        continue;
      }
      budgetLeft--;
      pc = step(insn, pc);
      codeLimit = 0;
      continue;
    }
    if (jitHotThreshold) {
      if (!translated) jitHeat(block, host, pc);
      countN(C_INTERP_INSNS, <u64>load<u16>(block, 4));
    }
    // Run the block's ops (at most the budget left); count them up front, give back the rest if
    // an op leaves early.
    let n = <i32>load<u16>(block, 4);
    if (n > budgetLeft) n = budgetLeft;
    if (breakpointCount) n = 1; // one instruction at a time, so each pc is checked
    budgetLeft -= n;
    let rec = block + BLOCK_HEADER;
    const end = rec + (<u32>n << 4);
    setBlockBase(pc);
    // Unrolled twice: each loop iteration pays a stack-limit check in V8 (+2-4% measured).
    while (true) {
      store<u64>(MEM_STATE + ST_X, 0);
      let next = execOp(rec);
      rec += OP_BYTES;
      if (next != CONT) {
        budgetLeft += <i32>((end - rec) >> 4);
        pc = next;
        break;
      }
      if (rec >= end) {
        pc = npcOf(rec - OP_BYTES);
        break;
      }
      store<u64>(MEM_STATE + ST_X, 0);
      next = execOp(rec);
      rec += OP_BYTES;
      if (next != CONT) {
        budgetLeft += <i32>((end - rec) >> 4);
        pc = next;
        break;
      }
      if (rec >= end) {
        pc = npcOf(rec - OP_BYTES);
        break;
      }
    }
  }

  if (pc == STOP) {
    // The slice ended on an event: settle it so the state the board sees has any interrupt it
    // enabled already taken (the next instruction would have taken it first).
    pc = resumePc;
    if (exitReason == EXIT_NONE) {
      const irq = pendingInterrupt();
      if (irq >= 0 && takeInterrupt(irq, pc) == STOP) pc = resumePc;
    }
  }
  setSt64(ST_PC, pc);
  store<u64>(MEM_STATE + ST_X, 0);
  const retired = budget - budgetLeft;
  budgetLeft = 0;
  sliceBudget = 0;
  retireSlice(<u64>retired);
  lastRetired = retired;
  return exitReason == EXIT_NONE ? EXIT_BUDGET : exitReason;
}
