#!/usr/bin/env node
// savevm / loadvm of a 512 MiB guest after boot, viv vs qemu-system-riscv64, in one run: the
// shared guest boots to its shell on each (same -m/-smp/kernel/initrd, a fresh QCOW2 disk, QEMU
// with modern virtio-mmio), then HMP savevm and loadvm go over QMP (human-monitor-command) a few
// times; each is timed from the command to its reply (the VM is stopped for all of it on both).
// Then the guest writes 48 MB of new data and a save and a load of the first snapshot are timed
// (RAM that changed: viv's chunk cache cannot help there). Prints the times, the vm state sizes
// and the ratios viv/QEMU; targets: save < 1 s, load < 0.5 s,
// no slower than QEMU. Results also go to bench/results/vmstate-<date>.json (gitignored).
// Options: --mem SIZE (default 512M)  --smp N (default 1)  --reps N (default 3)  --only viv,qemu
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { qmpClient } from './qmp-client.mjs';

const repo = path.resolve(import.meta.dirname, '..');
const guest = path.resolve(repo, '../shared/guests/riscv64');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const mem = arg('mem', '512M');
const smp = arg('smp', '1');
const reps = Number(arg('reps', '3'));
const only = new Set(arg('only', 'viv,qemu').split(','));
const vivBin = process.env.VIV_BIN ?? path.join(repo, 'bin/viv.mjs');
const dir = mkdtempSync(path.join(tmpdir(), 'viv-bench-vmstate-'));

async function measure(side) {
  const disk = path.join(dir, `${side}.qcow2`);
  const sock = path.join(dir, `${side}.sock`);
  spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '256M']);
  const common = ['-M', 'virt', '-m', mem, '-smp', smp, '-display', 'none', '-serial', 'stdio', '-kernel', path.join(guest, 'Image'),
    '-initrd', path.join(guest, 'initramfs.cpio.gz'), '-append', 'console=ttyS0 quiet',
    '-drive', `file=${disk},format=qcow2,if=virtio,node-name=disk0`, '-qmp', `unix:${sock},server=on,wait=off`];
  const child = side === 'viv'
    ? spawn(process.execPath, [vivBin, 'run', ...common], { stdio: ['pipe', 'pipe', 'inherit'] })
    : spawn('qemu-system-riscv64', [...common, '-global', 'virtio-mmio.force-legacy=false', '-monitor', 'none'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const t0 = performance.now();
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${side}: no shell prompt after 15 min`)), 900_000);
    child.stdout.on('data', (d) => {
      out += d.toString();
      if (/GUEST-READY[\s\S]*guest# /.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const bootS = (performance.now() - t0) / 1000;
  // Let the guest settle into its idle shell (the same state on both sides).
  await new Promise((r) => setTimeout(r, 3000));
  const qmp = await qmpClient(sock);
  const hmp = async (line) => {
    const t = performance.now();
    const text = await qmp.exec('human-monitor-command', { 'command-line': line });
    if (typeof text !== 'string' || text.startsWith('Error')) throw new Error(`${side}: ${line}: ${JSON.stringify(text)}`);
    return { ms: performance.now() - t, text };
  };
  const save = [];
  const load = [];
  for (let i = 0; i < reps; i++) {
    save.push((await hmp(`savevm b${i}`)).ms);
    load.push((await hmp(`loadvm b${i}`)).ms);
  }
  // Then with RAM that changed: the guest writes 48 MB of random bytes to its tmpfs; a save now
  // has new pages to store, and loading the first snapshot has to bring back what they replaced.
  const churnAt = out.length;
  child.stdin.write('head -c 48000000 /dev/urandom > /tmp/churn; echo CHURN-$((40+2))\n');
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${side}: the guest did not finish writing`)), 900_000);
    const check = () => {
      if (out.slice(churnAt).includes('CHURN-42')) {
        clearTimeout(timer);
        resolve();
      } else setTimeout(check, 100);
    };
    check();
  });
  const churnSave = (await hmp('savevm churned')).ms;
  const churnLoad = (await hmp('loadvm b0')).ms;
  const info = (await hmp('info snapshots')).text;
  const size = /^--\s+b0\s+(\S+ \S+)/m.exec(info)?.[1];
  await qmp.exec('quit');
  qmp.close();
  child.kill('SIGKILL');
  const churnSize = /^--\s+churned\s+(\S+ \S+)/m.exec(info)?.[1];
  return { bootS, save, load, vmStateSize: size, churnSave, churnLoad, churnSize };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = {};
for (const side of ['viv', 'qemu']) {
  if (!only.has(side)) continue;
  results[side] = await measure(side);
  const r = results[side];
  console.log(`${side.padEnd(5)} after 48 MB of new guest data: save ${r.churnSave.toFixed(0)} ms (vm state ${r.churnSize}), load of the first snapshot ${r.churnLoad.toFixed(0)} ms`);
  console.log(`${side.padEnd(5)} boot ${r.bootS.toFixed(1)} s  vm state ${r.vmStateSize}  save ${r.save.map((x) => x.toFixed(0)).join('/')} ms (median ${median(r.save).toFixed(0)})  load ${r.load.map((x) => x.toFixed(0)).join('/')} ms (median ${median(r.load).toFixed(0)})`);
}
if (results.viv && results.qemu) {
  const s = median(results.viv.save) / median(results.qemu.save);
  const l = median(results.viv.load) / median(results.qemu.load);
  const f = results.viv.save[0] / results.qemu.save[0];
  const cs = results.viv.churnSave / results.qemu.churnSave;
  const cl = results.viv.churnLoad / results.qemu.churnLoad;
  console.log(`viv/QEMU: save ${s.toFixed(2)}x (first save ${f.toFixed(2)}x, after new data ${cs.toFixed(2)}x), load ${l.toFixed(2)}x (after new data ${cl.toFixed(2)}x); targets: save < 1000 ms, load < 500 ms, ratio <= 1`);
}
mkdirSync(path.join(repo, 'bench/results'), { recursive: true });
const file = path.join(repo, 'bench/results', `vmstate-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify({ mem, smp, reps, loadavg: (await import('node:os')).loadavg(), results }, null, 2));
console.log(`results: ${path.relative(repo, file)}`);
rmSync(dir, { recursive: true, force: true });
