// Machine-wide settings and the interpreter's scratch state that is not per hart.
import { C_EPOCH, count } from './counters';
import { JV_EPOCH, MEM_JIT_VARS } from './layout';
import { jumpCacheInvalidate } from './jumpcache';

// ---- configuration (set once by init) ----
export let ramBase: u64 = 0x8000_0000;
export let ramSize: u64 = 0;
export let romBase: u64 = 0x1000;
export let romSize: u64 = 0;
export let numHarts: u32 = 1;
/** Built-in (HLE) SBI firmware: M-mode traps leave the core as run exits. */
export let builtinFirmware: bool = false;

export function configure(rb: u64, rs: u64, ob: u64, os: u64, harts: u32, builtin: bool): void {
  ramBase = rb;
  ramSize = rs;
  romBase = ob;
  romSize = os;
  numHarts = harts;
  builtinFirmware = builtin;
}

// ---- time ----
/** mtime (10 MHz ticks) at the start of the run, set by the board before each run. */
export let mtime: u64 = 0;
/**
 * How time moves within a run: `timeNum / timeDen` ticks per instruction retired, starting
 * `timePhase / timeDen` ticks past mtime (under -icount: 2^shift ns per instruction over 100 ns
 * per tick, the phase being what the clock's floor dropped, so the value is exactly the one the
 * board's clock will reach; timeDen = 0: time stands still within a run).
 */
let timeNum: u64 = 0;
let timeDen: u64 = 0;
let timePhase: u64 = 0;
export function setMtime(t: u64, num: u64, den: u64, phase: u64): void {
  mtime = t;
  timeNum = num;
  timeDen = den;
  timePhase = phase;
}

// ---- run exits ----
export const EXIT_BUDGET: i32 = 0;
export const EXIT_WFI: i32 = 1;
export const EXIT_FIRMWARE_CALL: i32 = 2;
export const EXIT_FIRMWARE_TRAP: i32 = 3;
export const EXIT_BREAKPOINT: i32 = 4;
export const EXIT_REQUESTED: i32 = 5;
/** No exit requested: the STOP below only asks the loop to re-check interrupts and the code page. */
export const EXIT_NONE: i32 = -1;

/**
 * The pc a handler returns to leave the fast path: it can never be a real pc (odd) and never lies
 * in the cached code page, so the loop's page check catches it at no extra cost. The real next pc
 * is in `resumePc`.
 */
export const STOP: u64 = 0xffff_ffff_ffff_ffff;
export let resumePc: u64 = 0;
export let exitReason: i32 = EXIT_NONE;

/** Returns STOP after arranging for the loop to continue at `pc` (after its slow-path checks). */
export function stopAt(pc: u64): u64 {
  resumePc = pc;
  return STOP;
}
export function exitAt(pc: u64, reason: i32): u64 {
  resumePc = pc;
  exitReason = reason;
  return STOP;
}

// ---- instruction counting ----
/** Instructions left in the current slice; counters read mid-slice add what was retired so far. */
export let budgetLeft: i32 = 0;
export let sliceBudget: i32 = 0;
export function setBudget(left: i32, total: i32): void {
  budgetLeft = left;
  sliceBudget = total;
}
@inline export function retiredInSlice(): u64 {
  return <u64>(sliceBudget - budgetLeft);
}
/**
 * What the `time` CSR reads now (and Sstc compares stimecmp with): mtime advanced by the
 * instructions retired in this run BEFORE the current one (the current one is already counted in
 * retiredInSlice when a handler runs), so the last instruction of a run reads less than the
 * first of the next and time is monotonic (and a function of the instruction count under icount).
 */
export function timeNow(): u64 {
  const done = retiredInSlice();
  if (timeDen == 0 || done == 0) return mtime;
  return mtime + (timePhase + (done - 1) * timeNum) / timeDen;
}

