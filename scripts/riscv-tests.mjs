// Runs riscv-tests' `-p` programs (riscv-software-src/riscv-tests, built locally; never committed)
// on the CPU core alone, through the bare-metal harness (HTIF tohost: 1 = pass, else fail code).
//   node scripts/riscv-tests.mjs <riscv-tests/isa build dir> [suite-prefix ...]
// Default suites: rv64ui rv64um rv64ua rv64uf rv64ud rv64uc rv64si rv64mi. Needs out/wasm (npm run
// build:wasm). Prints one line per failure and a pass count per suite; exit 1 if any failed.
import { build } from 'esbuild';
import { readFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const root = path.resolve(import.meta.dirname, '..');
const [dir, ...prefixes] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node scripts/riscv-tests.mjs <riscv-tests isa dir> [suite ...]');
  process.exit(2);
}
const suites = prefixes.length ? prefixes : ['rv64ui', 'rv64um', 'rv64ua', 'rv64uf', 'rv64ud', 'rv64uc', 'rv64si', 'rv64mi'];

// The harness is TypeScript: bundle it for Node (the core's wasm is found from out/wasm).
const tmp = mkdtempSync(path.join(tmpdir(), 'viv-rvtests-'));
const harness = path.join(tmp, 'harness.mjs');
await build({
  absWorkingDir: root,
  entryPoints: ['src/emulator-core/cpu/riscv/testing/bare-metal.ts'],
  outfile: harness,
  bundle: true,
  platform: 'node',
  format: 'esm',
  logLevel: 'warning',
});
process.env.VIVARIUM_WASM_DIR ??= path.join(root, 'out/wasm');
const { runBareMetal } = await import(pathToFileURL(harness).href);
rmSync(tmp, { recursive: true, force: true });

let failed = 0;
for (const suite of suites) {
  const files = readdirSync(dir)
    .filter((f) => f.startsWith(`${suite}-p-`) && !f.endsWith('.dump'))
    .sort();
  let pass = 0;
  for (const f of files) {
    let line;
    try {
      const r = runBareMetal(readFileSync(path.join(dir, f)), { maxInstructions: 20_000_000 });
      if (r.status === 'pass') pass++;
      else line = `${r.status}${r.status === 'fail' ? ` (test ${r.code})` : ''} after ${r.instructions} instructions, pc 0x${r.cpu.getPc(0).toString(16)}`;
    } catch (e) {
      line = `host exception: ${e instanceof Error ? e.message : e}`;
    }
    if (line) console.log(`  FAIL ${f}: ${line}`);
  }
  failed += files.length - pass;
  console.log(`${suite}: ${pass}/${files.length} pass`);
}
process.exit(failed ? 1 : 0);
