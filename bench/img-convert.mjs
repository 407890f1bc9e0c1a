#!/usr/bin/env node
// `viv img convert` against Debian's qemu-img, in one run: a 1 GiB image of mixed content
// (a third zeros left as holes, a third random, a third a repeated text pattern) converted
// raw -> qcow2 and qcow2 -> raw by both tools. Each conversion runs --repeat times (default 5),
// alternating the tools, and the best time counts (noise from other processes only slows).
// Prints throughputs (of the virtual size) and ratios (viv speed / qemu-img speed; the target
// is >= 0.8), also without each tool's process start-up.
// Options: --size MiB (default 1024)  --repeat N  --dir PATH (scratch space, default the OS tmp)
//          --viv PATH (the viv entry script to time, default bin/viv.cjs, the `viv` command of
//          package.json: another build can be compared without touching the shared out/)
//          --no-extra-ca-certs (run both tools without NODE_EXTRA_CA_CERTS: when it is set, every
//          node process loads those certificates at start-up, ~40 ms of CPU measured on the
//          project's machines, which qemu-img does not pay; the default keeps the environment)
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const repo = path.resolve(import.meta.dirname, '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const sizeMiB = Number(arg('size', '1024'));
const repeat = Number(arg('repeat', '5'));
const dir = mkdtempSync(path.join(arg('dir', tmpdir()), 'viv-bench-img-'));
const viv = [process.execPath, path.resolve(arg('viv', path.join(repo, 'bin/viv.cjs'))), 'img'];

const env = { ...process.env };
if (process.argv.includes('--no-extra-ca-certs')) delete env.NODE_EXTRA_CA_CERTS;

function run(cmd) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd[0], cmd.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed: ${r.stderr}`);
  return secs;
}

/** Runs the two commands alternately `repeat` times; the best time of each (noise only slows). */
function bestOfAlternating(cmdA, cmdB, out) {
  let a = Infinity;
  let b = Infinity;
  for (let i = 0; i < repeat; i++) {
    rmSync(out, { force: true });
    a = Math.min(a, run(cmdA));
    rmSync(out, { force: true });
    b = Math.min(b, run(cmdB));
  }
  return [a, b];
}

// The source: per MiB, zeros (skipped: a hole), random bytes, or a repeated text pattern.
const src = path.join(dir, 'src.raw');
const fd = openSync(src, 'w');
const text = Buffer.alloc(1 << 20, 'Vivarium disk image benchmark block ');
for (let i = 0; i < sizeMiB; i++) {
  const kind = i % 3;
  if (kind === 1) writeSync(fd, randomBytes(1 << 20), 0, 1 << 20, i * (1 << 20));
  else if (kind === 2) writeSync(fd, text, 0, 1 << 20, i * (1 << 20));
}
closeSync(fd);
spawnSync('truncate', ['-s', `${sizeMiB}M`, src]);
const qsrc = path.join(dir, 'src.qcow2');
run(['qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2', src, qsrc]);

// Process start-up counts in the times above (node + our bundle: ~0.2 s; qemu-img: ~5 ms), and at
// page-cache speeds it is a large part of a 1 GiB convert. Measured separately so the steady
// throughput can be told apart.
const startup = { qemu: Infinity, viv: Infinity };
for (let i = 0; i < repeat; i++) {
  startup.qemu = Math.min(startup.qemu, run(['qemu-img', '--version']));
  startup.viv = Math.min(startup.viv, run([...viv, '--version']));
}
const results = {};
const mb = sizeMiB * 1.048576;
const cases = [
  ['raw->qcow2', (tool, out) => [...tool, 'convert', '-f', 'raw', '-O', 'qcow2', src, out], 'out.qcow2'],
  ['qcow2->raw', (tool, out) => [...tool, 'convert', '-f', 'qcow2', '-O', 'raw', qsrc, out], 'out.raw'],
];
for (const [name, cmd, file] of cases) {
  const out = path.join(dir, file);
  const [tq, tv] = bestOfAlternating(cmd(['qemu-img'], out), cmd(viv, out), out);
  // Both outputs must be the same image.
  const check = spawnSync('qemu-img', ['compare', src, out], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`${name}: viv's output differs: ${check.stdout}${check.stderr}`);
  const steady = (tq - startup.qemu) / (tv - startup.viv);
  results[name] = { qemuSeconds: tq, vivSeconds: tv, qemuMBps: mb / tq, vivMBps: mb / tv, ratio: tq / tv, ratioWithoutStartup: steady };
  console.log(`${name.padEnd(11)} qemu-img ${(mb / tq).toFixed(0).padStart(5)} MB/s   viv ${(mb / tv).toFixed(0).padStart(5)} MB/s   ratio ${(tq / tv).toFixed(2)}   without start-up ${steady.toFixed(2)}`);
}
rmSync(dir, { recursive: true, force: true });
console.log(`start-up: qemu-img ${(startup.qemu * 1000).toFixed(0)} ms, viv ${(startup.viv * 1000).toFixed(0)} ms`);
const extraCaCerts = env.NODE_EXTRA_CA_CERTS !== undefined;
if (extraCaCerts) console.log('note: NODE_EXTRA_CA_CERTS is set: node loads those certificates at each start (see --no-extra-ca-certs)');
console.log(JSON.stringify({ sizeMiB, repeat, extraCaCerts, startup, results }));
