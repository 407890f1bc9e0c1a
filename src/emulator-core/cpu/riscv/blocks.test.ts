// The decoded-block cache never runs stale code: whatever writes guest memory (the hart's own
// stores, another hart, the board between runs, a device inside an MMIO access), the next
// execution of that code sees the new bytes. Also a block ending with a page-crossing
// instruction follows the current translation of the next page.
import { describe, expect, test } from 'vitest';
import { Priv } from './cpu';
import { encode32 } from './isa/decode';
import { PTE, PageTables } from './testing/page-tables';
import { CODE, DATA, allowAllPmp, makeCpu, ramView, writeCode } from './testing/snippet';

const addi = (rd: number, rs1: number, imm: number): number => encode32('addi', { rd, rs1, imm_i: imm });
const jal = (rd: number, imm: number): number => encode32('jal', { rd, imm_j: imm });
const jalr0 = (rs1: number): number => encode32('jalr', { rd: 0, rs1, imm_i: 0 });

describe('stale code cannot run', () => {
  test('a store over a later instruction, FENCE.I, then running it', () => {
    const cpu = makeCpu();
    // t1 = the new instruction word; sw t1, 12(t0) patches "addi a0, zero, 1" into "... 2"
    const target = CODE + 16;
    writeCode(cpu, CODE, [
      encode32('sw', { rs1: 5, rs2: 6, imm_s: 16 }),
      encode32('fence.i'),
      addi(0, 0, 0),
      addi(0, 0, 0),
      addi(10, 0, 1),
    ]);
    cpu.setX(0, 5, BigInt(CODE));
    cpu.setX(0, 6, BigInt(addi(10, 0, 2)));
    // First run the original once so the block is cached.
    cpu.setPc(0, BigInt(target));
    cpu.run(0, 1);
    expect(cpu.getX(0, 10)).toBe(1n);
    cpu.setPc(0, BigInt(CODE));
    cpu.run(0, 5);
    expect(cpu.getX(0, 10)).toBe(2n);
  });

  test('code patched through a write-TLB entry cached before the page held code', () => {
    const cpu = makeCpu();
    const body = CODE + 0x1000; // its own page, first written as data
    writeCode(cpu, body, [addi(10, 10, 1), jalr0(1)]);
    writeCode(cpu, CODE, [
      encode32('sw', { rs1: 5, rs2: 6, imm_s: 0 }), // caches body's page in the write TLB
      jal(1, 0x1000 - 4), // run body: its page now holds code
      encode32('add', { rd: 6, rs1: 6, rs2: 7 }), // the immediate += 1
      encode32('sw', { rs1: 5, rs2: 6, imm_s: 0 }), // patch body
      jal(1, 0x1000 - 16), // run it again
    ]);
    cpu.setX(0, 5, BigInt(body));
    cpu.setX(0, 6, BigInt(addi(10, 10, 1)));
    cpu.setX(0, 7, 1n << 20n);
    cpu.setPc(0, BigInt(CODE));
    cpu.run(0, 9);
    expect(cpu.getX(0, 10)).toBe(1n + 2n);
    expect(cpu.getPc(0)).toBe(BigInt(CODE + 20));
  });

  test('the board rewriting code between runs', () => {
    const cpu = makeCpu();
    writeCode(cpu, CODE, [addi(10, 0, 7)]);
    cpu.setPc(0, BigInt(CODE));
    cpu.run(0, 1);
    expect(cpu.getX(0, 10)).toBe(7n);
    ramView(cpu).setUint32(0, addi(10, 0, 9), true); // as a loader or a device between slices
    cpu.setPc(0, BigInt(CODE));
    cpu.run(0, 1);
    expect(cpu.getX(0, 10)).toBe(9n);
  });

  test('a device writing code during an MMIO access (DMA)', () => {
    const ref: { cpu?: ReturnType<typeof makeCpu> } = {};
    const cpu = makeCpu({
      mmio: {
        load: () => 0,
        store: () => {
          new DataView(ref.cpu!.ram.buffer, ref.cpu!.ram.byteOffset).setUint32(0x40, addi(10, 0, 5), true);
          return true;
        },
      },
    });
    ref.cpu = cpu;
    writeCode(cpu, CODE + 0x40, [addi(10, 0, 3), jalr0(1)]);
    writeCode(cpu, CODE, [jal(1, 0x40), encode32('sw', { rs1: 5, rs2: 0, imm_s: 0 }), jal(1, 0x40 - 8)]);
    cpu.setX(0, 5, 0x1000_0000n);
    cpu.setPc(0, BigInt(CODE));
    cpu.run(0, 3);
    expect(cpu.getX(0, 10)).toBe(3n);
    cpu.run(0, 4);
    expect(cpu.getX(0, 10)).toBe(5n);
  });

  test('another hart rewriting code the first one runs', () => {
    const cpu = makeCpu({ harts: 2 });
    writeCode(cpu, CODE, [addi(10, 0, 1)]);
    cpu.setPc(0, BigInt(CODE));
    cpu.run(0, 1);
    expect(cpu.getX(0, 10)).toBe(1n);
    writeCode(cpu, CODE + 0x200, [encode32('sw', { rs1: 5, rs2: 6, imm_s: 0 })]);
    cpu.setX(1, 5, BigInt(CODE));
    cpu.setX(1, 6, BigInt(addi(10, 0, 4)));
    cpu.setPc(1, BigInt(CODE + 0x200));
    cpu.run(1, 1);
    cpu.setPc(0, BigInt(CODE));
    cpu.run(0, 1);
    expect(cpu.getX(0, 10)).toBe(4n);
  });
});

