// Test helper: wraps a flat image of guest memory as the smallest ELF64 the bare-metal loader
// (cpu/riscv/testing/elf.ts) takes: one PT_LOAD segment at `base` and a symbol table holding
// `tohost`. Programs generated in memory (random instruction streams) then run through the same
// harnesses as programs built from assembly, without a toolchain or a temporary file.

const EHDR = 64;
const PHDR = 56;
const SHDR = 64;
const SYM = 24;

export function flatElf(image: Uint8Array, at: { base: bigint; entry: bigint; tohost: bigint }): Uint8Array {
  const strtab = new TextEncoder().encode('\0tohost\0');
  const phoff = EHDR;
  const dataOff = phoff + PHDR;
  const symOff = dataOff + image.length + ((8 - (image.length % 8)) % 8);
  const strOff = symOff + 2 * SYM;
  const shoff = strOff + strtab.length + ((8 - (strtab.length % 8)) % 8);
  const out = new Uint8Array(shoff + 3 * SHDR);
  const dv = new DataView(out.buffer);
  // ELF header: 64-bit, little-endian, executable, RISC-V.
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  dv.setUint16(16, 2, true);
  dv.setUint16(18, 243, true);
  dv.setUint32(20, 1, true);
  dv.setBigUint64(24, at.entry, true);
  dv.setBigUint64(32, BigInt(phoff), true);
  dv.setBigUint64(40, BigInt(shoff), true);
  dv.setUint16(52, EHDR, true);
  dv.setUint16(54, PHDR, true);
  dv.setUint16(56, 1, true);
  dv.setUint16(58, SHDR, true);
  dv.setUint16(60, 3, true);
  // PT_LOAD, RWX.
  dv.setUint32(phoff, 1, true);
  dv.setUint32(phoff + 4, 7, true);
  dv.setBigUint64(phoff + 8, BigInt(dataOff), true);
  dv.setBigUint64(phoff + 16, at.base, true);
  dv.setBigUint64(phoff + 24, at.base, true);
  dv.setBigUint64(phoff + 32, BigInt(image.length), true);
  dv.setBigUint64(phoff + 40, BigInt(image.length), true);
  out.set(image, dataOff);
  // Symbols: the null one, then tohost.
  dv.setUint32(symOff + SYM, 1, true);
  dv.setBigUint64(symOff + SYM + 8, at.tohost, true);
  out.set(strtab, strOff);
  // Sections: null, .symtab (linked to 2), .strtab.
  const sh = (i: number, type: number, off: number, size: number, link: number): void => {
    const s = shoff + i * SHDR;
    dv.setUint32(s + 4, type, true);
    dv.setBigUint64(s + 24, BigInt(off), true);
    dv.setBigUint64(s + 32, BigInt(size), true);
    dv.setUint32(s + 40, link, true);
  };
  sh(1, 2, symOff, 2 * SYM, 2);
  sh(2, 3, strOff, strtab.length, 0);
  return out;
}
