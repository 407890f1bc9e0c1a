// RV64A: AMOs against reference operations, LR/SC reservations, alignment faults.
import { describe, expect, test } from 'vitest';
import { encode32 } from './isa/decode';
import { CODE, DATA, exec, makeCpu, ramView, u64 } from './testing/snippet';

const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const s32 = (v: bigint): bigint => BigInt.asIntN(32, v);
const amoRef: Record<string, (a: bigint, b: bigint, word: boolean) => bigint> = {
  amoswap: (_a, b) => b,
  amoadd: (a, b) => a + b,
  amoxor: (a, b) => a ^ b,
  amoand: (a, b) => a & b,
  amoor: (a, b) => a | b,
  amomin: (a, b, w) => ((w ? s32(a) < s32(b) : s64(a) < s64(b)) ? a : b),
  amomax: (a, b, w) => ((w ? s32(a) > s32(b) : s64(a) > s64(b)) ? a : b),
  amominu: (a, b) => (a < b ? a : b),
  amomaxu: (a, b) => (a > b ? a : b),
};

describe('AMOs', () => {
  const cpu = makeCpu();
  const view = ramView(cpu);
  const off = DATA - CODE;
  const vals = [0n, 1n, u64(-1n), 0x8000_0000n, 0x7fff_ffffn, 1n << 63n, 0x1234_5678_9abc_def0n];
  for (const [op, ref] of Object.entries(amoRef)) {
    for (const width of ['w', 'd'] as const) {
      test(`${op}.${width}`, () => {
        const word = width === 'w';
        for (const a of vals) {
          for (const b of vals) {
            view.setBigUint64(off, 0xdead_beef_0000_0000n | 0x5555n, true);
            if (word) view.setUint32(off, Number(a & 0xffff_ffffn), true);
            else view.setBigUint64(off, a, true);
            cpu.setX(0, 1, BigInt(DATA));
            cpu.setX(0, 2, b);
            exec(cpu, [encode32(`${op}.${width}`, { rd: 3, rs1: 1, rs2: 2 })]);
            const mem = word ? BigInt(view.getUint32(off, true)) : view.getBigUint64(off, true);
            const am = word ? a & 0xffff_ffffn : a;
            const bm = word ? b & 0xffff_ffffn : b;
            const want = ref(am, bm, word) & (word ? 0xffff_ffffn : (1n << 64n) - 1n);
            expect(mem, `${op}.${width} 0x${a.toString(16)} 0x${b.toString(16)}`).toBe(want);
            expect(cpu.getX(0, 3)).toBe(word ? u64(s32(am)) : am);
            if (word) expect(view.getUint32(off + 4, true)).toBe(0xdead_beef); // the upper word is untouched
          }
        }
      });
    }
  }
  test('misaligned AMOs and SC raise store/AMO address misaligned (6); LR load misaligned (4)', () => {
    cpu.setCsr(0, 0x305, BigInt(DATA + 0x800));
    for (const [name, cause] of [['amoadd.w', 6n], ['amoswap.d', 6n], ['lr.w', 4n], ['lr.d', 4n], ['sc.d', 6n]] as const) {
      cpu.setX(0, 1, BigInt(DATA + 2));
      const ops: Record<string, number> = name.startsWith('lr') ? { rd: 3, rs1: 1 } : { rd: 3, rs1: 1, rs2: 2 };
      exec(cpu, [encode32(name, ops)]);
      expect(cpu.getCsr(0, 0x342), name).toBe(cause);
      expect(cpu.getCsr(0, 0x343)).toBe(BigInt(DATA + 2));
    }
  });
});

describe('LR/SC', () => {
  test('SC succeeds after LR to the same address and fails without a reservation', () => {
    const cpu = makeCpu();
    const view = ramView(cpu);
    cpu.setX(0, 1, BigInt(DATA));
    cpu.setX(0, 2, 42n);
    exec(cpu, [
      encode32('lr.d', { rd: 3, rs1: 1 }),
      encode32('sc.d', { rd: 4, rs1: 1, rs2: 2 }),
      encode32('sc.d', { rd: 5, rs1: 1, rs2: 0 }), // the reservation is gone: fails, no store
    ]);
    expect(cpu.getX(0, 4)).toBe(0n);
    expect(cpu.getX(0, 5)).toBe(1n);
    expect(view.getBigUint64(DATA - CODE, true)).toBe(42n);
  });
  test('SC to another address fails and drops the reservation', () => {
    const cpu = makeCpu();
    cpu.setX(0, 1, BigInt(DATA));
    cpu.setX(0, 6, BigInt(DATA + 8));
    exec(cpu, [
      encode32('lr.w', { rd: 3, rs1: 1 }),
      encode32('sc.w', { rd: 4, rs1: 6, rs2: 2 }),
      encode32('sc.w', { rd: 5, rs1: 1, rs2: 2 }),
    ]);
    expect(cpu.getX(0, 4)).toBe(1n);
    expect(cpu.getX(0, 5)).toBe(1n);
  });
  test('the reservation survives a slice boundary but not another hart running', () => {
    const cpu = makeCpu({ harts: 2 });
    cpu.setX(0, 1, BigInt(DATA));
    exec(cpu, [encode32('lr.d', { rd: 3, rs1: 1 })]);
    exec(cpu, [encode32('sc.d', { rd: 4, rs1: 1, rs2: 2 })], 1, CODE + 4);
    expect(cpu.getX(0, 4)).toBe(0n);
    exec(cpu, [encode32('lr.d', { rd: 3, rs1: 1 })]);
    exec(cpu, [encode32('addi', { rd: 1, rs1: 0, imm_i: 1 })], 1, CODE + 0x100, 1);
    exec(cpu, [encode32('sc.d', { rd: 4, rs1: 1, rs2: 2 })], 1, CODE + 4);
    expect(cpu.getX(0, 4)).toBe(1n);
  });
  test('LR and AMOs on a device region raise access faults', () => {
    const cpu = makeCpu({ mmio: { load: () => 0, store: () => true } });
    cpu.setCsr(0, 0x305, BigInt(DATA));
    cpu.setX(0, 1, 0x1000_0000n);
    exec(cpu, [encode32('lr.w', { rd: 3, rs1: 1 })]);
    expect(cpu.getCsr(0, 0x342)).toBe(5n);
    exec(cpu, [encode32('amoor.w', { rd: 3, rs1: 1, rs2: 2 })]);
    expect(cpu.getCsr(0, 0x342)).toBe(7n);
  });
});
