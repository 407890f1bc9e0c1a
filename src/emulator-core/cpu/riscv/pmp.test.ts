// Physical memory protection as OpenSBI programs it (privileged ISA 3.7): TOR, NA4, NAPOT,
// priority, partial matches, the L bit, and checks on page-table walks.
import { describe, expect, test } from 'vitest';
import { Priv } from './cpu';
import { encode32 } from './isa/decode';
import { PTE, PageTables } from './testing/page-tables';
import { CODE, DATA, makeCpu, writeCode } from './testing/snippet';

const PMPCFG0 = 0x3a0;
const PMPADDR = (i: number): number => 0x3b0 + i;
const R = 1n;
const W = 2n;
const X = 4n;
const TOR = 1n << 3n;
const NA4 = 2n << 3n;
const NAPOT = 3n << 3n;
const L = 0x80n;
const napot = (base: number, size: number): bigint => BigInt(base + size / 2 - 1) >> 2n;
const cfg = (...bytes: bigint[]): bigint => bytes.reduce((acc, b, i) => acc | (b << BigInt(8 * i)), 0n);
const nop = encode32('addi', { rd: 0, rs1: 0, imm_i: 0 });

/** Runs one instruction at CODE in `priv`; returns mcause (0 = no trap). */
function run(cpu: ReturnType<typeof makeCpu>, word: number, priv: 0 | 1 | 3): bigint {
  writeCode(cpu, CODE, [word, nop]);
  cpu.setCsr(0, 0x342, 0n);
  cpu.setPriv(0, priv);
  cpu.setPc(0, BigInt(CODE));
  cpu.run(0, 1);
  return cpu.getCsr(0, 0x342)!;
}

function setup(): ReturnType<typeof makeCpu> {
  const cpu = makeCpu();
  cpu.setCsr(0, 0x305, BigInt(DATA + 0x800));
  return cpu;
}


