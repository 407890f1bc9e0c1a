// Sv39/Sv48 translation: permissions, A/D updates, superpages, canonical addresses, SUM/MXR/MPRV,
// TLB maintenance (privileged ISA 4.3-4.5).
import { describe, expect, test } from 'vitest';
import { Priv } from './cpu';
import { encode32 } from './isa/decode';
import { PTE, PageTables } from './testing/page-tables';
import { CODE, DATA, allowAllPmp, makeCpu, ramView, writeCode } from './testing/snippet';

const { R, W, X, U, A, D } = PTE;
const VCODE = 0x4000_0000n; // where the test code runs, virtually
const TRAP = DATA + 0x800; // M-mode handler: physical
const nop = encode32('addi', { rd: 0, rs1: 0, imm_i: 0 });

function setup(levels: 3 | 4 = 3): { cpu: ReturnType<typeof makeCpu>; pt: PageTables } {
  const cpu = makeCpu({ ramSize: 4 << 20 });
  allowAllPmp(cpu);
  cpu.setCsr(0, 0x305, BigInt(TRAP));
  const pt = new PageTables(cpu, levels, CODE + 0x20_0000);
  pt.map(VCODE, BigInt(CODE), R | X | A);
  cpu.setCsr(0, 0x180, pt.satp);
  return { cpu, pt };
}

/** Runs `words` at VCODE in `priv`; returns [mcause, mtval] (mcause 0 = no trap). */
function run(cpu: ReturnType<typeof makeCpu>, words: number[], priv: 0 | 1 = Priv.Supervisor): [bigint, bigint] {
  writeCode(cpu, CODE, [...words, nop]);
  cpu.setCsr(0, 0x342, 0n);
  cpu.setCsr(0, 0x343, 0n);
  cpu.setPriv(0, priv);
  cpu.setPc(0, VCODE);
  cpu.run(0, words.length);
  return [cpu.getCsr(0, 0x342)!, cpu.getCsr(0, 0x343)!];
}

const ld = (rd: number, rs1: number, imm = 0): number => encode32('ld', { rd, rs1, imm_i: imm });
const sd = (rs1: number, rs2: number, imm = 0): number => encode32('sd', { rs1, rs2, imm_s: imm });

describe.each([3, 4] as const)('Sv%s', (levels) => {
  const name = levels === 3 ? 'Sv39' : 'Sv48';
  const hi = levels === 3 ? 0x3f_0000_0000n : 0x7f00_0000_0000n; // a high user address of the mode
  test(`${name}: loads, stores and fetches go through the tables`, () => {
    const { cpu, pt } = setup(levels);
    pt.map(hi, BigInt(DATA), R | W | A | D);
    ramView(cpu).setBigUint64(DATA - CODE, 0x1234n, true);
    cpu.setX(0, 1, hi);
    cpu.setX(0, 3, 0x5678n);
    expect(run(cpu, [ld(2, 1), sd(1, 3, 8)])).toEqual([0n, 0n]);
    expect(cpu.getX(0, 2)).toBe(0x1234n);
    expect(ramView(cpu).getBigUint64(DATA - CODE + 8, true)).toBe(0x5678n);
    expect(cpu.getPc(0)).toBe(VCODE + 8n);
  });
  test(`${name}: a non-canonical address is a page fault with the address in tval`, () => {
    const { cpu } = setup(levels);
    const bad = levels === 3 ? 0x40_0000_0000n : 0x8000_0000_0000n;
    cpu.setX(0, 1, bad);
    expect(run(cpu, [ld(2, 1)])).toEqual([13n, bad]);
    expect(run(cpu, [sd(1, 2)])).toEqual([15n, bad]);
  });
});

