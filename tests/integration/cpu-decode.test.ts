// The instruction table against GNU binutils: random encodings of every table instruction (and
// every legal compressed word pattern) disassembled by riscv64-unknown-elf-objdump must carry the
// same mnemonic, and words the table rejects must be rejected by objdump too.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { decode16, decode32 } from '../../src/emulator-core/cpu/riscv/isa/decode';
import { insns16, insns32 } from '../../src/emulator-core/cpu/riscv/isa/table.gen';
import { rng } from '../../src/emulator-core/cpu/riscv/testing/rng';

/** objdump -M no-aliases mnemonics for `words` (32-bit words or 16-bit halves), in order. */
function objdump(words: { value: number; half: boolean }[]): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'viv-objdump-'));
  try {
    // A raw binary, so objdump decodes everything as code (no mapping symbols).
    const bytes = Buffer.alloc(words.reduce((n, w) => n + (w.half ? 2 : 4), 0));
    let off = 0;
    for (const w of words) off = w.half ? bytes.writeUInt16LE(w.value, off) : bytes.writeUInt32LE(w.value, off);
    const bin = path.join(dir, 'w.bin');
    writeFileSync(bin, bytes);
    const out = execFileSync('riscv64-unknown-elf-objdump', ['-D', '-b', 'binary', '-m', 'riscv:rv64', '-M', 'no-aliases', bin], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    return out
      .split('\n')
      .filter((l) => /^\s+[0-9a-f]+:\t/.test(l))
      .map((l) => (l.split('\t')[2] ?? '').trim().split(/\s+/)[0]!);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** objdump spells acquire/release into AMO names and shows some FENCE encodings by name. */
function normalise(name: string): string {
  return name.replace(/\.(aqrl|aq|rl)$/, '').replace(/^(fence\.tso|pause)$/, 'fence');
}

describe('decode agrees with GNU objdump', () => {
  test('random encodings of every 32-bit instruction', () => {
    const r = rng(2024);
    const words: { value: number; half: boolean }[] = [];
    for (const insn of insns32) for (let k = 0; k < 20; k++) words.push({ value: ((r() & ~insn.mask) | insn.match) >>> 0, half: false });
    const names = objdump(words);
    expect(names.length).toBe(words.length);
    const diffs: string[] = [];
    words.forEach((w, i) => {
      const ours = decode32(w.value)?.insn.name ?? '.word';
      const theirs = names[i]!.replace(/^\.4byte$/, '.word');
      // Deliberate differences: binutils prints reserved rounding modes (5, 6) as a plain .word,
      // we decode them and raise illegal-instruction at execution (the same guest-visible
      // result); and FENCE/FENCE.I with nonzero reserved fields (rs1, rd, fm, imm), which the
      // ISA says implementations must ignore, binutils does not decode.
      const reservedRm = [5, 6].includes((w.value >>> 12) & 7);
      const fenceFields = (ours === 'fence' && (w.value & 0xf00f_8f80) !== 0) || (ours === 'fence.i' && (w.value & 0xffff_8f80) !== 0);
      // Binutils 2.40 also only decodes the exact conversions (fcvt.d.s, fcvt.d.w, fcvt.d.wu)
      // with rm = 0; the ISA gives them an rm field like every conversion, and QEMU accepts it.
      const exactRm = ['fcvt.d.s', 'fcvt.d.w', 'fcvt.d.wu'].includes(ours) && ((w.value >>> 12) & 7) !== 0;
      if (normalise(theirs) !== ours && !(theirs === '.word' && (reservedRm || fenceFields || exactRm))) {
        diffs.push(`0x${w.value.toString(16)}: ours ${ours}, objdump ${theirs}`);
      }
    });
    expect(diffs.slice(0, 20)).toEqual([]);
  });

  test('every compressed pattern, legal and reserved', () => {
    const r = rng(2025);
    const words: { value: number; half: boolean }[] = [];
    for (const c of insns16) for (let k = 0; k < 40; k++) words.push({ value: (c.match | (r() & 0xffff & ~c.mask)) & 0xffff, half: true });
    const names = objdump(words);
    const diffs: string[] = [];
    words.forEach((w, i) => {
      const ours = decode16(w.value)?.insn.name ?? '.half';
      // binutils names the shamt = 0 shift HINTs after RV128 (c.srli64) and decodes
      // c.addi16sp with a zero immediate, which the spec reserves (we raise illegal-instruction).
      const theirs = names[i]!.replace(/^\.(short|2byte)$/, '.half').replace(/^(c\.s[lr][la]i)64$/, '$1');
      const reservedSp16 = ours === '.half' && theirs === 'c.addi16sp' && (w.value & 0x107c) === 0;
      if (theirs !== ours && !reservedSp16) diffs.push(`0x${w.value.toString(16)}: ours ${ours}, objdump ${theirs}`);
    });
    expect(diffs.slice(0, 20)).toEqual([]);
  });
});
