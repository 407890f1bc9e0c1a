// The instruction table and the TS decoder/encoder derived from it.
import { describe, expect, test } from 'vitest';
import { decode16, decode32, encode32, extractField, insertField, insns16, insns32 } from './decode';
import { fields16, fields32, formats } from './table.gen';
import { rng } from '../testing/rng';

const popcount = (n: number): number => n.toString(2).replace(/0/g, '').length;

describe('the 32-bit table', () => {
  test('names are unique and every pattern is a 32-bit instruction (bits 1:0 = 11)', () => {
    expect(new Set(insns32.map((i) => i.name)).size).toBe(insns32.length);
    for (const i of insns32) expect(i.match & 3, i.name).toBe(3);
  });

  test('no two patterns overlap unless one is strictly more specific', () => {
    for (const a of insns32) {
      for (const b of insns32) {
        if (a === b) continue;
        const common = a.mask & b.mask;
        const overlap = ((a.match ^ b.match) & common) >>> 0 === 0;
        if (overlap) expect(popcount(a.mask), `${a.name} / ${b.name}`).not.toBe(popcount(b.mask));
      }
    }
  });

  test('random words of each pattern decode to it (or to a more specific one) with their operands', () => {
    const r = rng(1);
    for (const insn of insns32) {
      for (let k = 0; k < 50; k++) {
        const w = ((r() & ~insn.mask) | insn.match) >>> 0;
        const d = decode32(w)!;
        expect(d, `${insn.name} 0x${w.toString(16)}`).toBeDefined();
        if (d.insn !== insn) {
          expect(((w & d.insn.mask) >>> 0) === d.insn.match && popcount(d.insn.mask) > popcount(insn.mask)).toBe(true);
          continue;
        }
        // encode(decode(w)) == w, but for bits the instruction ignores (FENCE's rs1/rd, ...).
        const used = formats[insn.format]!.operands.reduce((m, o) => m | fieldMask(fields32[o.field]!), insn.mask);
        expect(encode32(insn.name, d.operands) >>> 0, insn.name).toBe((w & used) >>> 0);
      }
    }
  });

  test('field extract/insert are inverses over their whole range', () => {
    const r = rng(2);
    for (const f of Object.values(fields32)) {
      for (let k = 0; k < 200; k++) {
        const bits = (r() & fieldMask(f)) >>> 0;
        expect(insertField(f, extractField(f, bits))).toBe(bits);
      }
    }
  });

  test('known encodings', () => {
    expect(encode32('addi', { rd: 10, rs1: 0, imm_i: -1 })).toBe(0xfff00513);
    expect(encode32('jal', { rd: 1, imm_j: -4 })).toBe(0xffdff0ef);
    expect(encode32('beq', { rs1: 10, rs2: 11, imm_b: 4094 })).toBe(0x7eb50fe3);
    expect(encode32('sd', { rs1: 2, rs2: 1, imm_s: -8 })).toBe(0xfe113c23);
    expect(encode32('lui', { rd: 5, imm_u: 0x12345000 })).toBe(0x123452b7);
    expect(encode32('csrrw', { rd: 0, rs1: 5, csr: 0x305 })).toBe(0x30529073);
    expect(encode32('fmadd.d', { rd: 1, rs1: 2, rs2: 3, rs3: 4, rm: 7 })).toBe(0x223170c3);
    expect(() => encode32('addi', { imm_i: 4096 })).toThrow(RangeError);
  });
});

describe('the compressed table', () => {
  test('every expansion targets a table instruction and assigns each of its operands', () => {
    for (const c of insns16) {
      const t = insns32.find((i) => i.name === c.target)!;
      expect(t, c.name).toBeDefined();
      for (const op of formats[t.format]!.operands) expect(c.assign, `${c.name}.${op.field}`).toHaveProperty(op.field);
    }
  });

  test('known expansions', () => {
    expect(decode16(0x0001)?.insn.name).toBe('c.addi'); // c.nop
    expect(decode16(0x0000)).toBeUndefined(); // the all-zero word is illegal
    expect(decode16(0x4501)!.expansion).toBe(encode32('addi', { rd: 10, rs1: 0, imm_i: 0 })); // c.li a0, 0
    expect(decode16(0x952e)!.expansion).toBe(encode32('add', { rd: 10, rs1: 10, rs2: 11 })); // c.add a0, a1
    expect(decode16(0x8082)!.expansion).toBe(encode32('jalr', { rd: 0, rs1: 1, imm_i: 0 })); // c.jr ra (ret)
    expect(decode16(0x9002)!.insn.name).toBe('c.ebreak');
    expect(decode16(0xfdf5)!.expansion).toBe(encode32('bne', { rs1: 11, rs2: 0, imm_b: -4 })); // c.bnez a1, -4
    expect(decode16(0x6105)).toBeDefined(); // c.addi16sp sp, 32
    expect(decode16(0x6101)).toBeUndefined(); // c.addi16sp with 0: reserved
    expect(decode16(0x4002)).toBeUndefined(); // c.lwsp x0: reserved
  });
});

function fieldMask(f: { segs: readonly (readonly [number, number])[] }): number {
  let m = 0;
  for (const [hi, lo] of f.segs) for (let b = lo; b <= hi; b++) m |= 1 << b;
  return m >>> 0;
}

test('16-bit fields are within 16 bits', () => {
  for (const [name, f] of Object.entries(fields16)) expect(fieldMask(f) >>> 16, name).toBe(0);
});
