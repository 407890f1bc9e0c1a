// A minimal ELF64 little-endian reader for the CPU's own bare-metal test programs: loadable
// segments and the symbol table (for riscv-tests' `tohost`). Every offset and size is checked
// against the file; a malformed file is an error, never an out-of-range read.

export interface ElfSegment {
  paddr: bigint;
  data: Uint8Array; // file bytes (filesz)
  memsz: bigint;
}

export interface ElfImage {
  entry: bigint;
  segments: ElfSegment[];
  symbols: Map<string, bigint>;
}

export class ElfError extends Error {}

export function parseElf(bytes: Uint8Array): ElfImage {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (off: number, len: number, what: string): void => {
    if (!Number.isSafeInteger(off) || off < 0 || len < 0 || off + len > bytes.length) {
      throw new ElfError(`ELF: ${what} lies outside the file`);
    }
  };
  need(0, 64, 'header');
  if (dv.getUint32(0, false) !== 0x7f454c46) throw new ElfError('ELF: bad magic');
  if (bytes[4] !== 2 || bytes[5] !== 1) throw new ElfError('ELF: not 64-bit little-endian');
  if (dv.getUint16(18, true) !== 243) throw new ElfError('ELF: not RISC-V');
  const entry = dv.getBigUint64(24, true);
  const phoff = Number(dv.getBigUint64(32, true));
  const shoff = Number(dv.getBigUint64(40, true));
  const phentsize = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  const shentsize = dv.getUint16(58, true);
  const shnum = dv.getUint16(60, true);

  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    need(p, 56, 'program header');
    if (dv.getUint32(p, true) !== 1) continue; // PT_LOAD
    const offset = Number(dv.getBigUint64(p + 8, true));
    const paddr = dv.getBigUint64(p + 24, true);
    const filesz = Number(dv.getBigUint64(p + 32, true));
    const memsz = dv.getBigUint64(p + 40, true);
    need(offset, filesz, 'segment');
    if (BigInt(filesz) > memsz) throw new ElfError('ELF: segment filesz > memsz');
    segments.push({ paddr, data: bytes.subarray(offset, offset + filesz), memsz });
  }

  const symbols = new Map<string, bigint>();
  for (let i = 0; i < shnum; i++) {
    const s = shoff + i * shentsize;
    need(s, 64, 'section header');
    if (dv.getUint32(s + 4, true) !== 2) continue; // SHT_SYMTAB
    const off = Number(dv.getBigUint64(s + 24, true));
    const size = Number(dv.getBigUint64(s + 32, true));
    const link = dv.getUint32(s + 40, true);
    const strHdr = shoff + link * shentsize;
    need(strHdr, 64, 'string table header');
    const strOff = Number(dv.getBigUint64(strHdr + 24, true));
    const strSize = Number(dv.getBigUint64(strHdr + 32, true));
    need(off, size, 'symbol table');
    need(strOff, strSize, 'string table');
    for (let e = off; e + 24 <= off + size; e += 24) {
      const name = dv.getUint32(e, true);
      if (name >= strSize) continue;
      let end = strOff + name;
      while (end < strOff + strSize && bytes[end] !== 0) end++;
      const text = new TextDecoder().decode(bytes.subarray(strOff + name, end));
      if (text) symbols.set(text, dv.getBigUint64(e + 8, true));
    }
  }
  return { entry, segments, symbols };
}
