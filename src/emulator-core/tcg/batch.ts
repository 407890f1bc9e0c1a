// One batch of translation, as a pure function of its inputs so that it runs the same on the main
// thread or in the translator's worker (worker.ts): the guest code pages of the hot entries in,
// a WebAssembly module and an image of arena memory out. The translator (translator.ts) gives the
// batch a chunk of the core's arena; everything the translations refer to (their entries, code
// snapshots, chaining slots, one-op blocks for the interpreter's handlers) is laid out in it, and
// the main thread copies the image into place when it installs the batch.
import { JE_HOST, JE_MIN_BUDGET, JE_PC, JE_SIZE, JE_SNAP, JE_SNAP_HOST, JE_SNAP_LEN } from './core-abi';
import { TRANSLATED, compileRegion } from './backend';
import { formatBlock, type IrBlock } from './ir';
import { optimizeBlock } from './optimize';
import { PAGE, buildRegion, type Region } from './region';
import { analyze } from './structure';
import { ModuleBuilder } from './wasm/module-builder';

export interface BatchRequest {
  /** Host address and pc of the hot entry. */
  host: number;
  pc: bigint;
  /** The 4 KiB of guest code of its page, as they were when the request was made. */
  page: Uint8Array;
  /** The next page's first 16 bits then, or -1 (for an instruction crossing into it). */
  nextHalf: number;
}

export interface BatchJob {
  requests: BatchRequest[];
  /** The arena chunk the batch may use: [arenaBase, arenaLimit). */
  arenaBase: number;
  arenaLimit: number;
  /** The core's MEM_JIT_VARS, its jump cache, and its one-op block size. */
  vars: number;
  jumpCache: number;
  opRecordBytes: number;
  maxRegionInsns: number;
  /** Keep each region's IR and WebAssembly text (-d op,out_asm). */
  text: boolean;
}

export interface BatchResult {
  /** The module's bytes: function i is region i (exported as f<i>). */
  bytes: Uint8Array;
  /** Arena bytes [arenaBase, arenaBase + image.length) to copy in before installing. */
  image: Uint8Array;
  /** One-op blocks the core writes (it owns the decoder): at, raw bits, length. */
  ops: { at: number; raw: number; len: 2 | 4 }[];
  /** Each region's entry address (its table index goes in JE_INDEX at install). */
  entries: number[];
  /** Requests not translated because the chunk filled (they are asked again). */
  leftover: { host: number; pc: bigint; nextHalf: number }[];
  stats: { regions: number; blocks: number; insns: number; skipped: number; failures: number; lastFailure: string; codegenMs: number };
  /** -d op,out_asm text, one string per region. */
  dumps: string[];
}

class ChunkFull extends Error {}

const M64 = (1n << 64n) - 1n;

export function translateBatch(job: BatchJob): BatchResult {
  const image = new Uint8Array(job.arenaLimit - job.arenaBase);
  const view = new DataView(image.buffer);
  let next = job.arenaBase;
  const alloc = (bytes: number): number => {
    const at = next;
    const end = (at + bytes + 7) & ~7;
    if (end > job.arenaLimit) throw new ChunkFull();
    next = end;
    return at;
  };
  const mb = new ModuleBuilder({ name: 'table', min: 0 });
  const result: BatchResult = {
    bytes: new Uint8Array(0),
    image,
    ops: [],
    entries: [],
    leftover: [],
    stats: { regions: 0, blocks: 0, insns: 0, skipped: 0, failures: 0, lastFailure: '', codegenMs: 0 },
    dumps: [],
  };
  for (let i = 0; i < job.requests.length; i++) {
    const req = job.requests[i]!;
    const mark = next;
    const opsMark = result.ops.length;
    try {
      const made = translateOne(req, job, mb, alloc, result.ops, image);
      if (!made) {
        result.stats.skipped++;
        continue;
      }
      const { region, blocks, text } = made;
      // The snapshot and entry.
      const len = region.snapHi - region.snapLo;
      const snap = alloc(len);
      const pageHost = req.host - (req.host % PAGE);
      image.set(req.page.subarray(region.snapLo - pageHost, region.snapHi - pageHost), snap - job.arenaBase);
      const e = alloc(JE_SIZE);
      const o = e - job.arenaBase;
      view.setUint32(o + JE_HOST, region.entryHost, true);
      view.setBigUint64(o + JE_PC, region.entryPc & M64, true);
      view.setUint32(o + JE_SNAP_HOST, region.snapLo, true);
      view.setUint32(o + JE_SNAP_LEN, len, true);
      view.setUint32(o + JE_SNAP, snap, true);
      view.setUint32(o + JE_MIN_BUDGET, blocks[0]!.insns, true);
      result.entries.push(e);
      result.stats.regions++;
      result.stats.blocks += blocks.length;
      result.stats.insns += region.insns;
      if (job.text) result.dumps.push(dumpRegion(region, blocks, text ?? ''));
    } catch (err) {
      next = mark;
      result.ops.length = opsMark;
      if (err instanceof ChunkFull) {
        result.leftover = job.requests.slice(i).map(({ host, pc, nextHalf }) => ({ host, pc, nextHalf }));
        break;
      }
      // A region the translator cannot handle stays interpreted (counted); the guest never sees it.
      result.stats.failures++;
      result.stats.lastFailure = err instanceof Error ? err.message : String(err);
      if (process.env.VIV_TCG_THROW) throw err;
    }
  }
  result.bytes = result.entries.length ? mb.finish() : new Uint8Array(0);
  result.image = image.slice(0, next - job.arenaBase);
  return result;
}

function translateOne(
  req: BatchRequest,
  job: BatchJob,
  mb: ModuleBuilder,
  alloc: (bytes: number) => number,
  ops: BatchResult['ops'],
  image: Uint8Array,
): { region: Region; blocks: IrBlock[]; text?: string } | undefined {
  const pageHost = req.host - (req.host % PAGE);
  const page = req.page;
  const reader = { u16: (h: number): number => page[h - pageHost]! | (page[h - pageHost + 1]! << 8) };
  const execRecord = (raw: number, len: 2 | 4): number => {
    const at = alloc(job.opRecordBytes);
    ops.push({ at, raw, len });
    return at;
  };
  const region = buildRegion(reader, req.host, req.pc, execRecord, { maxInsns: job.maxRegionInsns, nextHalf: req.nextHalf });
  // Its first instruction crosses into the next page: the interpreter runs it.
  if (region.blocks.length === 0) return undefined;
  const blocks = region.blocks.map(optimizeBlock);
  const index = new Map(blocks.map((b, i) => [b.pc, i]));
  const succs = blocks.map((b) => successorsOf(b).flatMap((t) => (index.has(t) ? [index.get(t)!] : [])));
  const shape = analyze(blocks.length, succs);
  const allocSlot = (): number => alloc(8); // the image is zeroed: an unlinked slot
  const allocData = (bytes: Uint8Array): number => {
    const at = alloc(bytes.length);
    image.set(bytes, at - job.arenaBase);
    return at;
  };
  const fn = compileRegion(blocks, shape, { vars: job.vars, jumpCache: job.jumpCache, allocData, typeIndex: (t) => mb.typeIndex(t), allocSlot, text: job.text }, `r${req.pc.toString(16)}`);
  mb.addFunction(TRANSLATED, fn.body, `r${req.pc.toString(16)}`, fn.hints);
  return { region, blocks, text: fn.text };
}

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
