// The translator: what QEMU's TCG is to QEMU. When the core reports a hot block, the code it
// starts is formed into a region (region.ts), lowered to IR (riscv/frontend.ts), optimised
// (optimize.ts), shaped (structure.ts) and compiled to a WebAssembly function (backend.ts); the
// function goes into the core's table and its entry into the core's arena, and from then on the
// run loop calls it. The arena (entries, code snapshots, chaining slots, one-op blocks for
// instructions left to the interpreter) and the table are bounded: when either is full everything
// is flushed at once, as QEMU flushes its code buffer.
import type { Translator, TranslatorHost } from '../cpu/riscv/translator-port';
import { JE_HOST, JE_INDEX, JE_MIN_BUDGET, JE_PC, JE_SIZE, JE_SNAP, JE_SNAP_HOST, JE_SNAP_LEN, abiValues } from './core-abi';
import { HELPERS, TRANSLATED, compileRegion } from './backend';
import { formatBlock, type IrBlock } from './ir';
import { optimizeBlock } from './optimize';
import { buildRegion, type Region } from './region';
import { analyze } from './structure';
import { TcgStats } from './stats';
import { ModuleBuilder } from './wasm/module-builder';
import { makeChain } from './trampoline';

// The JS API pieces used here (the project has no DOM/WebAssembly lib types).
interface WasmJs {
  Table: new (descriptor: { element: 'anyfunc'; initial: number }) => { set(i: number, f: unknown): void };
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
  /** Print each region's IR and WebAssembly text to this sink (-d tcg-wat). */
  dump?: (text: string) => void;
}

export const defaultTcgOptions: TcgOptions = {
  // Tuned on the shared guest's boot (docs/tcg.md): lower translates much code that runs a few
  // times only; higher leaves hot code interpreted longer.
  hotThreshold: 64,
  maxRegionInsns: 600,
  maxFunctions: 1 << 15,
};

export class Tcg implements Translator {
  readonly stats = new TcgStats();
  readonly hotThreshold: number;
  private readonly u16: Uint16Array;
  private readonly u8: Uint8Array;
  private readonly view: DataView;
  private arenaNext: number;
  private nextIndex: number;
  private readonly helperFuncs: unknown[];
  private imports: object | undefined;
  private importers = 0;

  constructor(
    private readonly host: TranslatorHost,
    private readonly opts: TcgOptions = defaultTcgOptions,
  ) {
    abiValues.forEach((v, i) => {
      const core = host.abi(i);
      if (core !== v) throw new Error(`tcg: the core's layout constant #${i} is ${core}, tcg/core-abi.ts expects ${v}`);
    });
    this.hotThreshold = opts.hotThreshold;
    this.u16 = new Uint16Array(host.memory.buffer);
    this.u8 = new Uint8Array(host.memory.buffer);
    this.view = new DataView(host.memory.buffer);
    this.arenaNext = host.arenaOffset;
    this.nextIndex = host.tableBase;
    const chain = makeChain(host.memory, host.table);
    this.helperFuncs = HELPERS.map((h) => {
      const f = h.name === 'chain' ? chain : host.helpers[h.name];
      if (typeof f !== 'function') throw new Error(`tcg: the core does not export ${h.name}`);
      return f;
    });
  }

  hot(host: number, pc: bigint): void {
    try {
      this.translate(host, pc);
    } catch (e) {
      // A region the translator cannot handle stays interpreted (counted); the guest never sees it.
      if (process.env.VIV_TCG_THROW) throw e;
      this.stats.failures++;
      this.stats.lastFailure = e instanceof Error ? e.message : String(e);
    }
  }

  reset(): void {
    this.host.flush();
    this.arenaNext = this.host.arenaOffset;
    this.nextIndex = this.host.tableBase;
    this.stats.flushes++;
  }

  /** Bytes of the arena in use (entries, snapshots, slots, one-op blocks). */
  get arenaUsed(): number {
    return this.arenaNext - this.host.arenaOffset;
  }

  private alloc(bytes: number): number {
    const at = this.arenaNext;
    this.arenaNext = (at + bytes + 7) & ~7;
    if (this.arenaNext > this.host.arenaOffset + this.host.arenaBytes) throw new ArenaFull();
    return at;
  }

  private translate(host: number, pc: bigint): void {
    const t0 = performance.now();
    // Room for a large region, or start afresh (nothing translated is running now: the core
    // calls hot() from its run loop, between blocks).
    if (this.arenaNext + 256 * 1024 > this.host.arenaOffset + this.host.arenaBytes || this.nextIndex >= this.host.tableBase + this.opts.maxFunctions) {
      this.reset();
    }
    const mark = this.arenaNext;
    try {
      this.translateRegion(host, pc);
    } catch (e) {
      this.arenaNext = mark;
      if (!(e instanceof ArenaFull)) throw e;
      this.reset();
      this.translateRegion(host, pc);
    }
    this.stats.translateMs += performance.now() - t0;
  }