describe('instructions that cross a page', () => {
  test('run in blocks, and follow a remapped second page', () => {
    const cpu = makeCpu({ ramSize: 4 << 20 });
    allowAllPmp(cpu);
    cpu.setCsr(0, 0x305, BigInt(DATA + 0x800));
    const pt = new PageTables(cpu, 3, CODE + 0x20_0000);
    const VA = 0x4000_0000n;
    // Virtual page VA -> physical CODE+0x1000; VA+0x1000 -> CODE+0x2000 or CODE+0x3000.
    pt.map(VA, BigInt(CODE + 0x1000), PTE.R | PTE.X | PTE.A);
    const second = pt.map(VA + 0x1000n, BigInt(CODE + 0x2000), PTE.R | PTE.X | PTE.A);
    pt.map(0x5000_0000n, BigInt(CODE), PTE.R | PTE.X | PTE.A); // a helper page for sfence
    cpu.setCsr(0, 0x180, pt.satp);
    const view = ramView(cpu);
    // At VA+0xffe: addi a0, zero, 1 (low half in page 1, high half in page 2); at +0xffa: c.nop x2
    const insnA = addi(10, 0, 1);
    const insnB = addi(10, 0, 2);
    view.setUint16(0x1ffa, 0x0001, true);
    view.setUint16(0x1ffc, 0x0001, true);
    view.setUint16(0x1ffe, insnA & 0xffff, true);
    view.setUint16(0x2000, insnA >>> 16, true);
    view.setUint16(0x3000, insnB >>> 16, true); // the other second page: same low half -> insnB
    view.setUint32(0x2002, jalr0(1), true);
    view.setUint32(0x3002, jalr0(1), true);
    cpu.perfCounters(true);
    for (let i = 0; i < 3; i++) {
      cpu.setPriv(0, Priv.Supervisor);
      cpu.setX(0, 1, 0x5000_0000n);
      cpu.setPc(0, VA + 0xffan);
      cpu.run(0, 4);
      expect(cpu.getX(0, 10)).toBe(1n);
    }
    expect(cpu.perfCounters().step).toBe(0); // executed inside a block, not stepped
    pt.setPte(second, ((BigInt(CODE + 0x3000) >> 12n) << 10n) | PTE.V | PTE.R | PTE.X | PTE.A);
    writeCode(cpu, CODE, [encode32('sfence.vma', { rs1: 0, rs2: 0 })]);
    cpu.setPriv(0, Priv.Supervisor);
    cpu.setPc(0, 0x5000_0000n);
    cpu.run(0, 1);
    cpu.setX(0, 1, 0x5000_0000n);
    cpu.setPc(0, VA + 0xffan);
    cpu.run(0, 4);
    expect(cpu.getX(0, 10)).toBe(2n);
  });
});