describe('PMP', () => {
  test('with no entry enabled, S and U can access nothing and M everything', () => {
    const cpu = setup();
    expect(run(cpu, nop, Priv.Supervisor)).toBe(1n);
    expect(run(cpu, nop, Priv.User)).toBe(1n);
    expect(run(cpu, nop, Priv.Machine)).toBe(0n);
  });

  test('TOR, NAPOT and NA4 regions with their permissions; the lowest entry wins', () => {
    const cpu = setup();
    // 0: NA4 at DATA+8, no permission; 1: TOR [CODE, DATA+0x1000) R+X; 2: NAPOT over 16 MiB RWX.
    cpu.setCsr(0, PMPADDR(0), BigInt(DATA + 8) >> 2n);
    cpu.setCsr(0, PMPADDR(1), BigInt(DATA + 0x1000) >> 2n);
    cpu.setCsr(0, PMPADDR(2), napot(CODE, 16 << 20));
    cpu.setCsr(0, PMPCFG0, cfg(NA4, TOR | R | X, NAPOT | R | W | X));
    // entry 1's TOR range starts at entry 0's address (DATA+8): code at CODE is outside it,
    // so fetches there fall to entry 2 (RWX).
    cpu.setX(0, 1, BigInt(DATA + 16));
    expect(run(cpu, encode32('ld', { rd: 2, rs1: 1, imm_i: 0 }), Priv.Supervisor)).toBe(0n);
    expect(run(cpu, encode32('sd', { rs1: 1, rs2: 2, imm_s: 0 }), Priv.Supervisor)).toBe(7n);
    cpu.setX(0, 1, BigInt(DATA + 0x1010));
    expect(run(cpu, encode32('sw', { rs1: 1, rs2: 2, imm_s: 0 }), Priv.User)).toBe(0n); // entry 2
    cpu.setX(0, 1, BigInt(DATA + 8));
    expect(run(cpu, encode32('lw', { rd: 2, rs1: 1, imm_i: 0 }), Priv.Supervisor)).toBe(5n); // NA4: none
    expect(run(cpu, encode32('lw', { rd: 2, rs1: 1, imm_i: 0 }), Priv.Machine)).toBe(0n); // unlocked: M ignores it
  });

  test('an access only partly inside the matching region fails', () => {
    const cpu = setup();
    cpu.setCsr(0, PMPADDR(0), BigInt(DATA + 0x104) >> 2n);
    cpu.setCsr(0, PMPADDR(1), napot(CODE, 16 << 20));
    cpu.setCsr(0, PMPCFG0, cfg(NA4 | R, NAPOT | R | W | X));
    cpu.setX(0, 1, BigInt(DATA + 0x100)); // 8 bytes over a 4-byte region: entry 0 matches partly
    expect(run(cpu, encode32('ld', { rd: 2, rs1: 1, imm_i: 0 }), Priv.Supervisor)).toBe(5n);
    expect(cpu.getCsr(0, 0x343)).toBe(BigInt(DATA + 0x100));
    expect(run(cpu, encode32('lw', { rd: 2, rs1: 1, imm_i: 4 }), Priv.Supervisor)).toBe(0n);
    expect(run(cpu, encode32('lw', { rd: 2, rs1: 1, imm_i: 2 }), Priv.Supervisor)).toBe(5n); // misaligned, same page
    expect(run(cpu, encode32('ld', { rd: 2, rs1: 1, imm_i: 8 }), Priv.Supervisor)).toBe(0n);
  });

  test('a locked entry applies to M and ignores writes until reset', () => {
    const cpu = setup();
    cpu.setCsr(0, PMPADDR(0), napot(DATA, 0x1000));
    cpu.setCsr(0, PMPCFG0, cfg(NAPOT | R | L));
    cpu.setX(0, 1, BigInt(DATA));
    expect(run(cpu, encode32('ld', { rd: 2, rs1: 1, imm_i: 0 }), Priv.Machine)).toBe(0n);
    expect(run(cpu, encode32('sd', { rs1: 1, rs2: 2, imm_s: 0 }), Priv.Machine)).toBe(7n);
    cpu.setCsr(0, PMPCFG0, cfg(NAPOT | R | W | X));
    cpu.setCsr(0, PMPADDR(0), 0n);
    expect(cpu.getCsr(0, PMPCFG0)! & 0xffn).toBe(NAPOT | R | L);
    expect(cpu.getCsr(0, PMPADDR(0))).toBe(napot(DATA, 0x1000));
    cpu.resetHart(0, BigInt(CODE));
    expect(cpu.getCsr(0, PMPCFG0)).toBe(0n);
  });

  test('pmpaddr holds 54 bits (G = 0) and pmpcfg bits 6:5 read zero', () => {
    const cpu = setup();
    cpu.setCsr(0, PMPADDR(3), (1n << 64n) - 1n);
    expect(cpu.getCsr(0, PMPADDR(3))).toBe((1n << 54n) - 1n);
    cpu.setCsr(0, 0x3a2, 0xffn);
    expect(cpu.getCsr(0, 0x3a2)).toBe(0x9fn);
  });

  test('page-table walks are checked as S-mode reads', () => {
    const cpu = setup();
    const pt = new PageTables(cpu, 3, DATA + 0x1_0000);
    pt.map(0x4000_0000n, BigInt(CODE), PTE.R | PTE.X | PTE.A);
    // Everything RWX except the page-table area (read-denied).
    cpu.setCsr(0, PMPADDR(0), napot(DATA + 0x1_0000, 0x1_0000));
    cpu.setCsr(0, PMPADDR(1), napot(CODE, 16 << 20));
    cpu.setCsr(0, PMPCFG0, cfg(NAPOT, NAPOT | R | W | X));
    cpu.setCsr(0, 0x180, pt.satp);
    writeCode(cpu, CODE, [nop]);
    cpu.setPriv(0, Priv.Supervisor);
    cpu.setPc(0, 0x4000_0000n);
    cpu.run(0, 1);
    expect([cpu.getCsr(0, 0x342), cpu.getCsr(0, 0x343)]).toEqual([1n, 0x4000_0000n]);
  });
});

