#!/usr/bin/env node
// Save now and Restore of a running 512 MiB VM as the app does them, against the same thing done
// over QMP directly, in one run. The shared guest boots to its shell with a 1 GiB QCOW2 disk:
// - app: `viv serve`; the VM made and started through the API; then, timed, (1) the API call
//   (POST snapshots.save / snapshots.restore over the web transport: QMP snapshot-save/-load
//   jobs plus what the app adds: query-block before and after, the console thumbnail, the
//   timeline metadata written atomically), and (2) the person's view in Chromium: a click on
//   "Save now" until the new snapshot is in the timeline, a click on "Restore" in the
//   confirmation until the timeline shows the VM back at that snapshot;
// - qmp: `viv run` with the same machine and a QMP socket; snapshot-save / snapshot-load jobs
//   timed from the command to JOB_STATUS_CHANGE "concluded", as libvirt would drive them;
// - qemu (with --only ...,qemu): the same QMP jobs against qemu-system-riscv64, the reference.
// Prints medians and the app/QMP ratios; results go to bench/results/app-snapshot.json.
// Options: --mem SIZE (default 512M)  --reps N (default 3)  --only app,qmp,qemu (default app,qmp)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { browser, guestDir, median, record, root, serve } from './app-common.mjs';
import { qmpClient } from './qmp-client.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const mem = arg('mem', '512M');
const memMiB = Number(/^(\d+)M$/i.exec(mem)?.[1] ?? NaN) || Number(/^(\d+)G$/i.exec(mem)?.[1]) * 1024;
const reps = Number(arg('reps', '3'));
const only = new Set(arg('only', 'app,qmp').split(','));
const kernel = path.join(guestDir, 'Image');
const initrd = path.join(guestDir, 'initramfs.cpio.gz');
const append = 'console=ttyS0 quiet';
const ready = /GUEST-READY[\s\S]*guest# /;
const settleMs = 3000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(get, pattern, what, timeoutMs = 900_000) {
  const end = Date.now() + timeoutMs;
  while (!pattern.test(get())) {
    if (Date.now() > end) throw new Error(`${what}: timed out; output ends: ${get().slice(-300)}`);
    await sleep(100);
  }
}

/** The app through its web transport, and a person in Chromium. */
async function measureApp() {
  const served = await serve();
  const base = new URL(served.url);
  const api = async (channel, ...args) => {
    const res = await fetch(new URL(`api/${channel}`, base), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ args }) });
    const reply = await res.json();
    if (!reply.ok) throw new Error(`${channel}: ${reply.error.message}`);
    return reply.value;
  };
  try {
    const vm = await api('vms.create', {
      name: 'Bench',
      memoryMiB: memMiB,
      cpus: 1,
      boot: { kind: 'kernel', kernel, initrd, append },
      disk: { kind: 'new', sizeGiB: 1 },
      network: { enabled: false },
    });
    const t0 = performance.now();
    await api('vms.start', vm.id);
    let out = '';
    const wsUrl = new URL(`console/${vm.id}`, base);
    wsUrl.protocol = 'ws:';
    const con = new WebSocket(wsUrl, { origin: base.origin });
    con.on('message', (d) => (out += d.toString()));
    await waitFor(() => out, ready, 'app boot');
    const bootS = (performance.now() - t0) / 1000;
    await sleep(settleMs);

    const api_ = { save: [], restore: [] };
    let first;
    for (let i = 0; i < reps; i++) {
      let t = performance.now();
      const saved = await api('snapshots.save', vm.id);
      api_.save.push(performance.now() - t);
      first ??= saved;
      t = performance.now();
      await api('snapshots.restore', vm.id, first.key, { discardChanges: true });
      api_.restore.push(performance.now() - t);
    }

    const ui = { save: [], restore: [] };
    const { page, close } = await browser();
    try {
      await page.goto(`${served.url}#/vm/${vm.id}/settings`);
      const timeline = page.locator('[data-test="timeline"]');
      const rows = timeline.locator('[data-snapshot]');
      const busy = timeline.locator('[role="progressbar"]');
      await rows.first().waitFor({ timeout: 60_000 }).catch(async (err) => {
        await page.screenshot({ path: path.join(tmpdir(), 'viv-bench-app-snapshot.png') });
        throw err;
      });
      for (let i = 0; i < reps; i++) {
        const before = await rows.count();
        let t = performance.now();
        await timeline.locator('[data-test="save-now"]').click();
        await page.waitForFunction((n) => document.querySelectorAll('[data-test="timeline"] [data-snapshot]').length === n, before + 1, { polling: 'raf', timeout: 600_000 });
        ui.save.push(performance.now() - t);
        await busy.waitFor({ state: 'detached' });
        await timeline.locator(`[data-snapshot="${first.title}"] .pick`).click();
        await timeline.locator('[data-test="restore"]').click();
        await page.locator('[data-test="confirm-restore"]').click();
        t = performance.now();
        await busy.waitFor({ state: 'attached', timeout: 5000 }).catch(() => undefined);
        await page.waitForFunction(
          (title) => !document.querySelector('[data-test="timeline"] [role="progressbar"]') && document.querySelector(`[data-snapshot="${title}"]`)?.classList.contains('current'),
          first.title,
          { polling: 'raf', timeout: 600_000 },
        );
        ui.restore.push(performance.now() - t);
      }
    } finally {
      await close();
    }
    const timeline = await api('snapshots.list', vm.id);
    con.close();
    await api('vms.forceOff', vm.id);
    return { bootS, api: api_, ui, vmStateBytes: first.vmStateSize, snapshots: timeline.entries.length };
  } finally {
    await served.stop();
  }
}

