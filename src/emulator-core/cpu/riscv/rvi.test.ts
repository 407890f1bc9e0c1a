// RV64I and RV64M execute tests: each table instruction against the reference semantics
// (testing/reference.ts) on edge-case and random operands, plus loads/stores, branches, jumps.
import { describe, expect, test } from 'vitest';
import { encode32 } from './isa/decode';
import { insns32 } from './isa/table.gen';
import { rng } from './testing/rng';
import { iOps, operands, rOps } from './testing/reference';
import { CODE, DATA, exec, makeCpu, ramView, u64 } from './testing/snippet';

describe('register-register (RV64I + M), every R-format instruction of rvi/rvm', () => {
  const cpu = makeCpu();
  const r = rng(7);
  const vals = operands(r, 40);
  const names = insns32.filter((i) => (i.ext === 'rvi' || i.ext === 'rvm') && i.format === 'r').map((i) => i.name);
  test('the reference covers the table', () => expect(names.filter((n) => !rOps[n])).toEqual([]));
  for (const name of names) {
    test(name, () => {
      const word = encode32(name, { rd: 3, rs1: 1, rs2: 2 });
      for (const a of vals) {
        for (const b of vals.slice(0, 24)) {
          cpu.setX(0, 1, a);
          cpu.setX(0, 2, b);
          exec(cpu, [word]);
          expect(cpu.getX(0, 3), `${name} 0x${a.toString(16)}, 0x${b.toString(16)}`).toBe(rOps[name]!(a, b));
        }
      }
    });
  }
  test('rd = x0 is discarded and rs = x0 reads zero', () => {
    cpu.setX(0, 1, 5n);
    exec(cpu, [encode32('add', { rd: 0, rs1: 1, rs2: 1 }), encode32('add', { rd: 3, rs1: 0, rs2: 1 })]);
    expect(cpu.getX(0, 0)).toBe(0n);
    expect(cpu.getX(0, 3)).toBe(5n);
  });
});

describe('register-immediate', () => {
  const cpu = makeCpu();
  const r = rng(8);
  const vals = operands(r, 30);
  const imms = [0n, 1n, -1n, 2047n, -2048n, 5n, -100n];
  const shamts = [0n, 1n, 31n, 32n, 63n, 13n];
  for (const name of Object.keys(iOps)) {
    const insn = insns32.find((i) => i.name === name)!;
    test(name, () => {
      const isShift = insn.format === 'sh' || insn.format === 'shw';
      const list = isShift ? shamts.filter((s) => insn.format === 'sh' || s < 32n) : imms;
      for (const a of vals) {
        for (const i of list) {
          const ops = isShift ? { rd: 3, rs1: 1, [insn.format === 'sh' ? 'shamt' : 'shamtw']: Number(i) } : { rd: 3, rs1: 1, imm_i: Number(i) };
          cpu.setX(0, 1, a);
          exec(cpu, [encode32(name, ops)]);
          expect(cpu.getX(0, 3), `${name} 0x${a.toString(16)}, ${i}`).toBe(iOps[name]!(a, i));
        }
      }
    });
  }
  test('lui and auipc', () => {
    exec(cpu, [encode32('lui', { rd: 5, imm_u: -0x1000 }), encode32('auipc', { rd: 6, imm_u: 0x7fff_f000 })]);
    expect(cpu.getX(0, 5)).toBe(u64(-0x1000n));
    expect(cpu.getX(0, 6)).toBe(BigInt(CODE + 4) + 0x7fff_f000n);
    exec(cpu, [encode32('auipc', { rd: 6, imm_u: -0x8000_0000 })]);
    expect(cpu.getX(0, 6)).toBe(u64(BigInt(CODE) - 0x8000_0000n));
  });
});

