// The translator: what QEMU's TCG is to QEMU. When the core reports a hot block, the code it
// starts is queued; queued entries are translated in batches (batch.ts: region formation, IR,
// optimisation, structured control flow, code generation), each batch one WebAssembly module.
// A batch runs in a worker thread (worker.ts) when the built worker is there, so the emulator's
// thread only copies the code pages out and installs the result; or in this thread ('sync'),
// which tests use for exact control. Installing copies the batch's arena image into the core's
// memory, puts its functions in the core's table and its entries in the core's hash; from then on
// the run loop calls them. The arena and the table are bounded: when either is full everything
// is flushed at once, as QEMU flushes its code buffer.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { Translator, TranslatorHost } from '../cpu/riscv/translator-port';
import { JE_INDEX, MEM_JIT_JC_ABI_INDEX, abiValues } from './core-abi';
import { HELPERS, HELPER_BASE } from './backend';
import { translateBatch, type BatchJob, type BatchResult } from './batch';
import { PAGE } from './region';
import { TcgStats } from './stats';

// The JS API pieces used here (the project has no DOM/WebAssembly lib types).
interface WasmJs {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const wasmJs = (globalThis as unknown as { WebAssembly: WasmJs }).WebAssembly;

export interface TcgOptions {
  /** Block entries before translation (the core's heat threshold). */
  hotThreshold: number;
  /** Guest instructions per region at most. */
  maxRegionInsns: number;
  /** Translated functions at most before a flush. */
  maxFunctions: number;
  /** Regions per batch (one module) at most. */
  batch: number;
  /** 'worker': translate in a worker thread when the built worker exists; 'sync': in this thread. */
  mode: 'worker' | 'sync';
  /** Print each region's IR and WebAssembly text to this sink (-d op,out_asm). */
  dump?: (text: string) => void;
}

export const defaultTcgOptions: TcgOptions = {
  // Tuned on the shared guest's -icount boot (docs/tcg.md): at 64, 256, 1024, 2048 and 4096 the
  // emulator's thread took 9.4, 8.0, 6.7, 7.4 and 7.3 s of CPU (14 500, 7 700, 4 000, 3 000 and
  // 1 800 regions): lower translates much code that runs a few times only (its Liftoff
  // compilation and first runs cost more than interpreting it), higher interprets hot code longer.
  hotThreshold: 1024,
  maxRegionInsns: 600,
  maxFunctions: 1 << 14,
  batch: 64,
  mode: 'worker',
};

/**
 * Translated modules import the core's table to call helpers and chain to each other (2.6 ns a
 * chain, against 11 ns through a trampoline module that alone imported it, measured). In V8 11.3
 * each importer keeps a copy of the table's dispatch data: instantiation costs ~0.03 us per table
 * entry and a table write ~15 us at 600 importers, and the walk over importers grows with their
 * number; so modules are bounded too, and both bounds flush everything when reached.
 */
const MAX_MODULES = 2000;
/** Arena bytes a batch's chunk gets per region it asks for (a region's entry, snapshot, slots, one-op blocks). */
const ARENA_PER_REGION = 16 * 1024;

/**
 * Where the built worker is: $VIVARIUM_TCG_WORKER (`none`: translate in this thread), or
 * out/tcg/worker.mjs found walking up from here.
 */
export function findWorker(): string | undefined {
  const env = process.env.VIVARIUM_TCG_WORKER;
  if (env === 'none') return undefined;
  if (env) return existsSync(env) ? path.resolve(env) : undefined;
  let d = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    for (const c of [path.join(d, 'tcg', 'worker.mjs'), path.join(d, 'out', 'tcg', 'worker.mjs')]) if (existsSync(c)) return c;
    d = path.dirname(d);
  }
  return undefined;
}

interface InFlight {
  id: number;
  generation: number;
  /** The batch's arena chunk starts here. */
  base: number;
}

/**
 * V8 flags the translator relies on. Flags are process-wide and read when a module is compiled or
 * instantiated, so they are set before the first translation.
 *  - Branch hints (backend.ts marks TLB misses, slow-path events and budget exits unlikely) let
 *    V8 keep those paths and their register spills out of line; V8 11.3 reads them only under
 *    --experimental-wasm-branch-hinting (VIVARIUM_TCG_HINTS=0 leaves them off).
 *  - The tier-up budget: by default V8 recompiles a function with TurboFan after roughly 1.8 MB of
 *    its code has run, on background threads; translated code is large and mostly lukewarm, so in
 *    a boot that was 7 s of CPU on compile threads, taken from the emulator's thread on a 2-core
 *    machine. At 200 MB only what is really hot is recompiled (a -icount boot: 18.8 -> 13.3 s of
 *    CPU, 15.0 -> 11.3 s of wall on a loaded machine; the emulator's own thread unchanged).
 */
