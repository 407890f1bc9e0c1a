// The RiscvCpu of cpu.ts, backed by the AssemblyScript core (wasm/, compiled to
// out/wasm/riscv64.wasm by scripts/build-wasm.mjs). This file owns the WebAssembly.Memory: guest
// RAM and ROM live inside it (wasm/layout.ts says where), it is allocated once at its final size
// and never grows, so `ram`/`rom` views never detach.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HartVmstateAccess } from './hart-vmstate';
import type { Translator, TranslatorHost, WasmTableLike } from './translator-port';
import { CoreDirtyLog } from './dirty-log';
import { Exit, type ExitReason, type IrqLine, type MmioPort, type PrivLevel, type RamDirtyLog, type RiscvCpu, type RiscvCpuOptions, type TimeRate } from './cpu';

// The project's tsconfig has no DOM/WebAssembly lib: the little of the JS API used here, typed.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
type WasmModule = object;
interface WasmJsApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: object };
  Memory: new (descriptor: { initial: number; maximum: number }) => WasmMemory;
  Table: new (descriptor: { element: 'anyfunc'; initial: number }) => WasmTableLike;
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmJsApi }).WebAssembly;

const WASM_FILE = 'riscv64.wasm';
const PAGE = 65536;
/** wasm32's ceiling: 65536 pages of 64 KiB. */
const MAX_PAGES = 65536;
const MAX_BUDGET = 0x7fff_ffff;
/** wasm/globals.ts MAX_BREAKPOINTS. */
const MAX_BREAKPOINTS = 32;

/** The exports of wasm/index.ts. */
interface CoreExports {
  memoryBytes(ramSize: bigint): bigint;
  ramOffset(): number;
  romOffset(): number;
  init(ramBase: bigint, ramSize: bigint, romBase: bigint, romSize: bigint, harts: number, builtin: number): number;
  run(hart: number, budget: number): number;
  lastRunInstructions(): number;
  setTime(t: number, num: number, den: number, phase: number): void;
  requestExit(): void;
  setIrq(hart: number, line: number, level: number): void;
  hasPendingInterrupt(hart: number): number;
  resetHart(hart: number, pc: bigint): void;
  getPc(hart: number): bigint;
  setPc(hart: number, pc: bigint): void;
  getX(hart: number, r: number): bigint;
  setX(hart: number, r: number, v: bigint): void;
  getF(hart: number, r: number): bigint;
  setF(hart: number, r: number, v: bigint): void;
  getPriv(hart: number): number;
  setPriv(hart: number, p: number): void;
  csrGet(hart: number, csr: number): bigint;
  csrGetOk(): number;
  csrSet(hart: number, csr: number, v: bigint): number;
  instret(hart: number): bigint;
  flushTlb(hart: number): void;
  flushAllTlbs(): void;
  perfCounter(i: number): number;
  resetCounters(): void;
  expandedCompressed(h: number): number;
  setBreakpointsFrom(n: number): void;
  breakpointsScratch(): number;
  mipSoftware(hart: number): bigint;
  setMipSoftware(hart: number, v: bigint): void;
  irqLines(hart: number): bigint;
  clearReservation(): void;
  setJitHotThreshold(n: number): void;
  jitVarsOffset(): number;
  jitArenaOffset(): number;
  jitArenaBytes(): number;
  jitAbi(i: number): number;
  jitWriteOp(at: number, raw: number, len: number): void;
  jitInstall(entry: number): number;
  jitFlush(): void;
  readonly JIT_OP_BYTES: { value: number };
  dirtyRamMap(): number;
  setPreciseEpoch(on: number): void;
  codePagesOffset(): number;
  dirtyClear(): void;
}

/** The core's slow-path counters, in wasm/counters.ts order. */
export const perfCounterNames = [
  'fetchSlow', 'xlate', 'exception', 'interrupt', 'stop', 'mmio', 'flushAll', 'flushPage', 'loadSlow', 'storeSlow',
  'blockDecode', 'blockStale', 'step', 'blockFlush', 'epoch', 'blockCheck',
  'jitHot', 'jitEnter', 'jitCheck', 'jitDrop', 'jitExitBudget', 'jitExitDirect', 'jitExitIndirect', 'jitExitSlow', 'jitExitHelper', 'jitExitSamePage', 'jitExitGuard',
  'interpInsns', 'jitAfterExit', 'jitLookup',
] as const;
export type PerfCounters = Record<(typeof perfCounterNames)[number], number>;