describe('permissions', () => {
  test('R/W/X checks: load 13, store 15, fetch 12', () => {
    const { cpu, pt } = setup();
    pt.map(0x1000n, BigInt(DATA), R | A | D); // read-only
    pt.map(0x2000n, BigInt(DATA), X | A); // execute-only
    cpu.setX(0, 1, 0x1000n);
    cpu.setX(0, 4, 0x2000n);
    expect(run(cpu, [sd(1, 0)])).toEqual([15n, 0x1000n]);
    expect(run(cpu, [ld(2, 4)])).toEqual([13n, 0x2000n]);
    expect(run(cpu, [encode32('jalr', { rd: 0, rs1: 1, imm_i: 0 }), nop])).toEqual([12n, 0x1000n]);
  });
  test('MXR lets loads read execute-only pages', () => {
    const { cpu, pt } = setup();
    pt.map(0x2000n, BigInt(DATA), X | A);
    cpu.setCsr(0, 0x300, 1n << 19n);
    cpu.setX(0, 4, 0x2000n);
    expect(run(cpu, [ld(2, 4)])).toEqual([0n, 0n]);
  });
  test('U pages: S needs SUM for data and never executes them; U cannot touch S pages', () => {
    const { cpu, pt } = setup();
    pt.map(0x1000n, BigInt(DATA), R | W | U | A | D);
    pt.map(0x5000_0000n, BigInt(CODE), R | X | U | A); // the same code, user-visible
    cpu.setX(0, 1, 0x1000n);
    expect(run(cpu, [ld(2, 1)])).toEqual([13n, 0x1000n]);
    cpu.setCsr(0, 0x100, 1n << 18n); // SUM
    expect(run(cpu, [ld(2, 1), sd(1, 2)])).toEqual([0n, 0n]);
    cpu.setX(0, 5, 0x5000_0000n);
    expect(run(cpu, [encode32('jalr', { rd: 0, rs1: 5, imm_i: 0 }), nop])).toEqual([12n, 0x5000_0000n]);
    // U-mode: its own pages work, the supervisor's code page does not.
    writeCode(cpu, CODE, [ld(2, 1), nop]);
    cpu.setCsr(0, 0x342, 0n);
    cpu.setPriv(0, Priv.User);
    cpu.setPc(0, 0x5000_0000n);
    cpu.run(0, 1);
    expect(cpu.getCsr(0, 0x342)).toBe(0n);
    expect(run(cpu, [nop], Priv.User)).toEqual([12n, VCODE]);
  });
  test('invalid, W-without-R and reserved-bit PTEs are page faults', () => {
    const { cpu, pt } = setup();
    const at = pt.map(0x1000n, BigInt(DATA), R | W | A | D);
    cpu.setX(0, 1, 0x1000n);
    pt.setPte(at, pt.getPte(at) & ~PTE.V);
    expect(run(cpu, [ld(2, 1)])).toEqual([13n, 0x1000n]);
    pt.setPte(at, (pt.getPte(at) | PTE.V) & ~R);
    expect(run(cpu, [ld(2, 1)])).toEqual([13n, 0x1000n]);
    pt.setPte(at, pt.getPte(at) | R | (1n << 63n)); // N (Svnapot) is not implemented
    expect(run(cpu, [ld(2, 1)])).toEqual([13n, 0x1000n]);
    pt.setPte(at, pt.getPte(at) & ~(1n << 63n));
    expect(run(cpu, [encode32('sfence.vma', { rs1: 0, rs2: 0 }), ld(2, 1)])).toEqual([0n, 0n]);
  });
});

describe('A and D bits', () => {
  test('the walk sets A on access and D on a write (hardware update, as QEMU 7.2)', () => {
    const { cpu, pt } = setup();
    const at = pt.map(0x1000n, BigInt(DATA), R | W);
    cpu.setX(0, 1, 0x1000n);
    expect(run(cpu, [ld(2, 1)])).toEqual([0n, 0n]);
    expect(pt.getPte(at) & (A | D)).toBe(A);
    expect(run(cpu, [sd(1, 2)])).toEqual([0n, 0n]);
    expect(pt.getPte(at) & (A | D)).toBe(A | D);
  });
  test('a store to a cached read-only translation still sets D when the page becomes writable', () => {
    const { cpu, pt } = setup();
    const at = pt.map(0x1000n, BigInt(DATA), R | W | A);
    cpu.setX(0, 1, 0x1000n);
    run(cpu, [ld(2, 1), ld(2, 1)]);
    expect(pt.getPte(at) & D).toBe(0n);
    run(cpu, [sd(1, 2)]);
    expect(pt.getPte(at) & D).toBe(D);
  });
});