/** The same machine under `viv run` (or QEMU), driven over QMP directly. */
async function measureQmp(side) {
  const dir = mkdtempSync(path.join(tmpdir(), 'viv-bench-snap-'));
  const disk = path.join(dir, 'disk.qcow2');
  const sock = path.join(dir, 'qmp.sock');
  spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '1G']);
  const argv = ['-M', 'virt', '-m', mem, '-smp', '1', '-display', 'none', '-serial', 'stdio', '-kernel', kernel, '-initrd', initrd, '-append', append,
    '-drive', `file=${disk},format=qcow2,if=virtio,node-name=disk0`, '-qmp', `unix:${sock},server=on,wait=off`];
  const child = side === 'qmp'
    ? spawn(process.execPath, [path.join(root, 'bin/viv.mjs'), 'run', ...argv], { stdio: ['pipe', 'pipe', 'inherit'] })
    : spawn('qemu-system-riscv64', [...argv, '-global', 'virtio-mmio.force-legacy=false', '-monitor', 'none'], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const t0 = performance.now();
    await waitFor(() => out, ready, `${side} boot`);
    const bootS = (performance.now() - t0) / 1000;
    await sleep(settleMs);
    const qmp = await qmpClient(sock);
    const save = [];
    const restore = [];
    for (let i = 0; i < reps; i++) {
      save.push(await qmp.job('snapshot-save', { tag: `b${i}`, vmstate: 'disk0', devices: ['disk0'] }));
      restore.push(await qmp.job('snapshot-load', { tag: 'b0', vmstate: 'disk0', devices: ['disk0'] }));
    }
    const blocks = await qmp.exec('query-block');
    const vmStateBytes = blocks[0]?.inserted?.image?.snapshots?.[0]?.['vm-state-size'];
    qmp.close();
    return { bootS, save, restore, vmStateBytes };
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

const ms = (xs) => `${xs.map((x) => x.toFixed(0)).join('/')} ms (median ${median(xs).toFixed(0)})`;
const mib = (b) => (b === undefined ? '?' : `${(b / 2 ** 20).toFixed(1)} MiB`);
const results = { mem, reps };
if (only.has('app')) {
  console.error('bench: the app (viv serve) ...');
  const r = (results.app = await measureApp());
  console.log(`app   boot ${r.bootS.toFixed(1)} s, vm state ${mib(r.vmStateBytes)}`);
  console.log(`app   API   Save now ${ms(r.api.save)}   Restore ${ms(r.api.restore)}`);
  console.log(`app   UI    Save now ${ms(r.ui.save)}   Restore ${ms(r.ui.restore)}`);
}
for (const side of ['qmp', 'qemu']) {
  if (!only.has(side)) continue;
  console.error(`bench: ${side === 'qmp' ? 'viv run over QMP' : 'qemu-system-riscv64 over QMP'} ...`);
  const r = (results[side] = await measureQmp(side));
  console.log(`${side.padEnd(5)} boot ${r.bootS.toFixed(1)} s, vm state ${mib(r.vmStateBytes)}; snapshot-save ${ms(r.save)}   snapshot-load ${ms(r.restore)}`);
}
if (results.app && results.qmp) {
  const ratio = (a, b) => (median(a) / median(b)).toFixed(2);
  results.ratios = {
    apiSave: ratio(results.app.api.save, results.qmp.save),
    apiRestore: ratio(results.app.api.restore, results.qmp.restore),
    uiSave: ratio(results.app.ui.save, results.qmp.save),
    uiRestore: ratio(results.app.ui.restore, results.qmp.restore),
  };
  console.log(`app/QMP: API save ${results.ratios.apiSave}x restore ${results.ratios.apiRestore}x; UI save ${results.ratios.uiSave}x restore ${results.ratios.uiRestore}x`);
}
results.loadavg = (await import('node:os')).loadavg();
record('app-snapshot', results);