const initErrors: Record<number, string> = {
  1: 'bad configuration (harts 1..8, RAM a non-zero multiple of 4 KiB, ROM at most 64 KiB, no overlap)',
  2: 'linear memory too small',
  3: 'the module\'s static data overlaps the hart state (wasm/layout.ts MEM_STATE)',
};

/** Where the compiled core is: $VIVARIUM_WASM_DIR, or out/wasm found walking up from this file. */
export function findCoreWasm(): string {
  const dir = process.env.VIVARIUM_WASM_DIR;
  if (dir) return path.join(dir, WASM_FILE);
  let d = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    for (const c of [path.join(d, 'wasm', WASM_FILE), path.join(d, 'out', 'wasm', WASM_FILE)]) {
      if (existsSync(c)) return c;
    }
    d = path.dirname(d);
  }
  throw new Error(`RISC-V core: ${WASM_FILE} not found (run npm run build:wasm)`);
}

let cachedModule: WasmModule | undefined;
/** The compiled core, compiled once per process (instances are per machine). */
export function coreModule(): WasmModule {
  cachedModule ??= new wasmApi.Module(readFileSync(findCoreWasm()));
  return cachedModule;
}

/** Table slots the core's own module may use (its element segment, if any) before translated code. */
const TABLE_BASE = 16;

function instantiate(memory: WasmMemory, mmio: MmioPort, table: WasmTableLike, hot: (host: number, pc: bigint, nextHalf: number) => void): CoreExports {
  const env = {
    memory,
    table,
    tcgHot: hot,
    mmioLoad: (paddr: number, size: number): number => {
      const v = mmio.load(paddr, size as 1 | 2 | 4);
      return v === undefined ? -1 : v >>> 0;
    },
    mmioStore: (paddr: number, size: number, value: number): number =>
      mmio.store(paddr, size as 1 | 2 | 4, value >>> 0) ? 1 : 0,
    abort: (): never => {
      throw new Error('RISC-V core: internal abort');
    },
  };
  return new wasmApi.Instance(coreModule(), { env }).exports as unknown as CoreExports;
}

const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);

