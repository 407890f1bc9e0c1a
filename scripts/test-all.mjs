// `npm test`: the whole suite, the same command CI runs (.ci/run). Steps run in order and the
// first failure stops the run, so a red step is the last thing printed.
import { spawnSync } from 'node:child_process';

const steps = [
  ['generated code is up to date', 'node', ['scripts/gen-decoder.mjs', '--check']],
  ['typecheck', 'npx', ['tsc', '-p', 'tsconfig.json']],
  ['lint (including layer rules)', 'npx', ['eslint', '.']],
  ['build', 'npm', ['run', 'build']],
  ['unit tests', 'npx', ['vitest', 'run', '--project', 'unit']],
  ['integration tests (real guests)', 'npx', ['vitest', 'run', '--project', 'integration']],
  ['end-to-end tests (Chromium)', 'npx', ['vitest', 'run', '--project', 'e2e']],
];

const only = process.argv.slice(2);
for (const [name, cmd, args] of steps) {
  if (only.length && !only.some((o) => name.startsWith(o))) continue;
  console.log(`\n=== ${name}: ${cmd} ${args.join(' ')}`);
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  if (r.status !== 0) {
    console.error(`\n=== FAILED: ${name} (${secs}s, exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
  console.log(`=== ok: ${name} (${secs}s)`);
}
