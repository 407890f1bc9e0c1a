// Test helper: builds small bare-metal RISC-V programs with Debian's riscv64-unknown-elf-gcc at
// test time (the project ships no binaries). Tests that need it skip where the toolchain is missing.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const hasRiscvGcc = spawnSync('riscv64-unknown-elf-gcc', ['--version']).status === 0;

const LINKER_SCRIPT = `ENTRY(_start)
SECTIONS {
  . = ORIGIN_ADDR;
  .text.init : { *(.text.init) }
  .text : { *(.text*) }
  .data : { *(.rodata*) *(.data*) }
  .tohost ALIGN(64) : { *(.tohost) }
  .bss : { *(.bss*) }
}`;

/** Assembles `source` (GNU as syntax, entry `_start`) linked at `origin`; returns the ELF bytes. */
export function buildProgram(source: string, origin = 0x8000_0000): Uint8Array {
  const dir = mkdtempSync(path.join(tmpdir(), 'viv-rv-'));
  writeFileSync(path.join(dir, 'p.S'), source);
  writeFileSync(path.join(dir, 'p.ld'), LINKER_SCRIPT.replace('ORIGIN_ADDR', `0x${origin.toString(16)}`));
  const r = spawnSync(
    'riscv64-unknown-elf-gcc',
    ['-march=rv64i_zicsr', '-mabi=lp64', '-mno-relax', '-nostdlib', '-nostartfiles', '-Wl,--no-warn-rwx-segments', '-T', 'p.ld', 'p.S', '-o', 'p.elf'],
    { cwd: dir, encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`riscv64-unknown-elf-gcc failed:\n${r.stderr}`);
  return new Uint8Array(readFileSync(path.join(dir, 'p.elf')));
}

/** objcopy -O binary of an ELF built by buildProgram. */
export function flatBinary(elf: Uint8Array): Uint8Array {
  const dir = mkdtempSync(path.join(tmpdir(), 'viv-rv-'));
  writeFileSync(path.join(dir, 'p.elf'), elf);
  const r = spawnSync('riscv64-unknown-elf-objcopy', ['-O', 'binary', 'p.elf', 'p.bin'], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`objcopy failed:\n${r.stderr}`);
  return new Uint8Array(readFileSync(path.join(dir, 'p.bin')));
}

/** Disassembles raw rv64 code with objdump (canonical forms, no aliases: "csrrs a0,mhartid,zero"). */
export function disassemble(code: Uint8Array): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'viv-rv-'));
  writeFileSync(path.join(dir, 'c.bin'), code);
  const r = spawnSync('riscv64-unknown-elf-objdump', ['-D', '-M', 'no-aliases', '-b', 'binary', '-m', 'riscv:rv64', 'c.bin'], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`objdump failed:\n${r.stderr}`);
  return r.stdout
    .split('\n')
    .map((l) => /^\s+[0-9a-f]+:\s+[0-9a-f]+\s+(.*)$/.exec(l)?.[1]?.replace(/\s*#.*$/, '').replace(/\s+/g, ' ').trim())
    .filter((x): x is string => x !== undefined);
}
