// The core's dirty-page log (wasm/dirtypages.ts): every way a hart writes RAM marks the page it
// writes, a store to a marked page stays on the fast path, and clearing the log makes every hart
// (every translation context) mark again on its next store, even to a page its write TLB held.
import { describe, expect, test } from 'vitest';
import { Priv, type RamDirtyReader } from './cpu';
import { encode32 } from './isa/decode';
import { PTE, PageTables } from './testing/page-tables';
import { CODE, DATA, allowAllPmp, exec, makeCpu, writeCode, type TestCpu } from './testing/snippet';

const PAGE = 4096;
const pageOf = (addr: number | bigint) => Math.floor((Number(addr) - CODE) / PAGE);
const ld = (rd: number, rs1: number, imm = 0) => encode32('ld', { rd, rs1, imm_i: imm });
const sd = (rs1: number, rs2: number, imm = 0) => encode32('sd', { rs1, rs2, imm_s: imm });
const nop = encode32('addi', { rd: 0, rs1: 0, imm_i: 0 });

/** The pages written since the last call (or since `clear`): a reader of the CPU's log takes them. */
const readers = new WeakMap<TestCpu, RamDirtyReader>();
function readerOf(cpu: TestCpu): RamDirtyReader {
  let r = readers.get(cpu);
  if (!r) readers.set(cpu, (r = cpu.dirtyLog.reader()));
  return r;
}
function dirtyPages(cpu: TestCpu): number[] {
  const map = readerOf(cpu).take();
  const out: number[] = [];
  for (let p = 0; p < cpu.ram.length / PAGE; p++) if (map[p >> 3]! & (1 << (p & 7))) out.push(p);
  return out;
}
function clear(cpu: TestCpu): void {
  readerOf(cpu).take();
}

/** Runs `words` at CODE in M-mode (the code page is not written, so never marked by it). */
function runM(cpu: TestCpu, words: number[], hart = 0): void {
  exec(cpu, words, words.length, CODE, hart);
}

