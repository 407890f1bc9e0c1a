// The interpreter loop (TinyEMU's shape): fetch from a cached code page (the TLB is consulted
// only when pc leaves it), expand compressed words through a table, dispatch on the decode tree,
// and leave everything rare to one slow path: a handler returns STOP (an impossible pc) after
// traps, exits, and anything that changes translation or interrupt state; the page check below
// catches STOP for free, and the slow path re-checks interrupts and drops the code page.
import { MEM_RVC, MEM_STATE, ST_PC, ST_X, setSt64, st64 } from './layout';
import {
  EXIT_BUDGET, EXIT_NONE, STOP, budgetLeft, excCause, excTval, exitReason, irqChanged, resumePc, sliceBudget,
  slowEvent,
} from './globals';
import { fetchHost, fetchLimit, fetchPage, fetchSlow } from './mem';
import { pendingInterrupt, takeInterrupt, takeTrap } from './trap';
import { dispatch } from './decode.gen';
import { retireSlice } from './csr';
import { C_STOP, count } from './counters';

/** Instructions retired by the last runSlice. */
export let lastRetired: i32 = 0;

/** Runs the active hart for at most `budget` instructions; returns the exit reason. */
export function runSlice(budget: i32): i32 {
  exitReason = EXIT_NONE;
  sliceBudget = budget;
  budgetLeft = budget;
  irqChanged = false;
  let pc = st64(ST_PC);
  // The code page cache: pc - codePage < codeLimit means pc's 4 bytes are at codeHost + offset.
  let codePage: u64 = 0;
  let codeHost: u32 = 0;
  let codeLimit: u64 = 0;
  const first = pendingInterrupt();
  if (first >= 0) pc = takeInterrupt(first, pc);

  while (budgetLeft > 0) {
    const off = pc - codePage;
    let insn: u32;
    if (off < codeLimit) {
      insn = load<u32>(codeHost + <u32>off);
    } else {
      if (pc == STOP) {
        count(C_STOP);
        pc = resumePc;
        if (exitReason != EXIT_NONE) break;
        codeLimit = 0;
        irqChanged = false;
        const irq = pendingInterrupt();
        if (irq >= 0) pc = takeInterrupt(irq, pc);
        continue;
      }
      insn = fetchSlow(pc);
      if (slowEvent) {
        // A fetch fault: it costs a budget unit so that a trap loop cannot hang the host.
        slowEvent = 0;
        budgetLeft--;
        pc = takeTrap(excCause, excTval, pc);
        continue;
      }
      codePage = fetchPage;
      codeHost = fetchHost;
      codeLimit = fetchLimit;
    }
    budgetLeft--;
    store<u64>(MEM_STATE + ST_X, 0);
    let x = insn;
    let npc = pc + 4;
    if ((insn & 3) != 3) {
      insn &= 0xffff;
      x = load<u32>(MEM_RVC + (insn << 2));
      npc = pc + 2;
    }
    pc = dispatch(insn, x, pc, npc);
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
