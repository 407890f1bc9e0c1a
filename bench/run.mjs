#!/usr/bin/env node
// `npm run bench`: the shared guest's benchmark (../shared/guests/riscv64/bench-autorun.sh) booted
// under viv and under qemu-system-riscv64 with the same -m/-smp and QEMU's default firmware, and
// the same script run natively, all in one run so the ratios compare like with like. Timestamps
// come from ../shared/tools/stamp-markers.sh (seconds to GUEST-READY and between MARK lines).
// Results: printed, and written to bench/results/<date>.json (gitignored), with the code cache's
// memory from viv's -d tcg-stats (wasm made, arena used, peak RSS under tcg and under tci).
// Under viv both accelerators run: tcg (the translator) and tci (the interpreter alone).
// Options: --only viv-tcg,viv-tci,qemu,native   --smp N   --mem SIZE   --viv PATH (another build's bin/viv.mjs)
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const repo = path.resolve(import.meta.dirname, '..');
const shared = path.resolve(repo, '../shared');
const guest = path.join(shared, 'guests/riscv64');
const stamp = path.join(shared, 'tools/stamp-markers.sh');
const script = path.join(guest, 'bench-autorun.sh');

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const only = new Set(arg('only', 'viv-tcg,viv-tci,qemu,native').split(','));
const vivBin = path.resolve(arg('viv', path.join(repo, 'bin/viv.mjs')));
const smp = arg('smp', '2');
const mem = arg('mem', '512M');

function autorunInitrd() {
  const dir = mkdtempSync(path.join(tmpdir(), 'viv-bench-'));
  mkdirSync(path.join(dir, 'root/etc'), { recursive: true });
  const target = path.join(dir, 'root/etc/autorun.sh');
  writeFileSync(target, readFileSync(script));
  chmodSync(target, 0o755);
  const r = spawnSync('sh', ['-c', 'find . | cpio -o -H newc --quiet | gzip -9'], { cwd: path.join(dir, 'root'), maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`cpio failed: ${r.stderr}`);
  const out = path.join(dir, 'initrd.cpio.gz');
  writeFileSync(out, Buffer.concat([readFileSync(path.join(guest, 'initramfs.cpio.gz')), r.stdout]));
  return out;
}

/** Runs stamp-markers.sh CMD... and parses its "boot=S loop=S sha=S gzip=S total=S" line. */
function stamped(cmd) {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [stamp, ...cmd], { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', () => {
      const line = out.trim().split('\n').pop() ?? '';
      const fields = Object.fromEntries(line.split(' ').map((kv) => kv.split('=')).map(([k, v]) => [k, v === 'NA' ? null : Number(v)]));
      resolve(fields);
    });
  });
}

const initrd = autorunInitrd();
const common = ['-M', 'virt', '-m', mem, '-smp', smp, '-nographic', '-kernel', path.join(guest, 'Image'), '-initrd', initrd, '-append', 'console=ttyS0'];
const results = {};
/** viv's -d tcg-stats report of each accelerator (its stderr; the console is on stdout). */
const reports = {};
for (const accel of ['tcg', 'tci']) {
  if (!only.has(`viv-${accel}`)) continue;
  console.error(`bench: viv -accel ${accel} ...`);
  const statsFile = path.join(path.dirname(initrd), `stats-${accel}.txt`);
  const viv = [process.execPath, vivBin, 'run', '-accel', accel, '-d', 'tcg-stats', ...common];
  results[`viv-${accel}`] = await stamped(['bash', '-c', 'exec "$@" 2>"$0"', statsFile, ...viv]);
  reports[accel] = existsSync(statsFile) ? readFileSync(statsFile, 'utf8') : '';
}
if (only.has('qemu')) {
  if (spawnSync('qemu-system-riscv64', ['--version']).status === 0) {
    console.error('bench: qemu-system-riscv64 ...');
    results.qemu = await stamped(['qemu-system-riscv64', ...common, '-bios', 'default']);
  } else {
    console.error('bench: qemu-system-riscv64 not found, skipped');
  }
}
if (only.has('native')) {
  console.error('bench: native ...');
  results.native = await stamped(['sh', script]);
}

const keys = ['boot', 'loop', 'sha', 'gzip', 'total'];
const fmt = (v) => (v === null || v === undefined ? '   NA' : v.toFixed(2).padStart(7));
console.log(`${'seconds'.padEnd(10)}${keys.map((k) => k.padStart(8)).join('')}`);
for (const [name, r] of Object.entries(results)) console.log(`${name.padEnd(10)}${keys.map((k) => ` ${fmt(r[k])}`).join('')}`);
const geomean = (r) => (r.loop && r.sha && r.gzip ? Math.cbrt(r.loop * r.sha * r.gzip) : null);
for (const name of ['viv-tcg', 'viv-tci']) {
  const v = results[name];
  const q = results.qemu;
  if (!v || !q) continue;
  const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}x`.padStart(7) : '     NA');
  console.log(`${`${name.slice(4)}/qemu`.padEnd(10)}${keys.map((k) => ` ${ratio(v[k], q[k])}`).join('')}   phase geomean ${ratio(geomean(v), geomean(q)).trim()}`);
}
// The code cache's memory: what the translator made, and the process's peak RSS beside tci's.
const grab = (text, re) => re.exec(text ?? '')?.[1];
const memory = {
  tcgRegions: Number(grab(reports.tcg, /tcg: (\d+) regions/)) || null,
  tcgWasmKiB: Number(grab(reports.tcg, /(\d+) KiB of wasm made/)) || null,
  tcgArenaKiB: Number(grab(reports.tcg, /arena (\d+) of/)) || null,
  tcgPeakRssMiB: Number(grab(reports.tcg, /peak RSS (\d+) MiB/)) || null,
  tciPeakRssMiB: Number(grab(reports.tci, /peak RSS (\d+) MiB/)) || null,
};
if (memory.tcgRegions) {
  console.log(`code cache: ${memory.tcgRegions} regions, ${memory.tcgWasmKiB} KiB of wasm made, arena ${memory.tcgArenaKiB} KiB; peak RSS tcg ${memory.tcgPeakRssMiB} MiB, tci ${memory.tciPeakRssMiB ?? 'NA'} MiB`);
}
const dir = path.join(repo, 'bench/results');
mkdirSync(dir, { recursive: true });
const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), smp, mem, results, memory }, null, 2) + '\n');
console.error(`bench: results in ${path.relative(repo, file)}`);
if (!existsSync(file)) process.exitCode = 1;