function checkInt(name: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${name} ${v} is not an integer in ${min}..${max}`);
}

class WasmRiscvCpu implements RiscvCpu, HartVmstateAccess {
  readonly harts: number;
  readonly ram: Uint8Array;
  readonly rom: Uint8Array;
  readonly dirtyLog: RamDirtyLog;
  private readonly core: CoreExports;

  constructor(opts: RiscvCpuOptions) {
    checkInt('harts', opts.harts, 1, 8);
    checkInt('ramSize', opts.ramSize, 4096, 2 ** 32);
    checkInt('romSize', opts.romSize, 0, 65536);
    checkInt('ramBase', opts.ramBase, 0, 2 ** 53 - 1);
    checkInt('romBase', opts.romBase, 0, 2 ** 53 - 1);
    if (opts.ramSize % 4096) throw new RangeError('ramSize must be a multiple of 4 KiB');
    // A small probe instance tells the layout (the RAM offset) before the real memory is made.
    const noHot = (): void => {};
    const probe = instantiate(new wasmApi.Memory({ initial: 16, maximum: 16 }), opts.mmio, new wasmApi.Table({ element: 'anyfunc', initial: TABLE_BASE }), noHot);
    const bytes = Number(probe.memoryBytes(BigInt(opts.ramSize)));
    const pages = Math.ceil(bytes / PAGE);
    if (pages > MAX_PAGES) throw new RangeError(`ramSize ${opts.ramSize} does not fit a 4 GiB WebAssembly memory`);
    const memory = new wasmApi.Memory({ initial: pages, maximum: pages });
    const table = new wasmApi.Table({ element: 'anyfunc', initial: TABLE_BASE });
    // The translator is made after the core (it needs the core's exports); until then nothing is hot.
    let translator: Translator | undefined;
    this.core = instantiate(memory, opts.mmio, table, (host, pc, nextHalf) => translator?.hot(host, BigInt.asUintN(64, pc), nextHalf));
    const err = this.core.init(
      BigInt(opts.ramBase),
      BigInt(opts.ramSize),
      BigInt(opts.romBase),
      BigInt(opts.romSize),
      opts.harts,
      opts.builtinFirmware ? 1 : 0,
    );
    if (err) throw new Error(`RISC-V core: ${initErrors[err] ?? `init error ${err}`}`);
    this.harts = opts.harts;
    this.ram = new Uint8Array(memory.buffer, this.core.ramOffset(), opts.ramSize);
    this.rom = new Uint8Array(memory.buffer, this.core.romOffset(), opts.romSize);
    if (opts.translator) {
      const core = this.core;
      const host: TranslatorHost = {
        memory,
        table,
        tableBase: TABLE_BASE,
        helpers: core as unknown as Record<string, unknown>,
        varsOffset: core.jitVarsOffset(),
        arenaOffset: core.jitArenaOffset(),
        arenaBytes: core.jitArenaBytes(),
        abi: (i) => core.jitAbi(i),
        writeOp: (at, raw, len) => core.jitWriteOp(at, raw, len),
        opRecordBytes: core.JIT_OP_BYTES.value,
        install: (entry) => core.jitInstall(entry) !== 0,
        flush: () => core.jitFlush(),
      };
      translator = opts.translator(host);
      this.translator = translator;
      this.core.setJitHotThreshold(translator.hotThreshold);
    }
    const map = new Uint8Array(memory.buffer, this.core.dirtyRamMap(), Math.ceil(opts.ramSize / 4096 / 8));
    this.dirtyLog = new CoreDirtyLog(map, opts.ramSize, () => this.core.dirtyClear());
  }

  private readonly translator: Translator | undefined;

  private hart(h: number): number {
    checkInt('hart', h, 0, this.harts - 1);
    return h;
  }

  run(hart: number, budget: number): ExitReason {
    checkInt('budget', budget, 1, MAX_BUDGET);
    const exit = this.core.run(this.hart(hart), budget) as ExitReason;
    this.translator?.afterRun();
    return exit;
  }
  get lastRunInstructions(): number {
    return this.core.lastRunInstructions();
  }
  setTime(mtime: number, rate?: TimeRate): void {
    if (!(mtime >= 0)) throw new RangeError(`mtime ${mtime} must be a non-negative number`);
    if (rate) {
      checkInt('rate.num', rate.num, 0, 0xffff_ffff);
      checkInt('rate.den', rate.den, 1, 0xffff_ffff);
      checkInt('rate.phase', rate.phase, 0, rate.den - 1);
      this.core.setTime(Math.floor(mtime), rate.num, rate.den, rate.phase);
    } else this.core.setTime(Math.floor(mtime), 0, 0, 0);
  }
  requestExit(): void {
    this.core.requestExit();
  }
  setIrq(hart: number, line: IrqLine, level: boolean): void {
    this.core.setIrq(this.hart(hart), line, level ? 1 : 0);
  }
  hasPendingInterrupt(hart: number): boolean {
    return this.core.hasPendingInterrupt(this.hart(hart)) !== 0;
  }
  resetHart(hart: number, pc: bigint): void {
    this.core.resetHart(this.hart(hart), pc);
  }
  getPc(hart: number): bigint {
    return u64(this.core.getPc(this.hart(hart)));
  }
  setPc(hart: number, pc: bigint): void {
    this.core.setPc(this.hart(hart), pc);
  }
  getX(hart: number, reg: number): bigint {
    checkInt('register', reg, 0, 31);
    return u64(this.core.getX(this.hart(hart), reg));
  }
  setX(hart: number, reg: number, value: bigint): void {
    checkInt('register', reg, 0, 31);
    this.core.setX(this.hart(hart), reg, value);
  }
  getF(hart: number, reg: number): bigint {
    checkInt('register', reg, 0, 31);
    return u64(this.core.getF(this.hart(hart), reg));
  }
  setF(hart: number, reg: number, value: bigint): void {
    checkInt('register', reg, 0, 31);
    this.core.setF(this.hart(hart), reg, value);
  }
  getCsr(hart: number, csr: number): bigint | undefined {
    checkInt('csr', csr, 0, 0xfff);
    const v = this.core.csrGet(this.hart(hart), csr);
    return this.core.csrGetOk() ? u64(v) : undefined;
  }
  setCsr(hart: number, csr: number, value: bigint): boolean {
    checkInt('csr', csr, 0, 0xfff);
    return this.core.csrSet(this.hart(hart), csr, value) !== 0;
  }
  getPriv(hart: number): PrivLevel {
    return this.core.getPriv(this.hart(hart)) as PrivLevel;
  }
  setPriv(hart: number, priv: PrivLevel): void {
    if (priv !== 0 && priv !== 1 && priv !== 3) throw new RangeError(`privilege ${priv} is not 0, 1 or 3`);
    this.core.setPriv(this.hart(hart), priv);
  }
  instret(hart: number): number {
    return Number(u64(this.core.instret(this.hart(hart))));
  }
  flushTlb(hart: number): void {
    this.core.flushTlb(this.hart(hart));
  }
  trackExternalWrites(): (offset?: number, length?: number) => void {
    const core = this.core;
    core.setPreciseEpoch(1);
    const buffer = this.ram.buffer;
    const codePages = new Uint8Array(buffer, core.codePagesOffset());
    const epoch = new Uint32Array(buffer, core.jitVarsOffset(), 1); // JV_EPOCH at offset 0
    const ramPage0 = this.ram.byteOffset / 4096;
    const ramBytes = this.ram.length;
    return (offset?: number, length?: number): void => {
      if (offset === undefined || length === undefined) {
        epoch[0]! += 1;
        return;
      }
      if (length <= 0 || offset < 0 || offset >= ramBytes) return;
      const last = ramPage0 + Math.floor((Math.min(offset + length, ramBytes) - 1) / 4096);
      // Only pages holding decoded or translated code matter: then everything is checked again.
      for (let p = ramPage0 + Math.floor(offset / 4096); p <= last; p++) {
        if (codePages[p]) {
          epoch[0]! += 1;
          return;
        }
      }
    };
  }
  /** The translator in use (-accel tcg), for its statistics. */
  get codeTranslator(): Translator | undefined {
    return this.translator;
  }
  setBreakpoints(pcs: readonly bigint[]): void {
    if (pcs.length > MAX_BREAKPOINTS) throw new RangeError(`at most ${MAX_BREAKPOINTS} breakpoints`);
    const at = this.core.breakpointsScratch();
    const view = new DataView(this.ram.buffer);
    pcs.forEach((pc, i) => view.setBigUint64(at + i * 8, BigInt.asUintN(64, pc), true));
    this.core.setBreakpointsFrom(pcs.length);
  }
  /** The core's expansion of a 16-bit word (ILLEGAL_EXPANSION 0xffffffff if illegal); for tests. */
  expandedCompressed(half: number): number {
    checkInt('half', half, 0, 0xffff);
    return this.core.expandedCompressed(half) >>> 0;
  }
  // ---- HartVmstateAccess (hart-vmstate.ts) ----
  mipSoftware(hart: number): bigint {
    return u64(this.core.mipSoftware(this.hart(hart)));
  }
  setMipSoftware(hart: number, value: bigint): void {
    this.core.setMipSoftware(this.hart(hart), value);
  }
  irqLines(hart: number): bigint {
    return u64(this.core.irqLines(this.hart(hart)));
  }
  clearReservation(): void {
    this.core.clearReservation();
  }
  /** Slow-path counters since creation or the last reset (all harts together). */
  perfCounters(reset = false): PerfCounters {
    const out = {} as PerfCounters;
    perfCounterNames.forEach((name, i) => (out[name] = this.core.perfCounter(i)));
    if (reset) this.core.resetCounters();
    return out;
  }
}

/** A RISC-V CPU (1 to 8 harts sharing one memory) with RAM and ROM of the given sizes. */
/** The extras beyond the contract: diagnostics for benchmarks and tests. */
export interface RiscvCpuDiagnostics {
  perfCounters(reset?: boolean): PerfCounters;
  expandedCompressed(half: number): number;
}

export function createRiscvCpu(opts: RiscvCpuOptions): RiscvCpu & RiscvCpuDiagnostics & HartVmstateAccess & { readonly dirtyLog: RamDirtyLog } {
  return new WasmRiscvCpu(opts);
}

export { Exit };