let flagsSet = false;
function setV8Flags(): void {
  if (flagsSet) return;
  flagsSet = true;
  if (process.env.VIVARIUM_TCG_HINTS !== '0') setFlagsFromString('--experimental-wasm-branch-hinting');
  setFlagsFromString(`--wasm-tiering-budget=${process.env.VIVARIUM_TCG_TIERING_BUDGET ?? 200000000}`);
}

export class Tcg implements Translator {
  readonly stats = new TcgStats();
  readonly hotThreshold: number;
  private readonly u8: Uint8Array;
  private readonly view: DataView;
  private arenaNext: number;
  private nextIndex: number;
  private readonly imports: object;
  /** Modules instantiated since the last flush (each imports the table). */
  private modules = 0;
  private readonly queue: { host: number; pc: bigint; nextHalf: number }[] = [];
  private readonly queued = new Set<string>();
  private readonly worker: Worker | undefined;
  private inFlight: InFlight | undefined;
  private nextJobId = 1;
  /** Bumped by reset(): a batch made before it is dropped when it arrives. */
  private generation = 0;

  constructor(
    private readonly host: TranslatorHost,
    private readonly opts: TcgOptions = defaultTcgOptions,
  ) {
    abiValues.forEach((v, i) => {
      const core = host.abi(i);
      if (v !== undefined && core !== v) throw new Error(`tcg: the core's layout constant #${i} is ${core}, tcg/core-abi.ts expects ${v}`);
    });
    this.hotThreshold = opts.hotThreshold;
    setV8Flags();
    this.u8 = new Uint8Array(host.memory.buffer);
    this.view = new DataView(host.memory.buffer);
    this.arenaNext = host.arenaOffset;
    this.nextIndex = host.tableBase;
    if (host.tableBase < HELPER_BASE + HELPERS.length) throw new Error('tcg: the core\'s table has no room for the helpers');
    if (host.table.length < host.tableBase) host.table.grow(host.tableBase - host.table.length);
    HELPERS.forEach((h, i) => {
      const f = host.helpers[h.name];
      if (typeof f !== 'function') throw new Error(`tcg: the core does not export ${h.name}`);
      host.table.set(HELPER_BASE + i, f);
    });
    this.imports = { env: { memory: host.memory, table: host.table } };
    const file = opts.mode === 'worker' ? findWorker() : undefined;
    if (file) {
      this.worker = new Worker(file);
      this.worker.on('message', (m: WorkerReply) => this.onReply(m));
      this.worker.on('error', (e) => {
        this.stats.failures++;
        this.stats.lastFailure = `worker: ${e.message}`;
      });
      // The emulator exits when its machine does: the worker must not keep the process alive
      // (after the listeners: adding a 'message' listener refs the worker again, as measured).
      this.worker.unref();
    }
  }

  get mode(): 'worker' | 'sync' {
    return this.worker ? 'worker' : 'sync';
  }

  /** -d tcg-stats: the translator's counters, with the core's (wasm-cpu.ts perfCounters). */
  report(core: Readonly<Record<string, number>> = {}): string {
    return this.stats.format(core, this.mode, { arenaUsed: this.arenaUsed, arenaBytes: this.host.arenaBytes });
  }

  hot(host: number, pc: bigint, nextHalf = -1): void {
    const key = `${host}:${pc}`;
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push({ host, pc, nextHalf });
    if (!this.worker && this.queue.length >= this.opts.batch) this.runSync();
  }

  afterRun(): void {
    if (!this.queue.length) return;
    if (this.worker) {
      if (!this.inFlight) this.post();
    } else this.runSync();
  }

  reset(): void {
    this.host.flush();
    this.arenaNext = this.host.arenaOffset;
    this.nextIndex = this.host.tableBase;
    this.modules = 0;
    this.generation++;
    this.stats.flushes++;
  }

  /** Stops the worker (the machine is gone). */
  close(): void {
    void this.worker?.terminate();
  }

  /** Bytes of the arena in use (entries, snapshots, slots, one-op blocks). */
  get arenaUsed(): number {
    return this.arenaNext - this.host.arenaOffset;
  }

