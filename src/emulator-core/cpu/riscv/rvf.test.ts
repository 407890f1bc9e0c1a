// F and D wiring (the arithmetic itself is the FPU's, tested in fpu-oracle): the FS gate and
// dirty tracking, NaN boxing, fcsr/frm/fflags, rounding-mode checks, moves and conversions'
// sign extension, FP loads/stores.
import { describe, expect, test } from 'vitest';
import { encode32 } from './isa/decode';
import { CODE, DATA, exec, makeCpu, ramView, u64 } from './testing/snippet';

const MSTATUS = 0x300;
const FS_INITIAL = 1n << 13n;
const FS_DIRTY = 3n << 13n;
const SD = 1n << 63n;
const BOX = 0xffff_ffff_0000_0000n;
const one32 = 0x3f80_0000n;
const two32 = 0x4000_0000n;
const one64 = 0x3ff0_0000_0000_0000n;

function fpCpu(): ReturnType<typeof makeCpu> {
  const cpu = makeCpu();
  cpu.setCsr(0, 0x305, BigInt(DATA + 0x800));
  cpu.setCsr(0, MSTATUS, FS_INITIAL);
  return cpu;
}

describe('mstatus.FS', () => {
  test('FP instructions and fcsr are illegal while FS = Off', () => {
    const cpu = makeCpu();
    cpu.setCsr(0, 0x305, BigInt(DATA + 0x800));
    for (const w of [
      encode32('fadd.s', { rd: 1, rs1: 2, rs2: 3, rm: 0 }),
      encode32('fmv.x.d', { rd: 1, rs1: 2 }),
      encode32('fld', { rd: 1, rs1: 0, imm_i: 0 }),
      encode32('csrrs', { rd: 1, rs1: 0, csr: 0x003 }),
    ]) {
      cpu.setCsr(0, 0x342, 0n);
      exec(cpu, [w]);
      expect(cpu.getCsr(0, 0x342)).toBe(2n);
      expect(cpu.getCsr(0, 0x343)).toBe(BigInt(w));
    }
  });
  test('an FP write makes FS Dirty and mstatus.SD reads 1', () => {
    const cpu = fpCpu();
    expect(cpu.getCsr(0, MSTATUS)! & (FS_DIRTY | SD)).toBe(FS_INITIAL);
    cpu.setX(0, 5, one32);
    exec(cpu, [encode32('fmv.w.x', { rd: 1, rs1: 5 })]);
    expect(cpu.getCsr(0, MSTATUS)! & (FS_DIRTY | SD)).toBe(FS_DIRTY | SD);
    expect((cpu.getCsr(0, 0x100)! >> 63n) & 1n).toBe(1n); // sstatus.SD too
  });
});