describe('dirty pages: stores by the harts', () => {
  test('a store marks its page; later stores to it stay on the fast path until the marks are taken', () => {
    const cpu = makeCpu();
    clear(cpu);
    cpu.setX(0, 1, BigInt(DATA));
    cpu.setX(0, 2, 0x55n);
    cpu.perfCounters(true);
    runM(cpu, [sd(1, 2)]);
    expect(cpu.perfCounters(true).storeSlow).toBe(1);
    runM(cpu, [sd(1, 2, 8), sd(1, 2, 16)]);
    expect(cpu.perfCounters(true).storeSlow).toBe(0); // cached for writes: the TLB, no mark needed
    expect(dirtyPages(cpu)).toEqual([pageOf(DATA)]);
    expect(dirtyPages(cpu)).toEqual([]);
    // Taken with the page still in the write TLB: the next store must mark it again.
    runM(cpu, [sd(1, 2, 24)]);
    expect(cpu.perfCounters(true).storeSlow).toBe(1);
    expect(dirtyPages(cpu)).toEqual([pageOf(DATA)]);
  });

  test('loads and fetches mark nothing', () => {
    const cpu = makeCpu();
    clear(cpu);
    cpu.setX(0, 1, BigInt(DATA));
    runM(cpu, [ld(2, 1), ld(3, 1, 8)]);
    expect(dirtyPages(cpu)).toEqual([]);
  });

  test('sb, sh, sw, fsd, and a store across a page boundary (both pages)', () => {
    const cpu = makeCpu();
    cpu.setCsr(0, 0x300, cpu.getCsr(0, 0x300)! | 0x2000n); // mstatus.FS = Initial: FP on
    const stores: Array<[string, number]> = [
      ['sb', DATA],
      ['sh', DATA + PAGE],
      ['sw', DATA + 2 * PAGE],
      ['fsd', DATA + 3 * PAGE],
    ];
    for (const [op, addr] of stores) {
      clear(cpu);
      cpu.setX(0, 1, BigInt(addr));
      runM(cpu, [encode32(op, { rs1: 1, rs2: 2, imm_s: 0 })]);
      expect(dirtyPages(cpu), op).toEqual([pageOf(addr)]);
    }
    clear(cpu);
    cpu.setX(0, 1, BigInt(DATA + 5 * PAGE - 4)); // 8 bytes: 4 on each side
    runM(cpu, [sd(1, 2)]);
    expect(dirtyPages(cpu)).toEqual([pageOf(DATA) + 4, pageOf(DATA) + 5]);
  });

  test('a store to a page holding decoded code (not cached for writes) marks it', () => {
    const cpu = makeCpu();
    cpu.setX(0, 1, BigInt(CODE + 0x800)); // in the code page, past the code
    runM(cpu, [nop, nop]); // the page now holds decoded blocks
    clear(cpu);
    runM(cpu, [sd(1, 2), sd(1, 2, 8)]);
    expect(dirtyPages(cpu)).toEqual([pageOf(CODE)]);
  });

  test('AMOs and SC mark their page, even one the write TLB held before the clear', () => {
    const cpu = makeCpu();
    const ops: number[] = [
      encode32('amoadd.d', { rd: 3, rs1: 1, rs2: 2 }),
      encode32('amoswap.w', { rd: 3, rs1: 1, rs2: 2 }),
      encode32('amoor.d', { rd: 3, rs1: 1, rs2: 2 }),
    ];
    for (const [i, op] of ops.entries()) {
      const addr = DATA + i * PAGE;
      cpu.setX(0, 1, BigInt(addr));
      clear(cpu);
      runM(cpu, [op]); // a clean page: the slow path
      expect(dirtyPages(cpu)).toEqual([pageOf(addr)]);
      clear(cpu);
      runM(cpu, [op]); // cached for writes before the clear: must come through again
      expect(dirtyPages(cpu)).toEqual([pageOf(addr)]);
    }
    // LR then SC: the SC writes (the LR alone does not).
    cpu.setX(0, 1, BigInt(DATA + 4 * PAGE));
    clear(cpu);
    runM(cpu, [encode32('lr.d', { rd: 3, rs1: 1 })]);
    expect(dirtyPages(cpu)).toEqual([]);
    runM(cpu, [encode32('lr.d', { rd: 3, rs1: 1 }), encode32('sc.d', { rd: 4, rs1: 1, rs2: 2 })]);
    expect(cpu.getX(0, 4)).toBe(0n);
    expect(dirtyPages(cpu)).toEqual([pageOf(DATA) + 4]);
  });

  test('stores and AMOs on a page PMP does not cover whole (never cached for writes) mark it', () => {
    const cpu = makeCpu();
    cpu.setCsr(0, 0x305, BigInt(DATA + 0x800)); // mtvec
    // pmp0: NA4 over DATA+8, no access; pmp1: NAPOT over all RAM, RWX. DATA's page is then not
    // uniform for PMP: S-mode accesses to it are checked one by one, outside the TLB.
    cpu.setCsr(0, 0x3b0, BigInt(DATA + 8) >> 2n);
    cpu.setCsr(0, 0x3b1, BigInt(CODE + (1 << 19) - 1) >> 2n);
    cpu.setCsr(0, 0x3a0, (2n << 3n) | ((0x1fn) << 8n));
    const runS = (word: number) => {
      writeCode(cpu, CODE, [word, nop]);
      cpu.setCsr(0, 0x342, 0n);
      cpu.setPriv(0, Priv.Supervisor);
      cpu.setPc(0, BigInt(CODE));
      cpu.run(0, 1);
      expect(cpu.getCsr(0, 0x342)).toBe(0n);
    };
    cpu.setX(0, 1, BigInt(DATA + 16));
    for (const op of [sd(1, 2), encode32('amoadd.d', { rd: 3, rs1: 1, rs2: 2 })]) {
      runS(op); // the code page is now in the fetch TLB
      clear(cpu);
      cpu.perfCounters(true);
      runS(op);
      expect(cpu.perfCounters().xlate).toBe(1); // not cached: this page stays on the slow path
      expect(dirtyPages(cpu)).toEqual([pageOf(DATA)]);
    }
  });

  test('a clear drops every hart\'s write TLB', () => {
    const cpu = makeCpu({ harts: 2 });
    for (const h of [1, 0]) {
      cpu.setX(h, 1, BigInt(DATA + h * PAGE));
      cpu.setX(h, 2, 7n);
      runM(cpu, [sd(1, 2)], h);
    }
    clear(cpu);
    runM(cpu, [sd(1, 2, 8)], 1); // hart 1 only, not the hart that ran last
    expect(dirtyPages(cpu)).toEqual([pageOf(DATA) + 1]);
  });
});

