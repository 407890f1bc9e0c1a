// Compiles the AssemblyScript parts of the emulator core to WebAssembly (out/wasm/).
// Each entry is one module; the CPU core is the only one the machine loads at run time,
// test-only entries (e.g. the FPU's exports for its oracle tests) are listed beside it.
import { main as asc } from 'assemblyscript/asc';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const outDir = path.join(root, 'out/wasm');
mkdirSync(outDir, { recursive: true });

/** entry (relative to the repo) -> output name and extra asc flags */
const entries = [
  // The CPU core keeps its hart state at address 0 (wasm/layout.ts): static data goes above it.
  { entry: 'src/emulator-core/cpu/riscv/wasm/index.ts', out: 'riscv64.wasm', flags: ['--memoryBase', '65536', '--importTable'] },
  { entry: 'src/emulator-core/cpu/riscv/wasm/fpu/test-entry.ts', out: 'fpu-test.wasm', flags: [] },
];

let failed = false;
for (const { entry, out, flags } of entries) {
  if (!existsSync(path.join(root, entry))) continue;
  const args = [
    entry,
    '--outFile', path.join('out/wasm', out),
    '--textFile', path.join('out/wasm', out.replace(/\.wasm$/, '.wat')),
    '--config', 'src/emulator-core/cpu/riscv/wasm/asconfig.json',
    ...flags,
  ];
  const { error, stderr } = await asc(args, { stdout: process.stdout, stderr: process.stderr, baseDir: root });
  if (error) {
    console.error(`build-wasm: ${entry}: ${error.message}`);
    console.error(stderr.toString());
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