describe('superpages', () => {
  test('a 2 MiB megapage maps its offset; a misaligned one is a page fault', () => {
    const { cpu, pt } = setup();
    pt.map(0x20_0000n, BigInt(CODE), R | W | A | D, 1);
    ramView(cpu).setBigUint64(DATA - CODE, 0xabcdn, true);
    cpu.setX(0, 1, 0x20_0000n + BigInt(DATA - CODE));
    expect(run(cpu, [ld(2, 1)])).toEqual([0n, 0n]);
    expect(cpu.getX(0, 2)).toBe(0xabcdn);
    pt.map(0x40_0000n, BigInt(CODE + 0x1000), R | A, 1); // physical not 2 MiB aligned
    cpu.setX(0, 1, 0x40_0000n);
    expect(run(cpu, [ld(2, 1)])).toEqual([13n, 0x40_0000n]);
  });
  test('SFENCE.VMA of one address inside a cached megapage drops the whole megapage', () => {
    const { cpu, pt } = setup();
    const at = pt.map(0x20_0000n, BigInt(CODE), R | W | A | D, 1);
    cpu.setX(0, 1, 0x20_0000n + BigInt(DATA - CODE));
    cpu.setX(0, 5, 0x20_0000n);
    run(cpu, [ld(2, 1)]);
    pt.setPte(at, 0n);
    expect(run(cpu, [encode32('sfence.vma', { rs1: 5, rs2: 0 }), ld(2, 1)])).toEqual([13n, 0x20_0000n + BigInt(DATA - CODE)]);
  });
});