  /** The next batch's job: the queued requests (up to a batch) with their pages, and a chunk of the arena. */
  private nextJob(): BatchJob | undefined {
    let requests = this.queue.splice(0, this.opts.batch);
    for (const r of requests) this.queued.delete(`${r.host}:${r.pc}`);
    const debugLeft = debugMaxRegions === undefined ? Infinity : debugMaxRegions - this.stats.regions;
    if (debugLeft <= 0) return undefined;
    requests = requests.slice(0, debugLeft);
    const want = requests.length * ARENA_PER_REGION;
    const arenaEnd = this.host.arenaOffset + this.host.arenaBytes;
    if (this.arenaNext + want > arenaEnd || this.nextIndex + requests.length > this.host.tableBase + this.opts.maxFunctions || this.modules >= MAX_MODULES) this.reset();
    return {
      requests: requests.map(({ host, pc, nextHalf }) => {
        const pageHost = host - (host % PAGE);
        return { host, pc, nextHalf, page: this.u8.slice(pageHost, pageHost + PAGE) };
      }),
      arenaBase: this.arenaNext,
      arenaLimit: Math.min(this.arenaNext + want, arenaEnd),
      vars: this.host.varsOffset,
      jumpCache: this.host.abi(MEM_JIT_JC_ABI_INDEX),
      opRecordBytes: this.host.opRecordBytes,
      maxRegionInsns: this.opts.maxRegionInsns,
      text: !!this.opts.dump || (debugDumpRegion !== undefined && debugDumpRegion >= this.stats.regions && debugDumpRegion < this.stats.regions + requests.length),
    };
  }

  private runSync(): void {
    while (this.queue.length) {
      const job = this.nextJob();
      if (!job) {
        this.queue.length = 0;
        this.queued.clear();
        return;
      }
      const t0 = performance.now();
      const result = translateBatch(job);
      const t1 = performance.now();
      this.stats.translateMs += t1 - t0;
      const module = result.bytes.length ? new wasmJs.Module(result.bytes) : undefined;
      this.stats.compileMs += performance.now() - t1;
      this.install(job.arenaBase, result, module);
    }
  }

  private post(): void {
    const job = this.nextJob();
    if (!job) return;
    const id = this.nextJobId++;
    this.inFlight = { id, generation: this.generation, base: job.arenaBase };
    // The chunk is the batch's until it comes back: nothing else is allocated meanwhile.
    this.arenaNext = job.arenaLimit;
    this.worker!.postMessage({ id, job }, job.requests.map((r) => r.page.buffer as ArrayBuffer));
  }

  private onReply(m: WorkerReply): void {
    const f = this.inFlight;
    if (!f || f.id !== m.id) return;
    this.inFlight = undefined;
    this.stats.translateMs += m.translateMs;
    this.stats.compileMs += m.compileMs;
    if (f.generation === this.generation) this.install(f.base, m.result, m.module);
    else this.stats.dropped += m.result.stats.regions;
    if (this.queue.length) this.post();
  }

  /** Copies a batch into the core and makes its translations current. */
  private install(base: number, r: BatchResult, module: object | undefined): void {
    const t0 = performance.now();
    this.u8.set(r.image, base);
    this.arenaNext = base + r.image.length;
    for (const op of r.ops) this.host.writeOp(op.at, op.raw, op.len);
    const s = this.stats;
    s.regions += r.stats.regions;
    s.blocks += r.stats.blocks;
    s.insns += r.stats.insns;
    s.skipped += r.stats.skipped;
    s.failures += r.stats.failures;
    if (r.stats.lastFailure) s.lastFailure = r.stats.lastFailure;
    for (const d of r.dumps) (this.opts.dump ?? ((t: string) => process.stderr.write(t + '\n')))(d);
    for (const l of r.leftover) this.hot(l.host, l.pc, l.nextHalf);
    if (!module || !r.entries.length) return;
    const instance = new wasmJs.Instance(module, this.imports);
    this.modules++;
    s.modules++;
    s.wasmBytes += r.bytes.length;
    const table = this.host.table;
    if (this.nextIndex + r.entries.length > table.length) table.grow(Math.max(1024, table.length >> 1, this.nextIndex + r.entries.length - table.length));
    r.entries.forEach((e, i) => {
      const index = this.nextIndex++;
      table.set(index, instance.exports[`f${i}`]);
      this.view.setUint32(e + JE_INDEX, index, true);
      if (!this.host.install(e)) throw new Error('tcg: the core refused an entry');
    });
    s.installMs += performance.now() - t0;
  }

}

interface WorkerReply {
  id: number;
  result: BatchResult;
  module: object | undefined;
  translateMs: number;
  compileMs: number;
}

/** Debugging aid: translate only the first N regions (bisects a translation bug to its region). */
const debugMaxRegions = process.env.VIV_TCG_MAX_REGIONS ? Number(process.env.VIV_TCG_MAX_REGIONS) : undefined;
/** Debugging aid: print region N's IR and code (0-based, in translation order). */
const debugDumpRegion = process.env.VIV_TCG_DUMP_REGION ? Number(process.env.VIV_TCG_DUMP_REGION) : undefined;

/** A translator factory for createRiscvCpu({ translator }) with these options. */
export function tcgTranslator(opts: Partial<TcgOptions> = {}): (host: TranslatorHost) => Tcg {
  return (host) => new Tcg(host, { ...defaultTcgOptions, ...opts });
}
