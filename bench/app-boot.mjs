// Start -> GUEST-READY: through the app (click Start in the library, wait for the line in the
// console window) versus `viv run` alone with the same argv (wait for the line on stdout).
// The difference is the app's overhead: supervisor, sockets, WebSocket, xterm.
// The core host: `viv run` by default; `--qemu`: Debian's qemu-system-riscv64 through the
// app's QEMU wrapper vs qemu alone (the app's overhead around the reference emulator);
// `--fake`: the stand-in (the app's own overhead, no guest boot, no CLI comparison).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { browser, fakeHost, guestDir, median, qemuHost, record, root, serve } from './app-common.mjs';

const fake = process.argv.includes('--fake');
const qemu = process.argv.includes('--qemu');
const kind = fake ? 'fake' : qemu ? 'qemu' : 'viv';
// The demo VM's argv (viv serve --demo; src/main/services/demo-vm.ts), so both sides run the same machine.
const memoryMiB = 512;
const argv = ['-M', 'virt', '-m', `${memoryMiB}M`, '-smp', '1', '-kernel', path.join(guestDir, 'Image'), '-initrd', path.join(guestDir, 'initramfs.cpio.gz'), '-append', 'console=ttyS0', '-netdev', 'user,id=net0', '-device', 'virtio-net-device,netdev=net0', '-nographic'];
const timeoutMs = fake ? 30_000 : 900_000;

async function cliAlone() {
  if (fake) return undefined; // the stand-in has no stdout console
  const t0 = performance.now();
  const child = qemu
    ? spawn('qemu-system-riscv64', argv, { stdio: ['pipe', 'pipe', 'inherit'] })
    : spawn(process.execPath, [path.join(root, 'bin', 'viv.mjs'), 'run', ...argv], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const ms = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no GUEST-READY from viv run:\n${out.slice(-2000)}`)), timeoutMs);
    child.stdout.on('data', (d) => {
      out += d;
      if (/GUEST-READY/.test(out)) {
        clearTimeout(timer);
        resolve(performance.now() - t0);
      }
    });
    child.once('exit', (code) => reject(new Error(`viv run exited ${code}:\n${out.slice(-2000)}`)));
  });
  child.kill('SIGKILL');
  return ms;
}

async function throughApp() {
  const s = await serve({ fake, extra: ['--demo', ...(qemu ? ['--core-host', qemuHost] : [])] });
  const { page, close } = await browser();
  try {
    await page.goto(s.url);
    const row = page.locator('[data-vm]').first();
    await row.waitFor();
    const t0 = performance.now();
    await row.locator('[data-test="start"]').click();
    // textContent (no layout) every 250 ms: watching must not steal the CPU the guest needs.
    await page.waitForFunction(() => document.querySelector('.xterm-rows')?.textContent?.includes('GUEST-READY'), null, {
      polling: 250,
      timeout: timeoutMs,
    });
    return performance.now() - t0;
  } finally {
    await close();
    await s.stop();
  }
}

// Boot times swing with the load on a shared machine: interleave the two and take medians.
const runs = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 3);
const cliRuns = [];
const appRuns = [];
for (let i = 0; i < runs; i++) {
  const c = await cliAlone();
  if (c !== undefined) cliRuns.push(Math.round(c));
  appRuns.push(Math.round(await throughApp()));
}
const cliMs = cliRuns.length ? median(cliRuns) : undefined;
const appMs = median(appRuns);
record(`app-boot-${kind}`, {
  runs,
  appRuns,
  ...(cliRuns.length ? { cliRuns } : {}),
  what: `Start -> GUEST-READY (ms, medians): through the app (web mode, Chromium) vs ${qemu ? 'qemu-system-riscv64' : 'viv run'} alone`,
  coreHost: { fake: `stand-in (${path.relative(root, fakeHost)})`, qemu: 'qemu-system-riscv64 (tests/e2e/qemu-core-host.mjs)', viv: 'viv run' }[kind],
  appMs: Math.round(appMs),
  ...(cliMs !== undefined ? { cliMs: Math.round(cliMs), overheadMs: Math.round(appMs - cliMs), ratio: +(appMs / cliMs).toFixed(3) } : {}),
});
