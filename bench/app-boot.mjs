// Start -> GUEST-READY: through the app (click Start in the library, wait for the line in the
// console window) versus `viv run` alone with the same argv (wait for the line on stdout).
// The difference is the app's overhead: supervisor, sockets, WebSocket, xterm.
// `--fake` measures against the stand-in core host (the app's own overhead, no guest boot).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { browser, fakeHost, guestDir, record, root, serve } from './app-common.mjs';

const fake = process.argv.includes('--fake');
const memoryMiB = 512;
const argv = ['-M', 'virt', '-m', `${memoryMiB}M`, '-smp', '1', '-kernel', path.join(guestDir, 'Image'), '-initrd', path.join(guestDir, 'initramfs.cpio.gz'), '-append', 'console=ttyS0', '-nic', 'none', '-nographic'];
const timeoutMs = fake ? 30_000 : 900_000;

async function cliAlone() {
  if (fake) return undefined; // the stand-in has no stdout console
  const t0 = performance.now();
  const child = spawn(process.execPath, [path.join(root, 'bin', 'viv.mjs'), 'run', ...argv], { stdio: ['pipe', 'pipe', 'inherit'] });
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
  const s = await serve({ fake, extra: ['--demo'] });
  const { page, close } = await browser();
  try {
    await page.goto(s.url);
    const row = page.locator('[data-vm]').first();
    await row.waitFor();
    const t0 = performance.now();
    await row.locator('[data-test="start"]').click();
    await page.locator('.xterm-rows').waitFor();
    const end = Date.now() + timeoutMs;
    while (!/GUEST-READY/.test(await page.locator('.xterm-rows').innerText())) {
      if (Date.now() > end) throw new Error('no GUEST-READY in the console');
      await page.waitForTimeout(50);
    }
    return performance.now() - t0;
  } finally {
    await close();
    await s.stop();
  }
}

const cliMs = await cliAlone();
const appMs = await throughApp();
record(fake ? 'app-boot-fake' : 'app-boot', {
  what: 'Start -> GUEST-READY (ms): through the app (web mode, Chromium) vs viv run alone',
  coreHost: fake ? `stand-in (${path.relative(root, fakeHost)})` : 'viv run',
  appMs: Math.round(appMs),
  ...(cliMs !== undefined ? { cliMs: Math.round(cliMs), overheadMs: Math.round(appMs - cliMs), ratio: +(appMs / cliMs).toFixed(3) } : {}),
});