describe('loads and stores', () => {
  const cpu = makeCpu();
  const view = ramView(cpu);
  const off = DATA - CODE;
  test('every width, sign- or zero-extended', () => {
    view.setBigUint64(off, 0x8899_aabb_ccdd_eeffn, true);
    cpu.setX(0, 1, BigInt(DATA));
    const cases: [string, bigint][] = [
      ['lb', u64(-1n)], ['lbu', 0xffn], ['lh', u64(-0x1101n)], ['lhu', 0xeeffn],
      ['lw', u64(-0x33221101n)], ['lwu', 0xccdd_eeffn], ['ld', 0x8899_aabb_ccdd_eeffn],
    ];
    for (const [name, want] of cases) {
      exec(cpu, [encode32(name, { rd: 2, rs1: 1, imm_i: 0 })]);
      expect(cpu.getX(0, 2), name).toBe(want);
    }
  });
  test('stores write only their width', () => {
    cpu.setX(0, 1, BigInt(DATA + 16));
    cpu.setX(0, 2, 0x1122_3344_5566_7788n);
    for (const [name, size] of [['sb', 1], ['sh', 2], ['sw', 4], ['sd', 8]] as const) {
      view.setBigUint64(off + 16, 0n, true);
      view.setBigUint64(off + 24, 0n, true);
      exec(cpu, [encode32(name, { rs1: 1, rs2: 2, imm_s: 0 })]);
      const mask = size === 8 ? (1n << 64n) - 1n : (1n << BigInt(size * 8)) - 1n;
      expect(view.getBigUint64(off + 16, true), name).toBe(0x1122_3344_5566_7788n & mask);
      expect(view.getBigUint64(off + 24, true)).toBe(0n);
    }
  });
  test('negative offsets and misaligned accesses are performed (as QEMU)', () => {
    view.setBigUint64(off + 40, 0x0807_0605_0403_0201n, true);
    view.setBigUint64(off + 48, 0x100f_0e0d_0c0b_0a09n, true);
    cpu.setX(0, 1, BigInt(DATA + 48));
    exec(cpu, [encode32('ld', { rd: 2, rs1: 1, imm_i: -5 })]);
    expect(cpu.getX(0, 2)).toBe(0x0b0a_0908_0706_0504n);
    cpu.setX(0, 3, 0xa1a2_a3a4_a5a6_a7a8n);
    exec(cpu, [encode32('sd', { rs1: 1, rs2: 3, imm_s: -3 })]);
    expect(view.getBigUint64(off + 45, true)).toBe(0xa1a2_a3a4_a5a6_a7a8n);
    expect(cpu.getCsr(0, 0x342)).toBe(0n); // no trap was taken
  });
  test('a misaligned access across a page boundary', () => {
    const page = DATA + 0x1000;
    cpu.setX(0, 1, BigInt(page - 2));
    cpu.setX(0, 3, 0x4433_2211n);
    exec(cpu, [encode32('sw', { rs1: 1, rs2: 3, imm_s: 0 }), encode32('lw', { rd: 4, rs1: 1, imm_i: 0 })]);
    expect(view.getUint32(page - 2 - CODE, true)).toBe(0x4433_2211);
    expect(cpu.getX(0, 4)).toBe(0x4433_2211n);
  });
});

describe('control transfer', () => {
  const cpu = makeCpu();
  const branches: [string, (a: bigint, b: bigint) => boolean][] = [
    ['beq', (a, b) => a === b],
    ['bne', (a, b) => a !== b],
    ['blt', (a, b) => BigInt.asIntN(64, a) < BigInt.asIntN(64, b)],
    ['bge', (a, b) => BigInt.asIntN(64, a) >= BigInt.asIntN(64, b)],
    ['bltu', (a, b) => a < b],
    ['bgeu', (a, b) => a >= b],
  ];
  const vals = [0n, 1n, u64(-1n), 1n << 63n, 5n];
  for (const [name, taken] of branches) {
    test(name, () => {
      for (const a of vals) {
        for (const b of vals) {
          cpu.setX(0, 1, a);
          cpu.setX(0, 2, b);
          exec(cpu, [encode32(name, { rs1: 1, rs2: 2, imm_b: -64 })]);
          expect(cpu.getPc(0)).toBe(BigInt(taken(a, b) ? CODE - 64 : CODE + 4));
        }
      }
    });
  }
  test('jal and jalr link the next pc; jalr clears bit 0', () => {
    exec(cpu, [encode32('jal', { rd: 1, imm_j: 0x800 })]);
    expect(cpu.getPc(0)).toBe(BigInt(CODE + 0x800));
    expect(cpu.getX(0, 1)).toBe(BigInt(CODE + 4));
    cpu.setX(0, 5, BigInt(CODE + 0x101));
    exec(cpu, [encode32('jalr', { rd: 5, rs1: 5, imm_i: 0x10 })]);
    expect(cpu.getPc(0)).toBe(BigInt(CODE + 0x110));
    expect(cpu.getX(0, 5)).toBe(BigInt(CODE + 4)); // rd == rs1: the old value was used for the target
  });
  test('a backward loop runs to completion', () => {
    // li a0, 0; li a1, 100; loop: add a0, a0, a1; addi a1, a1, -1; bnez a1, loop
    const prog = [
      encode32('addi', { rd: 10, rs1: 0, imm_i: 0 }),
      encode32('addi', { rd: 11, rs1: 0, imm_i: 100 }),
      encode32('add', { rd: 10, rs1: 10, rs2: 11 }),
      encode32('addi', { rd: 11, rs1: 11, imm_i: -1 }),
      encode32('bne', { rs1: 11, rs2: 0, imm_b: -8 }),
    ];
    exec(cpu, prog, 2 + 3 * 100);
    expect(cpu.getX(0, 10)).toBe(5050n);
    expect(cpu.getPc(0)).toBe(BigInt(CODE + 20));
    expect(cpu.lastRunInstructions).toBe(302);
  });
});

describe('ECALL, EBREAK, FENCE', () => {
  test('ECALL from M raises cause 11, EBREAK cause 3 with tval = pc', () => {
    const cpu = makeCpu();
    cpu.setCsr(0, 0x305, BigInt(DATA));
    exec(cpu, [encode32('ecall')]);
    expect(cpu.getCsr(0, 0x342)).toBe(11n);
    expect(cpu.getCsr(0, 0x341)).toBe(BigInt(CODE));
    expect(cpu.getPc(0)).toBe(BigInt(DATA));
    exec(cpu, [encode32('fence', { pred: 15, succ: 15 }), encode32('ebreak')], 2);
    expect(cpu.getCsr(0, 0x342)).toBe(3n);
    expect(cpu.getCsr(0, 0x343)).toBe(BigInt(CODE + 4));
  });
});