describe('TLB maintenance and satp', () => {
  test('after SFENCE.VMA a changed PTE takes effect', () => {
    const { cpu, pt } = setup();
    pt.map(0x1000n, BigInt(DATA), R | A);
    ramView(cpu).setBigUint64(DATA - CODE, 1n, true);
    ramView(cpu).setBigUint64(DATA - CODE + 0x1000, 2n, true);
    cpu.setX(0, 1, 0x1000n);
    cpu.setX(0, 5, 0x1000n);
    run(cpu, [ld(2, 1)]);
    expect(cpu.getX(0, 2)).toBe(1n);
    pt.map(0x1000n, BigInt(DATA + 0x1000), R | A);
    run(cpu, [encode32('sfence.vma', { rs1: 5, rs2: 0 }), ld(2, 1)]);
    expect(cpu.getX(0, 2)).toBe(2n);
  });
  // Pages 0x1000 and 0x101000 share a direct-mapped TLB slot (256 entries): the second evicts the
  // first into the victim entries, which must follow the same maintenance as the table.
  test('two pages sharing a TLB slot both read right, again and again', () => {
    const { cpu, pt } = setup();
    pt.map(0x1000n, BigInt(DATA), R | A);
    pt.map(0x10_1000n, BigInt(DATA + 0x1000), R | A);
    ramView(cpu).setBigUint64(DATA - CODE, 1n, true);
    ramView(cpu).setBigUint64(DATA - CODE + 0x1000, 2n, true);
    cpu.setX(0, 1, 0x1000n);
    cpu.setX(0, 5, 0x10_1000n);
    run(cpu, [ld(2, 1), ld(3, 5), ld(4, 1), ld(6, 5), ld(7, 1)]);
    expect([2, 3, 4, 6, 7].map((r) => cpu.getX(0, r))).toEqual([1n, 2n, 1n, 2n, 1n]);
  });
  test.each([
    ['SFENCE.VMA of the page', encode32('sfence.vma', { rs1: 1, rs2: 0 })],
    ['SFENCE.VMA of everything', encode32('sfence.vma', { rs1: 0, rs2: 0 })],
  ])('a page evicted to the victim entries takes a changed PTE after %s', (_name, fence) => {
    const { cpu, pt } = setup();
    pt.map(0x1000n, BigInt(DATA), R | A);
    pt.map(0x10_1000n, BigInt(DATA + 0x1000), R | A);
    ramView(cpu).setBigUint64(DATA - CODE, 1n, true);
    ramView(cpu).setBigUint64(DATA - CODE + 0x1000, 2n, true);
    ramView(cpu).setBigUint64(DATA - CODE + 0x2000, 3n, true);
    cpu.setX(0, 1, 0x1000n);
    cpu.setX(0, 5, 0x10_1000n);
    run(cpu, [ld(2, 1), ld(3, 5)]); // 0x1000 is now a victim entry
    pt.map(0x1000n, BigInt(DATA + 0x2000), R | A);
    run(cpu, [fence, ld(2, 1)]);
    expect(cpu.getX(0, 2)).toBe(3n);
    pt.setPte(pt.map(0x1000n, BigInt(DATA + 0x2000), R | A), 0n);
    run(cpu, [ld(3, 5)]); // evict 0x1000 again
    expect(run(cpu, [fence, ld(2, 1)])).toEqual([13n, 0x1000n]);
  });
  test('a store to a page evicted to the victim entries after it became code is a write to code', () => {
    // A page that starts to hold code leaves the write TLB, victims included (codepages.ts).
    const { cpu, pt } = setup();
    pt.map(0x2000n, BigInt(DATA), R | W | X | A | D);
    pt.map(0x10_2000n, BigInt(DATA + 0x1000), R | W | A | D);
    cpu.setX(0, 1, 0x2000n);
    cpu.setX(0, 5, 0x10_2000n);
    cpu.setX(0, 6, BigInt(encode32('addi', { rd: 7, rs1: 0, imm_i: 5 })));
    writeCode(cpu, DATA, [encode32('addi', { rd: 7, rs1: 0, imm_i: 1 }), encode32('jalr', { rd: 0, rs1: 8, imm_i: 0 })]);
    cpu.setX(0, 8, VCODE + 16n);
    // A write entry for 0x2000, evicted by 0x102000's, then the page runs as code.
    run(cpu, [sd(1, 0, 0x100), sd(5, 0), encode32('jalr', { rd: 0, rs1: 1, imm_i: 0 }), nop]);
    expect(cpu.getX(0, 7)).toBe(1n);
    // Run the code once more (its block checked against the current epoch), then rewrite and rerun it.
    cpu.setX(0, 8, VCODE + 4n);
    const jump = encode32('jalr', { rd: 0, rs1: 1, imm_i: 0 });
    const stops = cpu.perfCounters().stop;
    run(cpu, [jump, encode32('sw', { rs1: 1, rs2: 6, imm_s: 0 }), jump, nop, nop, nop]);
    expect(cpu.getX(0, 7)).toBe(5n);
    // The store was seen as a write to code (it stops after itself), not made through a stale entry.
    expect(cpu.perfCounters().stop).toBe(stops + 1);
  });
  test('a satp write switches address spaces', () => {
    const { cpu, pt } = setup();
    const other = new PageTables(cpu, 3, CODE + 0x30_0000);
    other.map(VCODE, BigInt(CODE), R | X | A);
    pt.map(0x1000n, BigInt(DATA), R | A);
    other.map(0x1000n, BigInt(DATA + 0x1000), R | A);
    ramView(cpu).setBigUint64(DATA - CODE, 1n, true);
    ramView(cpu).setBigUint64(DATA - CODE + 0x1000, 2n, true);
    cpu.setX(0, 1, 0x1000n);
    cpu.setX(0, 6, other.satp);
    run(cpu, [ld(2, 1), encode32('csrrw', { rd: 0, rs1: 6, csr: 0x180 }), ld(3, 1)]);
    expect([cpu.getX(0, 2), cpu.getX(0, 3)]).toEqual([1n, 2n]);
  });
  test('M-mode with MPRV translates loads and stores as MPP', () => {
    const { cpu, pt } = setup();
    pt.map(0x1000n, BigInt(DATA), R | W | A | D);
    ramView(cpu).setBigUint64(DATA - CODE, 99n, true);
    cpu.setCsr(0, 0x300, (1n << 17n) | (1n << 11n)); // MPRV, MPP = S
    cpu.setX(0, 1, 0x1000n);
    writeCode(cpu, CODE, [ld(2, 1)]);
    cpu.setPriv(0, Priv.Machine);
    cpu.setPc(0, BigInt(CODE)); // M fetches stay physical
    cpu.run(0, 1);
    expect(cpu.getX(0, 2)).toBe(99n);
  });
  test('a page table outside RAM is an access fault of the access type', () => {
    const { cpu } = setup();
    cpu.setCsr(0, 0x180, (8n << 60n) | 0x1000n); // root at physical 0x100_0000 (nothing there)
    cpu.setX(0, 1, 0x1000n);
    writeCode(cpu, CODE, [ld(2, 1)]);
    cpu.setPriv(0, Priv.Machine);
    cpu.setCsr(0, 0x300, (1n << 17n) | (1n << 11n));
    cpu.setPc(0, BigInt(CODE));
    cpu.run(0, 1);
    expect([cpu.getCsr(0, 0x342), cpu.getCsr(0, 0x343)]).toEqual([5n, 0x1000n]);
  });
});
