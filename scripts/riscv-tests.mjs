// Runs riscv-tests' `-p` programs (riscv-software-src/riscv-tests, built locally; never committed)
// on the CPU core alone, through the bare-metal harness (HTIF tohost: 1 = pass, else fail code).
//   node scripts/riscv-tests.mjs [--accel tci|tcg] [--hot N] [--warm] <riscv-tests/isa build dir> [suite-prefix ...]
// Default suites: rv64ui rv64um rv64ua rv64uf rv64ud rv64uc rv64si rv64mi. Needs out/wasm (npm run
// build:wasm). Prints one line per failure and a pass count per suite; exit 1 if any failed.
// --accel tcg translates hot code (src/emulator-core/tcg) in this thread as soon as it is hot; the
// tests are short, so the hot threshold is 2 unless --hot says otherwise (viv run's is 256), and
// each suite's line says how often translated code was entered. Most of a test runs once, so
// little of it runs translated; --warm runs each test twice on the same core (the second time
// from a fresh copy of the program, so the translations of the first still match) and counts the
// second run, which then runs translated wherever the first translated (with --hot 1: everywhere).
import { build } from 'esbuild';
import { readFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const root = path.resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
let accel = 'tci';
let hot = 2;
let warm = false;
while (args[0]?.startsWith('--')) {
  if (args[0] === '--warm') {
    warm = !!args.shift();
    continue;
  }
  const [opt, value] = [args.shift(), args.shift()];
  if (opt === '--accel' && (value === 'tci' || value === 'tcg')) accel = value;
  else if (opt === '--hot' && Number(value) >= 1) hot = Number(value);
  else {
    console.error(`bad option ${opt} ${value ?? ''}`);
    process.exit(2);
  }
}
const [dir, ...prefixes] = args;
if (!dir) {
  console.error('usage: node scripts/riscv-tests.mjs [--accel tci|tcg] [--hot N] [--warm] <riscv-tests isa dir> [suite ...]');
  process.exit(2);
}
const suites = prefixes.length ? prefixes : ['rv64ui', 'rv64um', 'rv64ua', 'rv64uf', 'rv64ud', 'rv64uc', 'rv64si', 'rv64mi'];

// The harness is TypeScript: bundle it for Node (the core's wasm is found from out/wasm).
const tmp = mkdtempSync(path.join(tmpdir(), 'viv-rvtests-'));
const harness = path.join(tmp, 'harness.mjs');
await build({
  absWorkingDir: root,
  stdin: {
    contents: [
      "export { RAM_BASE, loadProgram, runBareMetal } from './src/emulator-core/cpu/riscv/testing/bare-metal.ts';",
      "export { parseElf } from './src/emulator-core/cpu/riscv/testing/elf.ts';",
      "export { tcgTranslator } from './src/emulator-core/tcg/translator.ts';",
    ].join('\n'),
    resolveDir: root,
    loader: 'ts',
  },
  outfile: harness,
  bundle: true,
  platform: 'node',
  format: 'esm',
  logLevel: 'warning',
});
process.env.VIVARIUM_WASM_DIR ??= path.join(root, 'out/wasm');
const { RAM_BASE, loadProgram, parseElf, runBareMetal, tcgTranslator } = await import(pathToFileURL(harness).href);
rmSync(tmp, { recursive: true, force: true });

const MAX_INSTRUCTIONS = 20_000_000;

/** Runs the loaded program until it writes tohost (runBareMetal's loop, on a core given). */
function runLoaded(cpu, tohost) {
  const view = new DataView(cpu.ram.buffer, cpu.ram.byteOffset, cpu.ram.byteLength);
  let instructions = 0;
  while (instructions < MAX_INSTRUCTIONS) {
    cpu.setTime(Math.floor(instructions / 10));
    const exit = cpu.run(0, 100_000);
    instructions += cpu.lastRunInstructions + (exit === 1 ? 100_000 : 0); // Exit.Wfi: time passes while it sleeps
    const word = view.getBigUint64(tohost, true);
    if (word !== 0n) {
      const code = Number(word >> 1n);
      return { status: code === 0 ? 'pass' : 'fail', code, instructions, cpu };
    }
  }
  return { status: 'timeout', code: -1, instructions, cpu };
}

/** --warm: a first run makes the translations, a second from a fresh copy of the program counts. */
function runWarm(bytes, translator) {
  const { cpu, tohost, entry } = loadProgram(bytes, { translator });
  runLoaded(cpu, tohost);
  for (const seg of parseElf(bytes).segments) {
    const off = Number(seg.paddr) - RAM_BASE;
    cpu.ram.set(seg.data, off);
    cpu.ram.fill(0, off + seg.data.length, off + Number(seg.memsz));
  }
  cpu.resetHart(0, entry);
  const before = cpu.perfCounters();
  const r = runLoaded(cpu, tohost);
  const after = cpu.perfCounters();
  return { ...r, entered: after.jitEnter - before.jitEnter, interpreted: after.interpInsns - before.interpInsns };
}

let failed = 0;
for (const suite of suites) {
  const files = readdirSync(dir)
    .filter((f) => f.startsWith(`${suite}-p-`) && !f.endsWith('.dump'))
    .sort();
  let pass = 0;
  let entered = 0;
  let interpreted = 0;
  for (const f of files) {
    let line;
    try {
      // Batches of one: a translation is made the moment its block gets hot, inside the run.
      const translator = accel === 'tcg' ? tcgTranslator({ hotThreshold: hot, mode: 'sync', batch: 1 }) : undefined;
      const bytes = readFileSync(path.join(dir, f));
      const r = warm ? runWarm(bytes, translator) : runBareMetal(bytes, { maxInstructions: MAX_INSTRUCTIONS, translator });
      if (translator) {
        entered += r.entered ?? r.cpu.perfCounters().jitEnter;
        interpreted += r.interpreted ?? r.cpu.perfCounters().interpInsns;
      }
      if (r.status === 'pass') pass++;
      else line = `${r.status}${r.status === 'fail' ? ` (test ${r.code})` : ''} after ${r.instructions} instructions, pc 0x${r.cpu.getPc(0).toString(16)}`;
    } catch (e) {
      line = `host exception: ${e instanceof Error ? e.message : e}`;
    }
    if (line) console.log(`  FAIL ${f}: ${line}`);
  }
  failed += files.length - pass;
  const how = accel === 'tcg'
    ? `, hot threshold ${hot}${warm ? ', warm' : ''}: translated code entered ${entered} times, ${interpreted} instructions interpreted`
    : '';
  console.log(`${suite}: ${pass}/${files.length} pass (-accel ${accel}${how})`);
}
process.exit(failed ? 1 : 0);