describe('dirty pages: translated accesses', () => {
  const VA = 0x4000_0000n;
  function setup() {
    const cpu = makeCpu({ ramSize: 4 << 20 });
    allowAllPmp(cpu);
    cpu.setCsr(0, 0x305, BigInt(DATA + 0x800)); // mtvec (a trap would show as mcause)
    const pt = new PageTables(cpu, 3, CODE + 0x20_0000);
    pt.map(0x1000_0000n, BigInt(CODE), PTE.R | PTE.X | PTE.A);
    cpu.setCsr(0, 0x180, pt.satp);
    return { cpu, pt };
  }
  function runS(cpu: TestCpu, words: number[]): void {
    writeCode(cpu, CODE, [...words, nop]);
    cpu.setCsr(0, 0x342, 0n);
    cpu.setPriv(0, Priv.Supervisor);
    cpu.setPc(0, 0x1000_0000n);
    cpu.run(0, words.length);
    expect(cpu.getCsr(0, 0x342)).toBe(0n); // no trap
  }

  test('a page-table A/D update marks the page of the PTE', () => {
    const { cpu, pt } = setup();
    const pteAt = pt.map(VA, BigInt(DATA), PTE.R | PTE.W); // neither A nor D yet
    cpu.setX(0, 1, VA);
    clear(cpu);
    runS(cpu, [ld(2, 1)]); // sets A: the table is written, the data page is not
    expect(pt.getPte(pteAt) & PTE.A).toBe(PTE.A);
    expect(dirtyPages(cpu)).toEqual([pageOf(pteAt)]);
    clear(cpu);
    runS(cpu, [sd(1, 2)]); // sets D, and writes the data page
    expect(pt.getPte(pteAt) & PTE.D).toBe(PTE.D);
    expect(dirtyPages(cpu)).toEqual([pageOf(pteAt), pageOf(DATA)].sort((a, b) => a - b));
  });

  test('S-mode stores: marked, and again after a clear (the S context\'s write TLB is dropped too)', () => {
    const { cpu, pt } = setup();
    pt.map(VA, BigInt(DATA), PTE.R | PTE.W | PTE.A | PTE.D);
    cpu.setX(0, 1, VA);
    runS(cpu, [sd(1, 2)]);
    clear(cpu);
    runS(cpu, [sd(1, 2, 8)]);
    expect(dirtyPages(cpu)).toEqual([pageOf(DATA)]);
  });
});

describe('dirty pages: writes reported from outside the core', () => {
  test('markWritten marks every page the range touches, and checks it', () => {
    const cpu = makeCpu();
    clear(cpu);
    cpu.dirtyLog.markWritten(PAGE - 1, 2);
    cpu.dirtyLog.markWritten(10 * PAGE, 3 * PAGE);
    cpu.dirtyLog.markWritten(20 * PAGE, 0);
    expect(dirtyPages(cpu)).toEqual([0, 1, 10, 11, 12]);
    expect(() => cpu.dirtyLog.markWritten(cpu.ram.length - 1, 2)).toThrow(RangeError);
    // The map is the core's: a store by a hart shows in the same bitmap.
    cpu.dirtyLog.markWritten(0, 1);
    cpu.setX(0, 1, BigInt(DATA));
    runM(cpu, [sd(1, 2)]);
    expect(dirtyPages(cpu)).toEqual([0, pageOf(DATA)]);
  });

  test('each reader sees every write once, whoever took the marks first', () => {
    const cpu = makeCpu();
    const a = cpu.dirtyLog.reader();
    const b = cpu.dirtyLog.reader();
    const pages = (m: Uint8Array) => [...m].flatMap((byte, i) => [0, 1, 2, 3, 4, 5, 6, 7].filter((k) => byte & (1 << k)).map((k) => i * 8 + k));
    cpu.setX(0, 1, BigInt(DATA));
    runM(cpu, [sd(1, 2)]);
    expect(pages(a.take())).toEqual([pageOf(DATA)]);
    cpu.dirtyLog.markWritten(3 * PAGE, 1);
    expect(pages(b.take())).toEqual([3, pageOf(DATA)]);
    expect(pages(a.take())).toEqual([3]);
    b.close();
    runM(cpu, [sd(1, 2)]);
    expect(pages(a.take())).toEqual([pageOf(DATA)]);
    expect(pages(a.take())).toEqual([]);
  });
});
