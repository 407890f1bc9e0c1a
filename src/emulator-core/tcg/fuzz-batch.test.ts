// Bad input for the translator: code pages of random 32-bit words, random 16-bit words, random
// bytes, and valid instructions with random operands, entered at random even offsets under random
// pcs (the top of the address space included) with a known or unknown next page. The guest
// chooses what it executes, so whatever is on a page must translate without a host exception
// (a region the translator cannot handle would be counted in stats.failures: we want none), into
// a module WebAssembly accepts, with everything it lays out inside the arena chunk it was given.
import { describe, expect, test } from 'vitest';
import { encode32 } from '../cpu/riscv/isa/decode';
import { formats, insns16, insns32 } from '../cpu/riscv/isa/table.gen';
import { rng } from '../cpu/riscv/testing/rng';
import { translateBatch, type BatchJob, type BatchRequest } from './batch';
import { PAGE } from './region';

const wasm = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly;
// VIV_TCG_FUZZ_PAGES and VIV_TCG_SEED make a longer or different run (locally, when hunting).
const PAGES = Number(process.env.VIV_TCG_FUZZ_PAGES ?? 160);
const SEED = Number(process.env.VIV_TCG_SEED ?? 2024);
const REQUESTS_PER_PAGE = 4;
const ARENA = 0x0100_0000;

type Fill = 'words' | 'halves' | 'bytes' | 'valid' | 'mixed';
const FILLS: Fill[] = ['words', 'halves', 'bytes', 'valid', 'mixed'];

function randomPage(r: () => number, fill: Fill): Uint8Array {
  const page = new Uint8Array(PAGE);
  const dv = new DataView(page.buffer);
  const valid = (): number => {
    const insn = insns32[r() % insns32.length]!;
    const ops: Record<string, number> = {};
    let free = ~insn.mask;
    for (const op of formats[insn.format]!.operands) if (op.field === 'csr') {
      ops.csr = r() & 0xfff;
      free &= ~0xfff0_0000;
    }
    return (encode32(insn.name, ops) | (r() & free)) >>> 0;
  };
  const half = (): number => {
    const c = insns16[r() % insns16.length]!;
    return (c.match | (r() & 0xffff & ~c.mask)) & 0xffff;
  };
  for (let o = 0; o < PAGE; o += 4) {
    const f = fill === 'mixed' ? FILLS[r() % 4]! : fill;
    switch (f) {
      case 'words': dv.setUint32(o, r(), true); break;
      case 'halves': dv.setUint16(o, half(), true); dv.setUint16(o + 2, half(), true); break;
      case 'bytes': for (let k = 0; k < 4; k++) page[o + k] = r() & 0xff; break;
      case 'valid': dv.setUint32(o, valid(), true); break;
    }
  }
  return page;
}

function randomPc(r: () => number): bigint {
  switch (r() % 4) {
    case 0: return 0x8000_0000n + BigInt((r() % 4096) * PAGE);
    case 1: return 0xffff_ffff_ffff_f000n; // the last page: next-page arithmetic wraps
    case 2: return 0xffff_ffc0_0000_0000n + (BigInt(r()) << 12n);
    default: return BigInt(r() % 0x1000) * BigInt(PAGE);
  }
}

describe('translating random code pages', () => {
  test(`${PAGES} pages of random words, halves, bytes and valid instructions`, () => {
    const r = rng(SEED);
    let regions = 0;
    let insns = 0;
    for (let p = 0; p < PAGES; p++) {
      const page = randomPage(r, FILLS[p % FILLS.length]!);
      const host = 0x0040_0000 + p * PAGE;
      const pagePc = randomPc(r);
      const requests: BatchRequest[] = [];
      for (let k = 0; k < REQUESTS_PER_PAGE; k++) {
        const off = (r() % (PAGE / 2)) * 2;
        requests.push({ host: host + off, pc: pagePc + BigInt(off), page, nextHalf: r() % 3 ? r() & 0xffff : -1 });
      }
      // Some chunks are too small on purpose: the batch must stop cleanly and give the rest back.
      const small = p % 7 === 0;
      const job: BatchJob = {
        requests,
        arenaBase: ARENA,
        arenaLimit: ARENA + (small ? 2048 : REQUESTS_PER_PAGE * 16 * 1024),
        vars: 0x1000,
        jumpCache: 0x8000,
        opRecordBytes: 48,
        maxRegionInsns: p % 5 === 0 ? 1 + (r() % 20) : 600,
        text: p % 11 === 0,
      };
      const res = translateBatch(job);
      const where = `page ${p} (${FILLS[p % FILLS.length]}, pc 0x${pagePc.toString(16)})`;
      expect(res.stats.failures, `${where}: ${res.stats.lastFailure}`).toBe(0);
      expect(res.stats.regions + res.stats.skipped + res.leftover.length, where).toBe(requests.length);
      expect(res.entries.length, where).toBe(res.stats.regions);
      if (res.entries.length) expect(wasm.validate(res.bytes), where).toBe(true);
      else expect(res.bytes.length, where).toBe(0);
      // Everything laid out lies in the chunk, and in the image the translator will copy.
      const end = ARENA + res.image.length;
      expect(end, where).toBeLessThanOrEqual(job.arenaLimit);
      for (const e of res.entries) expect(e >= ARENA && e + 40 <= end, where).toBe(true);
      for (const o of res.ops) expect(o.at >= ARENA && o.at + job.opRecordBytes <= end, where).toBe(true);
      if (job.text) expect(res.dumps.length, where).toBe(res.stats.regions);
      regions += res.stats.regions;
      insns += res.stats.insns;
    }
    // Not vacuous: most requests made regions, and regions of some length.
    expect(regions).toBeGreaterThan(PAGES * REQUESTS_PER_PAGE * 0.6);
    expect(insns).toBeGreaterThan(regions * 2);
  }, Math.max(60_000, PAGES * 100));
});
