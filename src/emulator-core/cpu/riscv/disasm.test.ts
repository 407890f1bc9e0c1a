import { describe, expect, test } from 'vitest';
import { disassemble } from './disasm';
import { encode32 } from './isa/decode';

describe('disassemble', () => {
  test('formats by the table', () => {
    expect(disassemble(encode32('addi', { rd: 10, rs1: 2, imm_i: -16 }))).toBe('addi a0, sp, -16');
    expect(disassemble(encode32('ld', { rd: 1, rs1: 2, imm_i: 8 }))).toBe('ld ra, 8(sp)');
    expect(disassemble(encode32('sd', { rs1: 2, rs2: 1, imm_s: 8 }))).toBe('sd ra, 8(sp)');
    expect(disassemble(encode32('beq', { rs1: 10, rs2: 0, imm_b: -8 }), 0x80000010n)).toBe('beq a0, zero, 0x80000008');
    expect(disassemble(encode32('lui', { rd: 5, imm_u: 0x12345000 }))).toBe('lui t0, 0x12345');
    expect(disassemble(encode32('csrrs', { rd: 10, rs1: 0, csr: 0x300 }))).toBe('csrrs a0, mstatus, zero');
    expect(disassemble(encode32('fadd.d', { rd: 1, rs1: 2, rs2: 3, rm: 7 }))).toBe('fadd.d ft1, ft2, ft3, dyn');
    expect(disassemble(encode32('fence', { pred: 3, succ: 12 }))).toBe('fence rw, io');
    expect(disassemble(encode32('amoadd.w', { rd: 5, rs1: 6, rs2: 7 }))).toBe('amoadd.w t0, t2, (t1)');
    expect(disassemble(0x10500073)).toBe('wfi');
  });

  test('compressed words show their C mnemonic and expanded operands', () => {
    expect(disassemble(0x952e)).toBe('c.add a0, a0, a1');
    expect(disassemble(0x8082)).toBe('c.jr zero, ra, 0');
    expect(disassemble(0x0000)).toBe('.half 0x0');
  });

  test('undefined words', () => {
    expect(disassemble(0xffffffff)).toBe('.word 0xffffffff');
  });
});