  private translateRegion(host: number, pc: bigint): void {
    if (debugMaxRegions !== undefined && this.stats.regions >= debugMaxRegions) return;
    const reader = { u16: (h: number): number => this.u16[h >>> 1]! };
    const execRecord = (raw: number, len: 2 | 4): number => {
      const at = this.alloc(this.host.opRecordBytes);
      this.host.writeOp(at, raw, len);
      return at;
    };
    const region = buildRegion(reader, host, pc, execRecord, { maxInsns: this.opts.maxRegionInsns });
    if (region.blocks.length === 0) {
      // Its first instruction crosses into the next page: the interpreter runs it.
      this.stats.skipped++;
      return;
    }
    const blocks = region.blocks.map(optimizeBlock);
    const index = new Map(blocks.map((b, i) => [b.pc, i]));
    const succs = blocks.map((b) => successorsOf(b).flatMap((t) => (index.has(t) ? [index.get(t)!] : [])));
    const shape = analyze(blocks.length, succs);

    const mb = new ModuleBuilder({ name: 'helpers', min: HELPERS.length });
    const tg = performance.now();
    const dump = this.opts.dump ?? (this.stats.regions === debugDumpRegion ? (t: string) => process.stderr.write(t + '\n') : undefined);
    const fn = compileRegion(blocks, shape, { vars: this.host.varsOffset, typeIndex: (t) => mb.typeIndex(t), allocSlot: () => this.allocSlot(), text: !!dump }, `r${pc.toString(16)}`);
    mb.addFunction(TRANSLATED, fn.body);
    const bytes = mb.finish();
    const tc = performance.now();
    this.stats.codegenMs += tc - tg;
    const module = new wasmJs.Module(bytes);
    const ti = performance.now();
    const instance = new wasmJs.Instance(module, this.importsForNext());
    this.stats.compileMs += ti - tc;
    this.stats.instantiateMs += performance.now() - ti;
    if (this.nextIndex >= this.host.table.length) this.host.table.grow(Math.max(1024, this.host.table.length >> 1));
    const tableIndex = this.nextIndex;
    this.host.table.set(tableIndex, instance.exports.f0);
    this.nextIndex++;
    this.writeEntry(region, blocks, tableIndex);
    this.stats.regions++;
    this.stats.blocks += blocks.length;
    this.stats.insns += region.insns;
    this.stats.wasmBytes += bytes.length;
    if (dump) dump(dumpRegion(region, blocks, fn.text ?? ''));
  }

  /**
   * The imports of the next instance. V8 11.3 keeps a list of the instances that import a table and
   * walks it on each new one (measured: instantiation 70 us at 3 000 importers, 950 us at 34 000),
   * so a new copy of the (never written) helpers table is made every HELPER_TABLE_USERS instances.
   */
  private importsForNext(): object {
    if (!this.imports || this.importers >= HELPER_TABLE_USERS) {
      const helpers = new wasmJs.Table({ element: 'anyfunc', initial: HELPERS.length });
      this.helperFuncs.forEach((f, i) => helpers.set(i, f));
      this.imports = { env: { memory: this.host.memory, helpers } };
      this.importers = 0;
    }
    this.importers++;
    return this.imports;
  }

  private allocSlot(): number {
    const at = this.alloc(4);
    this.view.setUint32(at, 0, true);
    return at;
  }

  private writeEntry(region: Region, blocks: IrBlock[], tableIndex: number): void {
    const len = region.snapHi - region.snapLo;
    const snap = this.alloc(len);
    this.u8.copyWithin(snap, region.snapLo, region.snapHi);
    const e = this.alloc(JE_SIZE);
    const v = this.view;
    v.setUint32(e + JE_HOST, region.entryHost, true);
    v.setUint32(e + JE_INDEX, tableIndex, true);
    v.setBigUint64(e + JE_PC, region.entryPc, true);
    v.setUint32(e + JE_SNAP_HOST, region.snapLo, true);
    v.setUint32(e + JE_SNAP_LEN, len, true);
    v.setUint32(e + JE_SNAP, snap, true);
    v.setUint32(e + JE_MIN_BUDGET, blocks[0]!.insns, true);
    if (!this.host.install(e)) throw new Error('tcg: the core refused an entry');
  }
}

class ArenaFull extends Error {}

const HELPER_TABLE_USERS = 32;

/** Debugging aid: translate only the first N regions (bisects a translation bug to its region). */
const debugMaxRegions = process.env.VIV_TCG_MAX_REGIONS ? Number(process.env.VIV_TCG_MAX_REGIONS) : undefined;
/** Debugging aid: print region N's IR and code (0-based, in translation order). */
const debugDumpRegion = process.env.VIV_TCG_DUMP_REGION ? Number(process.env.VIV_TCG_DUMP_REGION) : undefined;

function successorsOf(b: IrBlock): bigint[] {
  switch (b.end.kind) {
    case 'jump': return [b.end.target];
    case 'branch': return [b.end.taken, b.end.next];
    case 'indirect': return [];
  }
}

function dumpRegion(region: Region, blocks: IrBlock[], wat: string): string {
  return [`;; region 0x${region.entryPc.toString(16)}: ${region.insns} insns, ${blocks.length} blocks`, ...blocks.map(formatBlock), wat, ''].join('\n');
}

/** A translator factory for createRiscvCpu({ translator }) with these options. */
export function tcgTranslator(opts: Partial<TcgOptions> = {}): (host: TranslatorHost) => Tcg {
  return (host) => new Tcg(host, { ...defaultTcgOptions, ...opts });
}
