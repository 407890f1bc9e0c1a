// RV64C: the core's expansion table agrees with the TS decoder for all 65536 words, and every
// legal compressed word executes exactly as its expansion does (registers, memory, next pc).
import { describe, expect, test } from 'vitest';
import { decode16 } from './isa/decode';
import { rng } from './testing/rng';
import { CODE, DATA, exec, makeCpu, ramView } from './testing/snippet';

const ILLEGAL = 0xffffffff;

describe('compressed instructions', () => {
  test('the core expands every 16-bit word as the table says', () => {
    const cpu = makeCpu();
    const mismatches: string[] = [];
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 3) === 3) continue;
      const want = decode16(h)?.expansion ?? ILLEGAL;
      const got = cpu.expandedCompressed(h);
      if (got !== want) mismatches.push(`0x${h.toString(16)}: core 0x${got.toString(16)}, table 0x${want.toString(16)}`);
    }
    expect(mismatches.slice(0, 10)).toEqual([]);
  });

  test('illegal and reserved words raise illegal-instruction with the 16-bit word in mtval', () => {
    const cpu = makeCpu();
    cpu.setCsr(0, 0x305, BigInt(DATA + 0x800));
    for (const h of [0x0000, 0x6101, 0x4002, 0x8002, 0x2001]) {
      exec(cpu, [{ half: h }]);
      expect(cpu.getCsr(0, 0x342), h.toString(16)).toBe(2n);
      expect(cpu.getCsr(0, 0x343)).toBe(BigInt(h));
    }
  });

  test('random legal words behave as their 32-bit expansions', () => {
    const r = rng(11);
    const a = makeCpu();
    const b = makeCpu();
    const va = ramView(a);
    const vb = ramView(b);
    for (const cpu of [a, b]) {
      cpu.setCsr(0, 0x305, BigInt(DATA + 0x800)); // traps land in a nop sled
      cpu.setCsr(0, 0x300, 1n << 13n); // FS = Initial: c.fld/c.fsd execute
    }
    let checked = 0;
    while (checked < 3000) {
      const h = r() & 0xffff;
      const d = decode16(h);
      if (!d) continue;
      checked++;
      // Same registers in both; memory-reaching registers point into the data page.
      for (let reg = 1; reg < 32; reg++) {
        const v = reg === 2 || (reg >= 8 && reg <= 15) ? BigInt(DATA + 0x100 + (r() & 0x3f8)) : BigInt(r()) << 20n | BigInt(r() & 0xfffff);
        a.setX(0, reg, v);
        b.setX(0, reg, v);
        a.setF(0, reg, v);
        b.setF(0, reg, v);
      }
      a.setCsr(0, 0x342, 0n);
      b.setCsr(0, 0x342, 0n);
      exec(a, [{ half: h }]);
      exec(b, [d.expansion]);
      const what = `${d.insn.name} 0x${h.toString(16)}`;
      for (let reg = 1; reg < 32; reg++) {
        expect(a.getX(0, reg), `${what} x${reg}`).toBe(b.getX(0, reg) - (reg === 1 && d.insn.name === 'c.jalr' ? 2n : 0n));
      }
      expect(a.getCsr(0, 0x342), what).toBe(b.getCsr(0, 0x342));
      const pcA = a.getPc(0);
      const pcB = b.getPc(0);
      // Straight-line code advances by 2 instead of 4; jumps and branches land on the same target.
      expect(pcA === pcB || (pcA === BigInt(CODE + 2) && pcB === BigInt(CODE + 4)), `${what} pc`).toBe(true);
      for (let off = DATA - CODE; off < DATA - CODE + 0x600; off += 8) {
        if (va.getBigUint64(off, true) !== vb.getBigUint64(off, true)) throw new Error(`${what}: memory differs at +0x${off.toString(16)}`);
      }
    }
  });
});
