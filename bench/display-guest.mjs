// The shared guest's console on virtio-gpu, seen over VNC: key-to-pixels latency (a key sent over
// RFB until the update that shows its echo) and a full-screen scroll (`seq` on tty0: frames and
// bytes per second to two clients at once, one with CopyRect + ZRLE, one with ZRLE only), and the
// same key-to-pixels over the core host's WebSocket listener (the app's display window path: RFB
// in WebSocket frames straight to the core host, as noVNC connects).
//   node bench/display-guest.mjs [keys, default 20] [seq lines, default 2000]
// Needs `npm run build` (bin/viv.mjs) and ../shared/guests/riscv64.
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { WebSocket, createWebSocketStream } from 'ws';

const root = path.resolve(import.meta.dirname, '..');
const guest = path.resolve(root, '../shared/guests/riscv64');
const keys = Number(process.argv[2] ?? 20);
const lines = Number(process.argv[3] ?? 2000);
const display = 20 + (process.pid % 60);

const tmp = mkdtempSync(path.join(tmpdir(), 'viv-display-guest-bench-'));
const bundle = path.join(tmp, 'client.mjs');
await build({
  absWorkingDir: root,
  stdin: { contents: "export { RfbClient } from './src/emulator-core/display/rfb/client';", resolveDir: root, loader: 'ts' },
  outfile: bundle,
  bundle: true,
  platform: 'node',
  format: 'esm',
  logLevel: 'warning',
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});
const { RfbClient } = await import(pathToFileURL(bundle).href);

const viv = spawn(process.execPath, [
  path.join(root, 'bin/viv.mjs'), 'run', '-M', 'virt', '-m', '256M', '-display', 'none',
  '-kernel', path.join(guest, 'Image'), '-initrd', path.join(guest, 'initramfs.cpio.gz'), '-append', 'console=ttyS0 console=tty0',
  '-device', 'virtio-gpu-device', '-device', 'virtio-keyboard-device', '-device', 'virtio-tablet-device', '-vnc', `127.0.0.1:${display},websocket=on`,
], { stdio: ['ignore', 'pipe', 'inherit'] });
let serial = '';
viv.stdout.on('data', (d) => (serial += d.toString('utf8')));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(cond, label, ms = 600_000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (viv.exitCode !== null) throw new Error(`viv exited waiting for ${label}`);
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}`);
    await sleep(20);
  }
}

/** A client that keeps one update request outstanding and logs every update's time and size. */
async function watcher(encodings, over = 'tcp') {
  let stream;
  if (over === 'websocket') {
    const ws = new WebSocket(`ws://127.0.0.1:${5700 + display}/`, ['binary']);
    stream = createWebSocketStream(ws); // before 'open': the greeting may come in the same tick
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
  } else stream = net.connect(5900 + display, '127.0.0.1');
  const c = await RfbClient.connect(stream, { encodings });
  const log = [];
  let last = c.bytesReceived;
  await c.update(false);
  (async () => {
    for (;;) {
      try {
        const rects = await c.update(true);
        log.push({ t: performance.now(), bytes: c.bytesReceived - last, rects: rects.length, copy: rects.some((r) => r.encoding === 1) });
        last = c.bytesReceived;
      } catch {
        return;
      }
    }
  })();
  return { c, log };
}

function type(c, text) {
  for (const ch of text) {
    const sym = ch === '\n' ? 0xff0d : ch.charCodeAt(0);
    c.key(sym, true);
    c.key(sym, false);
  }
}

try {
  const t0 = performance.now();
  await waitFor(() => serial.includes('Console: switching to colour frame buffer'), 'the framebuffer console');
  const a = await watcher([16, 1, -223]); // ZRLE + CopyRect
  const b = await watcher([16, -223]); // ZRLE only
  // A quiet screen: no cursor blink (it would look like an echo), then a marker on the serial line.
  type(a.c, 'echo 0 > /sys/class/graphics/fbcon/cursor_blink; clear; echo READY > /dev/ttyS0\n');
  await waitFor(() => serial.includes('READY'), 'the shell');
  const readyMs = performance.now() - t0;
  await sleep(1500);

  /** Key-to-pixels for each client, taking turns key by key so both see the same guest. */
  async function keyLatencies(clients) {
    const out = clients.map(() => []);
    for (let i = 0; i < keys * clients.length; i++) {
      const k = i % clients.length;
      const w = clients[k];
      await sleep(300);
      const before = w.log.length;
      const sent = performance.now();
      type(w.c, 'x');
      await waitFor(() => w.log.length > before, 'the echo', 10_000);
      out[k].push(w.log[before].t - sent);
    }
    return out.map((l) => l.sort((x, y) => x - y));
  }
  const stats = (l) => ({ median: Math.round(l[l.length >> 1]), min: Math.round(l[0]), max: Math.round(l.at(-1)), n: l.length });
  const ws = await watcher([16, 1, -223], 'websocket');
  const [latencies, wsLatencies] = await keyLatencies([a, ws]);
  ws.c.close();
  // Erase the x's, so the scroll starts from a clean command line.
  for (let i = 0; i < 2 * keys; i++) {
    a.c.key(0xff08, true);
    a.c.key(0xff08, false);
  }
  await sleep(1000);

  const startA = a.log.length;
  const startB = b.log.length;
  const ts = performance.now();
  type(a.c, `seq 1 ${lines}; echo SCROLLED > /dev/ttyS0\n`);
  await waitFor(() => serial.includes('SCROLLED'), 'the scroll');
  await sleep(500);
  const secs = (performance.now() - ts) / 1000;
  const sum = (log, from) => {
    const part = log.slice(from);
    return { updates: part.length, fps: +(part.length / secs).toFixed(1), kbPerSec: +(part.reduce((n, u) => n + u.bytes, 0) / secs / 1024).toFixed(1), kbPerUpdate: +(part.reduce((n, u) => n + u.bytes, 0) / Math.max(1, part.length) / 1024).toFixed(2), withCopyRect: part.filter((u) => u.copy).length };
  };
  const result = {
    when: new Date().toISOString(),
    bootToShellMs: Math.round(readyMs),
    keyToPixelsMs: stats(latencies),
    keyToPixelsOverWebSocketMs: stats(wsLatencies),
    scroll: { lines, seconds: +secs.toFixed(1), linesPerSec: Math.round(lines / secs), copyRectZrle: sum(a.log, startA), zrleOnly: sum(b.log, startB) },
  };
  console.log(JSON.stringify(result, null, 2));
  mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  writeFileSync(path.join(root, 'bench/results/display-guest.json'), JSON.stringify(result, null, 2) + '\n');
  a.c.close();
  b.c.close();
} finally {
  viv.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
}
