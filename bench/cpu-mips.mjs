// Guest MIPS of the RISC-V interpreter on a compiled integer workload (bench/cpu/workload.c:
// CRC-32, quicksort, sieve, string hashing; -O2 RV64GC, bare metal in M-mode).
//   node bench/cpu-mips.mjs [million instructions, default 300] [slice, default 500000]
// Builds the workload with riscv64-unknown-elf-gcc into a temp dir; needs out/wasm (npm run build:wasm).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const root = path.resolve(import.meta.dirname, '..');
const million = Number(process.argv[2] ?? 300);
const slice = Number(process.argv[3] ?? 500_000);
const accel = process.argv.includes('--accel') ? process.argv[process.argv.indexOf('--accel') + 1] : 'tci';

const tmp = mkdtempSync(path.join(tmpdir(), 'viv-cpu-bench-'));
try {
  const elf = path.join(tmp, 'workload.elf');
  execFileSync('riscv64-unknown-elf-gcc', [
    '-O2', '-march=rv64gc', '-mabi=lp64d', '-mcmodel=medany', '-nostdlib', '-nostartfiles', '-ffreestanding',
    '-T', path.join(root, 'tests/fixtures/riscv/link.ld'), '-o', elf,
    path.join(root, 'bench/cpu/start.S'), path.join(root, 'bench/cpu/workload.c'),
  ]);
  const harness = path.join(tmp, 'harness.mjs');
  await build({
    absWorkingDir: root,
    entryPoints: ['bench/cpu-harness.ts'],
    outfile: harness,
    bundle: true,
    platform: 'node',
    format: 'esm',
    logLevel: 'warning',
  });
  process.env.VIVARIUM_WASM_DIR ??= path.join(root, 'out/wasm');
  const { loadProgram, tcgTranslator } = await import(pathToFileURL(harness).href);
  const { cpu } = loadProgram(readFileSync(elf), { translator: accel === 'tcg' ? tcgTranslator({ mode: 'sync' }) : undefined });
  // Warm-up: let V8 tier the core up before timing.
  let done = 0;
  while (done < 20_000_000) {
    cpu.run(0, slice);
    done += cpu.lastRunInstructions;
  }
  const target = million * 1e6;
  let n = 0;
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  while (n < target) {
    cpu.run(0, slice);
    n += cpu.lastRunInstructions;
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  const cpuSecs = (c.user + c.system) / 1e6;
  // CPU time is the figure to compare on a shared machine; wall time shows contention.
  console.log(
    `workload: ${(n / 1e6).toFixed(0)} M instructions: ${(n / 1e6 / cpuSecs).toFixed(1)} MIPS per CPU-second ` +
      `(${cpuSecs.toFixed(2)} s CPU, ${secs.toFixed(2)} s wall, slice ${slice}, -accel ${accel})`,
  );
  if (cpu.codeTranslator) console.log(cpu.codeTranslator.report(cpu.perfCounters()));
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
