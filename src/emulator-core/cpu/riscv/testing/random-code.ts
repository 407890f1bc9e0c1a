// Random guest code and register values for the fuzz tests (cpu/riscv/fuzz.test.ts on the
// interpreter, tcg/lockstep-fuzz.test.ts on the interpreter and the translator side by side):
// instruction words of the decode table with random operands, compressed words around the
// table's patterns, raw garbage, and pointers that land where faults and page crossings happen.
import { encode32 } from '../isa/decode';
import { formats, insns16, insns32 } from '../isa/table.gen';
import { CODE } from './snippet';
import { rng } from './rng';

/** Instructions of the table with random operands (CSR numbers biased to implemented ones). */
const validPool: number[] = (() => {
  const r = rng(99);
  const csrs = [0x300, 0x100, 0x180, 0x305, 0x105, 0x341, 0x141, 0x344, 0x304, 0x3a0, 0x3b0, 0x14d, 0x003, 0xc01, 0x7a0];
  const out: number[] = [];
  for (let i = 0; i < 8192; i++) {
    const insn = insns32[r() % insns32.length]!;
    const ops: Record<string, number> = {};
    let free = ~insn.mask;
    for (const op of formats[insn.format]!.operands) {
      if (op.field === 'csr') {
        ops.csr = r() % 4 ? csrs[r() % csrs.length]! : r() & 0xfff;
        free &= ~0xfff0_0000;
      }
    }
    out.push((encode32(insn.name, ops) | (r() & free)) >>> 0);
  }
  return out;
})();

/** Compressed words, legal or not, drawn around the table's patterns. */
const compressedPool: number[] = (() => {
  const r = rng(98);
  return Array.from({ length: 4096 }, () => {
    const c = insns16[r() % insns16.length]!;
    return (c.match | (r() & 0xffff & ~c.mask)) & 0xffff;
  });
})();

/**
 * Fills `words` from `r`: out of every ten, `valid` on average are table instructions (registers
 * scrambled), `compressed` are pairs of compressed words, the rest raw random words.
 */
export function fillRandomCode(words: Uint32Array, r: () => number, valid: number, compressed: number): void {
  for (let i = 0; i < words.length; i++) {
    const k = r() % 10;
    if (k < valid) words[i] = validPool[r() & 8191]! | (r() & 0x000f_8f80);
    else if (k < valid + compressed) words[i] = compressedPool[r() & 4095]! | (compressedPool[r() & 4095]! << 16);
    else words[i] = r();
  }
}

/** A register value: into the random code (some just before a page end), a device, low memory, a high kernel address, or garbage. */
export function randomPointer(r: () => number, span: number): bigint {
  const choices = [
    () => BigInt(CODE + (r() % span)),
    () => BigInt(CODE + (r() % (span >> 12)) * 4096 - 2),
    () => 0x1000_0000n + BigInt(r() & 0xfff),
    () => (BigInt(r()) << 32n) | BigInt(r()),
    () => BigInt(r() % 0x4000),
    () => 0xffff_ffc0_0000_0000n + BigInt(r()),
  ];
  return choices[r() % choices.length]!();
}
