// Test helper: guest code from assembly text, for the translator's golden tests. Debian's
// riscv64-unknown-elf-gcc assembles and links it at a fixed address (so auipc and branch targets
// are stable) and objcopy flattens it; tests skip where the toolchain is missing. The project
// ships no binaries, so the snippets are assembled at test time.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const hasRiscvToolchain = spawnSync('riscv64-unknown-elf-gcc', ['--version']).status === 0;

/**
 * The flat bytes of `source` (GNU as syntax, cpp first) linked at `origin`. rv64gc: a snippet
 * that must not be compressed says `.option norvc`. No relaxation, so what is written is what runs.
 */
export function assemble(source: string, origin = 0x8000_0000): Uint8Array {
  const dir = mkdtempSync(path.join(tmpdir(), 'viv-tcg-as-'));
  try {
    writeFileSync(path.join(dir, 'p.S'), source);
    const cc = spawnSync(
      'riscv64-unknown-elf-gcc',
      ['-march=rv64gc', '-mabi=lp64d', '-mno-relax', '-nostdlib', '-nostartfiles', `-Wl,-Ttext=0x${origin.toString(16)}`, '-Wl,--no-warn-rwx-segments', '-o', 'p.elf', 'p.S'],
      { cwd: dir, encoding: 'utf8' },
    );
    if (cc.status !== 0) throw new Error(`riscv64-unknown-elf-gcc failed:\n${cc.stderr}`);
    const oc = spawnSync('riscv64-unknown-elf-objcopy', ['-O', 'binary', '-j', '.text', 'p.elf', 'p.bin'], { cwd: dir, encoding: 'utf8' });
    if (oc.status !== 0) throw new Error(`objcopy failed:\n${oc.stderr}`);
    return new Uint8Array(readFileSync(path.join(dir, 'p.bin')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
