// ELF64 little-endian RISC-V executables (System V gABI; RISC-V ELF psABI): PT_LOAD segments
// copied to their physical addresses (p_paddr, as QEMU's load_elf does for system emulation), the
// entry point, and the `tohost`/`fromhost` symbols that bare-metal test programs (riscv-tests)
// use to talk to an HTIF host. Every offset, size and address in the file is checked.
import { LoadError } from './errors';

export interface ElfSegment {
  paddr: number;
  /** The file bytes; memSize - data.length bytes of zeros follow (bss). */
  data: Uint8Array;
  memSize: number;
}

export interface ElfImage {
  entry: number;
  segments: ElfSegment[];
  /** Address of the symbols, if the file defines them. */
  tohost?: number;
  fromhost?: number;
}

const EM_RISCV = 243;
const PT_LOAD = 1;
const SHT_SYMTAB = 2;

export function isElf(file: Uint8Array): boolean {
  return file.length >= 4 && file[0] === 0x7f && file[1] === 0x45 && file[2] === 0x4c && file[3] === 0x46;
}

export function parseElf(file: Uint8Array, name: string): ElfImage {
  const fail = (why: string): never => {
    throw new LoadError(`${name}: ${why}`);
  };
  if (!isElf(file)) fail('not an ELF file');
  if (file.length < 64) fail('truncated ELF header');
  if (file[4] !== 2) fail('not a 64-bit ELF (this machine is rv64)');
  if (file[5] !== 1) fail('not a little-endian ELF');
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const u16 = (at: number) => dv.getUint16(at, true);
  const u32 = (at: number) => dv.getUint32(at, true);
  const u64 = (at: number) => {
    const v = dv.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`value 0x${v.toString(16)} at file offset ${at} is out of range`);
    return Number(v);
  };
  const inFile = (off: number, len: number, what: string) => {
    if (off < 0 || len < 0 || off + len > file.length) fail(`${what} lies outside the file`);
  };
  if (u16(18) !== EM_RISCV) fail(`e_machine ${u16(18)} is not RISC-V (243)`);
  const type = u16(16);
  if (type !== 2 /* EXEC */ && type !== 3 /* DYN */) fail(`e_type ${type} is not an executable`);
  const entry = u64(24);
  const phoff = u64(32);
  const shoff = u64(40);
  const phentsize = u16(54);
  const phnum = u16(56);
  const shentsize = u16(58);
  const shnum = u16(60);

  const segments: ElfSegment[] = [];
  if (phnum > 0) {
    if (phentsize < 56) fail('program header entries are too small');
    inFile(phoff, phentsize * phnum, 'the program header table');
  }
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (u32(ph) !== PT_LOAD) continue;
    const offset = u64(ph + 8);
    const paddr = u64(ph + 24);
    const filesz = u64(ph + 32);
    const memsz = u64(ph + 40);
    if (memsz === 0) continue;
    if (filesz > memsz) fail(`segment ${i} has p_filesz > p_memsz`);
    inFile(offset, filesz, `segment ${i}`);
    segments.push({ paddr, data: file.subarray(offset, offset + filesz), memSize: memsz });
  }
  if (segments.length === 0) fail('no loadable segment');

  const image: ElfImage = { entry, segments };
  if (shnum > 0 && shoff !== 0) {
    if (shentsize < 64) fail('section header entries are too small');
    inFile(shoff, shentsize * shnum, 'the section header table');
    for (let i = 0; i < shnum; i++) {
      const sh = shoff + i * shentsize;
      if (u32(sh + 4) !== SHT_SYMTAB) continue;
      const symOff = u64(sh + 24);
      const symSize = u64(sh + 32);
      const strIndex = u32(sh + 40);
      const entsize = u64(sh + 56) || 24;
      if (strIndex >= shnum) fail('symbol table names a missing string table');
      const strSh = shoff + strIndex * shentsize;
      const strOff = u64(strSh + 24);
      const strSize = u64(strSh + 32);
      inFile(symOff, symSize, 'the symbol table');
      inFile(strOff, strSize, 'the string table');
      const nameAt = (off: number) => {
        let end = strOff + off;
        const limit = strOff + strSize;
        if (end >= limit) return '';
        const start = end;
        while (end < limit && file[end] !== 0) end++;
        return String.fromCharCode(...file.subarray(start, end));
      };
      for (let s = symOff; s + 24 <= symOff + symSize; s += entsize) {
        const symName = nameAt(u32(s));
        if (symName === 'tohost') image.tohost = u64(s + 8);
        else if (symName === 'fromhost') image.fromhost = u64(s + 8);
      }
    }
  }
  return image;
}
