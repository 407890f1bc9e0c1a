// The translator's field extractors (32-bit integer operations) agree with the instruction
// table's own, for every field on random and extreme instruction words.
import { describe, expect, it } from 'vitest';
import { fields32 } from '../../cpu/riscv/isa/table.gen';
import { fastField, referenceField } from './decode';

describe('tcg decode: field extraction', () => {
  it('matches the table for every field', () => {
    let seed = 12345;
    const words = [0, 0xffff_ffff, 0x8000_0000, 0x7fff_ffff];
    for (let i = 0; i < 2000; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      words.push(seed);
    }
    for (const field of Object.keys(fields32)) {
      for (const w of words) expect(fastField(field, w), `${field} of 0x${w.toString(16)}`).toBe(referenceField(field, w));
    }
  });
});