describe('single precision and NaN boxing', () => {
  test('flw and fmv.w.x box; fadd.s of boxed values; an unboxed input reads as the canonical NaN', () => {
    const cpu = fpCpu();
    ramView(cpu).setUint32(DATA - CODE, Number(one32), true);
    cpu.setX(0, 5, BigInt(DATA));
    cpu.setX(0, 6, two32);
    exec(cpu, [
      encode32('flw', { rd: 1, rs1: 5, imm_i: 0 }),
      encode32('fmv.w.x', { rd: 2, rs1: 6 }),
      encode32('fadd.s', { rd: 3, rs1: 1, rs2: 2, rm: 0 }),
    ]);
    expect(cpu.getF(0, 1)).toBe(BOX | one32);
    expect(cpu.getF(0, 3)).toBe(BOX | 0x4040_0000n); // 3.0f
    cpu.setF(0, 4, one32); // not boxed
    exec(cpu, [encode32('fadd.s', { rd: 3, rs1: 4, rs2: 2, rm: 0 })]);
    expect(cpu.getF(0, 3)).toBe(BOX | 0x7fc0_0000n);
  });
  test('fmv.x.w sign-extends the raw low word (no unboxing); fcvt.wu.s sign-extends its result', () => {
    const cpu = fpCpu();
    cpu.setF(0, 1, 0x1234_5678_8000_0001n);
    exec(cpu, [encode32('fmv.x.w', { rd: 5, rs1: 1 })]);
    expect(cpu.getX(0, 5)).toBe(u64(-0x7fff_ffffn));
    cpu.setF(0, 2, BOX | 0x4f00_0000n); // 2^31
    exec(cpu, [encode32('fcvt.wu.s', { rd: 6, rs1: 2, rm: 1 })]);
    expect(cpu.getX(0, 6)).toBe(0xffff_ffff_8000_0000n);
  });
  test('sign injection on boxed singles', () => {
    const cpu = fpCpu();
    cpu.setF(0, 1, BOX | one32);
    cpu.setF(0, 2, BOX | 0x8000_0000n);
    exec(cpu, [
      encode32('fsgnj.s', { rd: 3, rs1: 1, rs2: 2 }),
      encode32('fsgnjn.s', { rd: 4, rs1: 1, rs2: 2 }),
      encode32('fsgnjx.s', { rd: 5, rs1: 3, rs2: 2 }),
    ]);
    expect(cpu.getF(0, 3)).toBe(BOX | 0xbf80_0000n);
    expect(cpu.getF(0, 4)).toBe(BOX | one32);
    expect(cpu.getF(0, 5)).toBe(BOX | one32);
  });
});

describe('rounding modes and flags', () => {
  test('exceptions accrue in fflags; fcsr, frm and fflags are views of one register', () => {
    const cpu = fpCpu();
    cpu.setF(0, 1, one64);
    cpu.setF(0, 2, 0n);
    exec(cpu, [encode32('fdiv.d', { rd: 3, rs1: 1, rs2: 2, rm: 0 })]);
    expect(cpu.getF(0, 3)).toBe(0x7ff0_0000_0000_0000n); // +inf
    expect(cpu.getCsr(0, 0x001)).toBe(0x08n); // DZ
    exec(cpu, [encode32('csrrwi', { rd: 5, zimm: 2, csr: 0x002 })]); // frm = RDN
    expect(cpu.getX(0, 5)).toBe(0n);
    expect(cpu.getCsr(0, 0x003)).toBe((2n << 5n) | 0x08n);
  });
  test('reserved rm (5, 6) and dynamic rm with an invalid frm are illegal', () => {
    const cpu = fpCpu();
    for (const rm of [5, 6]) {
      cpu.setCsr(0, 0x342, 0n);
      exec(cpu, [encode32('fadd.d', { rd: 3, rs1: 1, rs2: 2, rm })]);
      expect(cpu.getCsr(0, 0x342)).toBe(2n);
    }
    cpu.setCsr(0, 0x002, 5n);
    cpu.setCsr(0, 0x342, 0n);
    exec(cpu, [encode32('fmul.d', { rd: 3, rs1: 1, rs2: 2, rm: 7 })]);
    expect(cpu.getCsr(0, 0x342)).toBe(2n);
    cpu.setCsr(0, 0x002, 1n);
    cpu.setCsr(0, 0x342, 0n);
    exec(cpu, [encode32('fmul.d', { rd: 3, rs1: 1, rs2: 2, rm: 7 })]);
    expect(cpu.getCsr(0, 0x342)).toBe(0n);
  });
  test('dynamic rounding uses frm', () => {
    const cpu = fpCpu();
    cpu.setF(0, 1, 0x3ff8_0000_0000_0000n); // 1.5
    cpu.setCsr(0, 0x002, 2n); // RDN
    exec(cpu, [encode32('fcvt.l.d', { rd: 5, rs1: 1, rm: 7 })]);
    expect(cpu.getX(0, 5)).toBe(1n);
    cpu.setCsr(0, 0x002, 3n); // RUP
    exec(cpu, [encode32('fcvt.l.d', { rd: 5, rs1: 1, rm: 7 })]);
    expect(cpu.getX(0, 5)).toBe(2n);
  });
});