// ---- memory access slow-path results ----
/** Set by a slow path: 0 nothing, SLOW_FAULT (excCause/excTval say which) or SLOW_STOP. */
export let slowEvent: u32 = 0;
export const SLOW_FAULT: u32 = 1;
/** An MMIO access changed an interrupt line: stop after this instruction to re-check interrupts. */
export const SLOW_STOP: u32 = 2;
export let excCause: u64 = 0;
export let excTval: u64 = 0;

export function memFault(cause: u64, tval: u64): void {
  slowEvent = SLOW_FAULT;
  excCause = cause;
  excTval = tval;
}
export function clearSlowEvent(): void {
  slowEvent = 0;
}
export function requestStop(): void {
  if (slowEvent == 0) slowEvent = SLOW_STOP;
}
/**
 * The board asks the running hart to return after the current instruction (requestExit, e.g. from
 * a CLINT msip write that interrupts another hart, which should run now rather than after this
 * hart spins through the rest of its budget waiting for it). Handlers that call out to devices
 * turn SLOW_STOP into a STOP; the loop then sees exitReason.
 */
export function requestExitNow(): void {
  if (exitReason == EXIT_NONE) exitReason = EXIT_REQUESTED;
  requestStop();
}

/**
 * PAUSE (Zihintpause: FENCE with pred = W, succ = 0) ends the hart's run when other harts exist.
 * Harts take turns in one thread, so a hart spinning on a lock or on another hart's answer (Linux
 * puts PAUSE in cpu_relax, in every such loop) would otherwise spin through its whole turn while
 * the hart it waits for stands still (a buffered disk write with -smp 2 ran 4x slower than -smp 1).
 */
export let pauseYields: bool = false;
export function setPauseYields(on: bool): void {
  pauseYields = on;
}

/** Set when the board changes an interrupt line (setIrq), possibly from inside an MMIO access. */
export let irqChanged: bool = false;
export function setIrqChanged(v: bool): void {
  irqChanged = v;
}

// ---- memory epoch ----
/**
 * Bumped whenever guest memory may have changed under the decoded blocks and translated code:
 * every store by a hart to a page holding code, every device access (a device may DMA), and every
 * run() (the board may have written RAM between slices). JavaScript is single-threaded, so nothing
 * else can write guest memory while the core runs. A block (or translation) checked against its
 * snapshot at the current epoch needs no check again until the epoch moves (blocks.ts, jit.ts).
 * It lives in memory (MEM_JIT_VARS) because translated code compares it before chaining.
 */
@inline export function memEpoch(): u32 {
  return load<u32>(MEM_JIT_VARS + JV_EPOCH);
}
/**
 * The board reports every write it makes to guest memory (wasm-cpu.ts trackExternalWrites), so
 * run() and device accesses need not assume memory changed: only those reports and stores to
 * code move the epoch.
 */
export let preciseEpoch: bool = false;
export function setPreciseEpoch(on: bool): void {
  preciseEpoch = on;
}
/** memChanged unless the board reports its writes itself. */
@inline export function memMayHaveChanged(): void {
  if (!preciseEpoch) memChanged();
}
@inline export function memChanged(): void {
  store<u32>(MEM_JIT_VARS + JV_EPOCH, load<u32>(MEM_JIT_VARS + JV_EPOCH) + 1);
  jumpCacheInvalidate();
  count(C_EPOCH);
}

// ---- debugger breakpoints ----
export const MAX_BREAKPOINTS: u32 = 32;
/** Virtual addresses a hart stops before executing (Exit.Breakpoint), for a debugger stub. */
export const breakpoints = new StaticArray<u64>(MAX_BREAKPOINTS);
export let breakpointCount: u32 = 0;
export function setBreakpointCount(n: u32): void {
  breakpointCount = n < MAX_BREAKPOINTS ? n : MAX_BREAKPOINTS;
}

// ---- LR/SC ----
/** The reservation: host address of the reserved doubleword/word, valid flag, owning hart. */
export let resAddr: u32 = 0;
export let resValid: bool = false;
export function reserve(host: u32): void {
  resAddr = host;
  resValid = true;
}
export function dropReservation(): void {
  resValid = false;
}
