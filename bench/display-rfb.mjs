// VNC server throughput on a full-screen console scroll (1024x768, 8x16 text cells), per
// encoding: frames per second and bytes per frame from the server to a real client in another
// process (our RfbClient, which decodes every pixel and checks the final picture), plus the
// server's encode time per full screen measured alone.
//   node bench/display-rfb.mjs [frames per run, default 150]
// Two ways a scroll reaches the server: as a copy (Framebuffer.copyRect: the client replays it
// with CopyRect) and as what virtio-gpu 2D gives, moved pixels with a full-screen damage.
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const root = path.resolve(import.meta.dirname, '..');
const W = 1024;
const H = 768;

async function bundle() {
  const tmp = mkdtempSync(path.join(tmpdir(), 'viv-display-bench-'));
  const out = path.join(tmp, 'display.mjs');
  await build({
    absWorkingDir: root,
    stdin: {
      contents: `
        export { Framebuffer } from './src/emulator-core/display/framebuffer';
        export { VncServer } from './src/emulator-core/display/rfb/server';
        export { RfbClient } from './src/emulator-core/display/rfb/client';
        export { ByteWriter } from './src/emulator-core/display/rfb/byte-writer';
        export { ZrleEncoder } from './src/emulator-core/display/rfb/encode-zrle';
        export { encodeRaw, encodeZlib } from './src/emulator-core/display/rfb/encode-basic';
        export { ZStream } from './src/emulator-core/display/rfb/zstream';
        export { PixelConverter, CANONICAL_FORMAT } from './src/emulator-core/display/pixel-format';
        export { Encoding } from './src/emulator-core/display/rfb/protocol';
        export { prng } from './src/emulator-core/display/test-patterns';
        export { crc32 } from './src/emulator-core/display/screendump';
      `,
      resolveDir: root,
      loader: 'ts',
    },
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    logLevel: 'warning',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  return { tmp, mod: await import(pathToFileURL(out).href), file: out };
}

/** A console: 128x48 cells of 8x16 "glyphs" (a fixed pseudo-font), light grey on black. */
function makeConsole(d) {
  const rnd = d.prng(7);
  const font = Array.from({ length: 96 }, () => Array.from({ length: 16 }, () => rnd() & 0xff));
  const drawLine = (fb, row) => {
    const px = fb.pixels;
    for (let col = 0; col < W / 8; col++) {
      const g = font[rnd() % 96];
      const blank = rnd() % 4 === 0;
      for (let y = 0; y < 16; y++) {
        const bits = blank ? 0 : g[y];
        for (let x = 0; x < 8; x++) px[(row * 16 + y) * W + col * 8 + x] = bits & (0x80 >> x) ? 0xaaaaaa : 0x000000;
      }
    }
  };
  return { drawLine };
}

async function clientMain() {
  const d = await import(pathToFileURL(process.argv[3]).href);
  const port = Number(process.argv[4]);
  const encodings = JSON.parse(process.argv[5]);
  const c = await d.RfbClient.connect(net.connect(port, '127.0.0.1'), { encodings });
  await c.update(false);
  process.stdout.write('ready\n');
  let frames = 0;
  // Keep one request outstanding; the server answers when the next frame's damage arrives.
  // "checksum N": once N updates have been decoded, report the picture's CRC.
  process.stdin.on('data', async (b) => {
    const m = /checksum (\d+)/.exec(b.toString());
    if (!m) return;
    while (frames < Number(m[1])) await new Promise((r) => setTimeout(r, 5));
    process.stdout.write(`checksum ${d.crc32(new Uint8Array(c.pixels.buffer))} ${frames}\n`);
    c.close();
    process.exit(0);
  });
  for (;;) {
    try {
      await c.update(true);
    } catch {
      return;
    }
    frames++;
  }
}

async function runScroll(d, file, { name, encodings, asCopy, frames }) {
  const fb = new d.Framebuffer(W, H);
  const con = makeConsole(d);
  for (let row = 0; row < H / 16; row++) con.drawLine(fb, row);
  fb.damage({ x: 0, y: 0, w: W, h: H });
  const server = new d.VncServer({ framebuffer: fb });
  const { tcp } = await server.listen({
    listen: { kind: 'tcp', host: '127.0.0.1', port: 0, display: 0, lastPort: 0 },
    websocket: null, password: false, share: 'ignore', connections: 4, lossy: false, nonAdaptive: false, keyDelayMs: 0,
  });
  const conns = [];
  server.on('client', (c) => conns.push(c));
  const child = spawn(process.execPath, [import.meta.filename, 'client', file, String(tcp.port), JSON.stringify(encodings)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const waitFor = (re) => new Promise((resolve) => {
    const check = () => {
      const m = re.exec(out);
      if (m) resolve(m);
      else setTimeout(check, 1);
    };
    check();
  });
  child.stdout.on('data', (b) => (out += b));
  await waitFor(/ready/);
  const conn = conns[0];
  const bytes0 = conn.stats.bytesSent;
  const updates0 = conn.stats.updates;
  const t0 = performance.now();
  for (let i = 0; i < frames; i++) {
    const before = conn.stats.updates;
    if (asCopy) fb.copyRect(0, 16, W, H - 16, 0, 0);
    else fb.pixels.copyWithin(0, 16 * W);
    con.drawLine(fb, H / 16 - 1);
    if (asCopy) fb.damage({ x: 0, y: H - 16, w: W, h: 16 });
    else fb.damage({ x: 0, y: 0, w: W, h: H });
    // Next frame once this one is on its way (the client's request was answered).
    while (conn.stats.updates === before) await new Promise((r) => setImmediate(r));
    // And the socket has drained to the kernel, so a slow client slows the count.
    while (conn.queuedBytes > 0) await new Promise((r) => setImmediate(r));
  }
  const ms = performance.now() - t0;
  child.stdin.write(`checksum ${conn.stats.updates - updates0}\n`);
  const [, sum] = await waitFor(/checksum (\d+) (\d+)/);
  const ok = Number(sum) === d.crc32(new Uint8Array(fb.pixels.buffer));
  await server.close();
  const sent = conn.stats.bytesSent - bytes0;
  return {
    name,
    frames: conn.stats.updates - updates0,
    fps: Math.round(((conn.stats.updates - updates0) / ms) * 1000 * 10) / 10,
    bytesPerFrame: Math.round(sent / frames),
    mbPerSec: Math.round((sent / ms) * 1000 / 1e6 * 10) / 10,
    clientPictureMatches: ok,
  };
}

/** Server-side encode cost of one full 1024x768 console screen, no network. */
function encodeCost(d) {
  const fb = new d.Framebuffer(W, H);
  const con = makeConsole(d);
  for (let row = 0; row < H / 16; row++) con.drawLine(fb, row);
  const conv = new d.PixelConverter(d.CANONICAL_FORMAT);
  const r = { x: 0, y: 0, w: W, h: H };
  const out = new d.ByteWriter(4 << 20);
  const scratch = new d.ByteWriter(4 << 20);
  const kinds = { raw: () => d.encodeRaw(fb, r, conv, out) };
  for (const level of [1, 6]) {
    const zlib = new d.ZStream(level);
    const zrle = new d.ZrleEncoder(new d.ZStream(level));
    kinds[`zlib-level${level}`] = () => d.encodeZlib(fb, r, conv, zlib, out, scratch);
    kinds[`zrle-level${level}`] = () => zrle.encode(fb, r, conv, out);
  }
  const result = {};
  for (const [name, fn] of Object.entries(kinds)) {
    for (let i = 0; i < 5; i++) {
      out.length = 0;
      fn();
    }
    const n = 30;
    let bytes = 0;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      con.drawLine(fb, i % (H / 16)); // change the picture so zlib cannot lean on the last frame alone
      out.length = 0;
      fn();
      bytes += out.length;
    }
    result[name] = { msPerScreen: Math.round(((performance.now() - t0) / n) * 100) / 100, bytesPerScreen: Math.round(bytes / n) };
  }
  return result;
}

if (process.argv[2] === 'client') {
  await clientMain();
} else {
  const frames = Number(process.argv[2] ?? 150);
  const { tmp, mod: d, file } = await bundle();
  try {
    const E = d.Encoding;
    const runs = [
      { name: 'scroll as damage, Raw', encodings: [E.Raw], asCopy: false },
      { name: 'scroll as damage, Zlib', encodings: [E.Zlib], asCopy: false },
      { name: 'scroll as damage, ZRLE', encodings: [E.Zrle], asCopy: false },
      { name: 'scroll as damage, CopyRect+ZRLE (scroll detected)', encodings: [E.CopyRect, E.Zrle], asCopy: false },
      { name: 'scroll as copy, CopyRect+Raw', encodings: [E.CopyRect, E.Raw], asCopy: true },
      { name: 'scroll as copy, CopyRect+ZRLE', encodings: [E.CopyRect, E.Zrle], asCopy: true },
    ];
    const results = { when: new Date().toISOString(), node: process.version, screen: `${W}x${H}`, frames, encode: encodeCost(d), scroll: [] };
    for (const r of runs) {
      const res = await runScroll(d, file, { ...r, frames });
      results.scroll.push(res);
      console.log(JSON.stringify(res));
    }
    console.log(JSON.stringify(results.encode));
    mkdirSync(path.join(root, 'bench/results'), { recursive: true });
    writeFileSync(path.join(root, 'bench/results/display-rfb.json'), JSON.stringify(results, null, 2) + '\n');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