describe('fused multiply-add', () => {
  test('the four variants read rs1, rs2 and rs3 (2 * 3 +- 4), single and double', () => {
    const cpu = fpCpu();
    const d = (x: number): bigint => new BigUint64Array(new Float64Array([x]).buffer)[0]!;
    const f = (x: number): bigint => BOX | BigInt(new Uint32Array(new Float32Array([x]).buffer)[0]!);
    cpu.setF(0, 1, d(2));
    cpu.setF(0, 2, d(3));
    cpu.setF(0, 3, d(4));
    cpu.setF(0, 11, f(2));
    cpu.setF(0, 12, f(3));
    cpu.setF(0, 13, f(4));
    const ops = ['fmadd', 'fmsub', 'fnmsub', 'fnmadd'];
    exec(cpu, ops.map((op, k) => encode32(`${op}.d`, { rd: 4 + k, rs1: 1, rs2: 2, rs3: 3, rm: 0 })));
    exec(cpu, ops.map((op, k) => encode32(`${op}.s`, { rd: 14 + k, rs1: 11, rs2: 12, rs3: 13, rm: 0 })));
    expect([4, 5, 6, 7].map((r) => cpu.getF(0, r))).toEqual([d(10), d(2), d(-2), d(-10)]);
    expect([14, 15, 16, 17].map((r) => cpu.getF(0, r))).toEqual([f(10), f(2), f(-2), f(-10)]);
  });
});

describe('double precision moves, loads and stores', () => {
  test('fld/fsd round trip, fmv.x.d/fmv.d.x, fsw stores the low word', () => {
    const cpu = fpCpu();
    const view = ramView(cpu);
    view.setBigUint64(DATA - CODE, 0x0123_4567_89ab_cdefn, true);
    cpu.setX(0, 5, BigInt(DATA));
    exec(cpu, [
      encode32('fld', { rd: 1, rs1: 5, imm_i: 0 }),
      encode32('fsd', { rs1: 5, rs2: 1, imm_s: 8 }),
      encode32('fmv.x.d', { rd: 6, rs1: 1 }),
      encode32('fsw', { rs1: 5, rs2: 1, imm_s: 16 }),
    ]);
    expect(view.getBigUint64(DATA - CODE + 8, true)).toBe(0x0123_4567_89ab_cdefn);
    expect(cpu.getX(0, 6)).toBe(0x0123_4567_89ab_cdefn);
    expect(view.getUint32(DATA - CODE + 16, true)).toBe(0x89ab_cdef);
  });
  test('fcvt.s.d boxes its result; fcvt.d.s reads a boxed single', () => {
    const cpu = fpCpu();
    cpu.setF(0, 1, one64);
    exec(cpu, [encode32('fcvt.s.d', { rd: 2, rs1: 1, rm: 0 }), encode32('fcvt.d.s', { rd: 3, rs1: 2, rm: 0 })]);
    expect(cpu.getF(0, 2)).toBe(BOX | one32);
    expect(cpu.getF(0, 3)).toBe(one64);
  });
  test('compares write integer registers', () => {
    const cpu = fpCpu();
    cpu.setF(0, 1, one64);
    cpu.setF(0, 2, 0x4000_0000_0000_0000n);
    exec(cpu, [
      encode32('flt.d', { rd: 5, rs1: 1, rs2: 2 }),
      encode32('feq.d', { rd: 6, rs1: 1, rs2: 2 }),
      encode32('fclass.d', { rd: 7, rs1: 1 }),
    ]);
    expect([cpu.getX(0, 5), cpu.getX(0, 6), cpu.getX(0, 7)]).toEqual([1n, 0n, 1n << 6n]);
  });
});
