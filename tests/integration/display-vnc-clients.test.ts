// Interop of our VNC server with stock Debian clients: vncsnapshot (TightVNC-based, RFB 3.3,
// Raw and Zlib, VNC auth) and gvncviewer (gtk-vnc: RFB 3.8, ZRLE, QEMU extended key events,
// DesktopSize) under Xvfb, looked at with xwd and driven with xdotool.
// Debian packages: vncsnapshot gvncviewer tightvncserver (tightvncpasswd) xvfb x11-apps netpbm xdotool.

import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Framebuffer } from '../../src/emulator-core/display/framebuffer';
import { BTN_LEFT } from '../../src/emulator-core/display/input';
import { KEY } from '../../src/emulator-core/display/keymap';
import type { RfbConnection } from '../../src/emulator-core/display/rfb/connection';
import { Encoding } from '../../src/emulator-core/display/rfb/protocol';
import { VncServer } from '../../src/emulator-core/display/rfb/server';
import { recordingSink, until } from '../../src/emulator-core/display/rfb/test-server';
import { drawTestPattern, prng } from '../../src/emulator-core/display/test-patterns';
import { parseVncOption } from '../../src/emulator-core/display/vnc-options';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const tools = ['vncsnapshot', 'gvncviewer', 'Xvfb', 'xwd', 'xwdtopnm', 'jpegtopnm', 'xdotool', 'tightvncpasswd'];
const missing = tools.filter((t) => !has(t));
// On CI the tools are installed by .ci/run: a missing one is a failure there, a skip elsewhere.
if (missing.length && process.env.CI === 'true') throw new Error(`missing tools: ${missing.join(', ')}`);
const run = missing.length === 0;

/** Runs a client without blocking the event loop: the server it talks to lives in this process. */
function runAsync(cmd: string, args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill(), 30_000);
    p.on('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stderr });
    });
  });
}

const work = mkdtempSync(join(tmpdir(), 'viv-vnc-interop-'));

/** netpbm P6 -> width, height, 8-bit RGB bytes (xwdtopnm writes 16-bit samples, maxval 65535). */
function readPpm(buf: Buffer): { width: number; height: number; rgb: Buffer } {
  const header = /^P6\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(buf.toString('latin1', 0, 64));
  if (!header) throw new Error('not a binary PPM');
  const [width, height, maxval] = [Number(header[1]), Number(header[2]), Number(header[3])];
  const data = buf.subarray(header[0].length);
  if (maxval < 256) return { width, height, rgb: data };
  const rgb = Buffer.alloc(width * height * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = Math.round((data.readUInt16BE(i * 2) * 255) / maxval);
  return { width, height, rgb };
}

/** Blocks of 16x16 in random colours: JPEG (4:2:0, 16x16 MCUs) keeps aligned solid blocks nearly exact. */
function drawBlocks(fb: Framebuffer, seed: number): void {
  const rnd = prng(seed);
  for (let by = 0; by < fb.height; by += 16) for (let bx = 0; bx < fb.width; bx += 16) fb.fillRect(bx, by, 16, 16, rnd() & 0xffffff);
}

/** Largest channel difference between the block centres of `fb` and a decoded image. */
function blockError(fb: Framebuffer, img: { width: number; rgb: Buffer }): number {
  let worst = 0;
  for (let y = 8; y < fb.height; y += 16) {
    for (let x = 8; x < fb.width; x += 16) {
      const p = fb.pixels[y * fb.width + x]!;
      const o = (y * img.width + x) * 3;
      worst = Math.max(worst, Math.abs(img.rgb[o]! - (p >>> 16)), Math.abs(img.rgb[o + 1]! - ((p >>> 8) & 255)), Math.abs(img.rgb[o + 2]! - (p & 255)));
    }
  }
  return worst;
}

async function startVnc(option: string, fb: Framebuffer, extra: Partial<ConstructorParameters<typeof VncServer>[0]> = {}) {
  const server = new VncServer({ framebuffer: fb, name: 'vivarium-interop', ...extra });
  const cfg = parseVncOption(option);
  const addr = await server.listen(cfg);
  const port = addr.tcp!.port;
  const conns: RfbConnection[] = [];
  server.on('client', (c: RfbConnection) => conns.push(c));
  return { server, port, display: port - 5900, conns };
}

// A display number per run, searched upwards (to=) so parallel runs do not collide.
const baseDisplay = 40 + (process.pid % 40);

describe.skipIf(!run)('vncsnapshot', () => {
  it('captures the framebuffer with Raw and with Zlib, converting to its pixel format', async () => {
    const fb = new Framebuffer(320, 192);
    drawBlocks(fb, 1);
    const { server, display, conns } = await startVnc(`127.0.0.1:${baseDisplay},to=99`, fb);
    try {
      for (const [encodings, expected] of [['raw', Encoding.Raw], ['zlib', Encoding.Zlib]] as const) {
        const out = join(work, `snap-${encodings}.jpg`);
        const r = await runAsync('vncsnapshot', ['-quiet', '-allowblank', '-encodings', encodings, `127.0.0.1:${display}`, out]);
        expect(r.status, r.stderr).toBe(0);
        expect(conns.at(-1)!.encoding).toBe(expected);
        const img = readPpm(execFileSync('jpegtopnm', [out], { stdio: ['ignore', 'pipe', 'ignore'] }));
        expect([img.width, img.height]).toEqual([320, 192]);
        expect(blockError(fb, img)).toBeLessThanOrEqual(8);
      }
    } finally {
      await server.close();
    }
  });

  it('authenticates with a VNC password file, and fails with a wrong one', async () => {
    const fb = new Framebuffer(128, 64);
    drawBlocks(fb, 2);
    const { server, display } = await startVnc(`127.0.0.1:${baseDisplay},to=99,password=on`, fb);
    server.setPassword('vivpass');
    const good = join(work, 'good.passwd');
    const bad = join(work, 'bad.passwd');
    writeFileSync(good, execFileSync('tightvncpasswd', ['-f'], { input: 'vivpass\n' }));
    writeFileSync(bad, execFileSync('tightvncpasswd', ['-f'], { input: 'nope\n' }));
    try {
      const out = join(work, 'snap-auth.jpg');
      const ok = await runAsync('vncsnapshot', ['-quiet', '-allowblank', '-passwd', good, `127.0.0.1:${display}`, out]);
      expect(ok.status, ok.stderr).toBe(0);
      expect(blockError(fb, readPpm(execFileSync('jpegtopnm', [out], { stdio: ['ignore', 'pipe', 'ignore'] })))).toBeLessThanOrEqual(8);
      const no = await runAsync('vncsnapshot', ['-quiet', '-allowblank', '-passwd', bad, `127.0.0.1:${display}`, join(work, 'no.jpg')]);
      expect(no.status).not.toBe(0);
    } finally {
      await server.close();
    }
  });
});

describe.skipIf(!run)('gvncviewer under Xvfb', () => {
  let xvfb: ChildProcess;
  let xdisplay = '';
  let viewer: ChildProcess | undefined;
  const fb = new Framebuffer(400, 240);
  const { log, sink } = recordingSink();
  let server: VncServer;
  let conns: RfbConnection[];

  const x = (cmd: string, args: string[]) => execFileSync(cmd, args, { env: { ...process.env, DISPLAY: xdisplay }, stdio: ['ignore', 'pipe', 'ignore'] });
  const screenshot = () => readPpm(execFileSync('sh', ['-c', 'xwd -root -silent | xwdtopnm 2>/dev/null'], { env: { ...process.env, DISPLAY: xdisplay }, maxBuffer: 64 << 20 }));

  /** Where the remote framebuffer sits on the X screen (gvncviewer puts a menu bar above it), or null. */
  function findFramebuffer(shot: ReturnType<typeof screenshot>): { ox: number; oy: number } | null {
    const at = (sx: number, sy: number) => {
      const o = (sy * shot.width + sx) * 3;
      return (shot.rgb[o]! << 16) | (shot.rgb[o + 1]! << 8) | shot.rgb[o + 2]!;
    };
    for (let oy = 0; oy < 120; oy++) {
      for (let ox = 0; ox < 40; ox++) {
        let ok = true;
        for (let y = 0; y < fb.height && ok; y++) for (let xx = 0; xx < fb.width && ok; xx++) ok = at(ox + xx, oy + y) === fb.pixels[y * fb.width + xx];
        if (ok) return { ox, oy };
      }
    }
    return null;
  }

  async function waitForPicture(): Promise<{ ox: number; oy: number }> {
    let found: { ox: number; oy: number } | null = null;
    const last: { shot?: ReturnType<typeof screenshot> } = {};
    try {
      await until(() => (found = findFramebuffer((last.shot = screenshot()))) !== null, 20_000);
    } catch (e) {
      // Keep what the screen showed, for a person to look at.
      const shot = last.shot;
      if (shot) writeFileSync(join(work, 'gvncviewer-last.ppm'), Buffer.concat([Buffer.from(`P6\n${shot.width} ${shot.height}\n255\n`), shot.rgb]));
      const c = conns.at(-1);
      throw new Error(`${(e as Error).message}: the framebuffer never appeared (last screen in ${work}/gvncviewer-last.ppm, ${conns.length} connections, last ${JSON.stringify(c?.stats)} open=${c?.isOpen} ${c?.closeReason})`);
    }
    return found!;
  }

  beforeAll(async () => {
    // -displayfd: Xvfb picks a free display and writes its number to fd 3.
    xvfb = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1024x768x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
    xdisplay = await new Promise<string>((resolve, reject) => {
      let text = '';
      xvfb.stdio[3]!.on('data', (d: Buffer) => {
        text += d.toString();
        if (text.includes('\n')) resolve(`:${text.trim()}`);
      });
      xvfb.once('exit', (code) => reject(new Error(`Xvfb exited with ${code}`)));
    });
    drawTestPattern(fb, 21);
    const started = await startVnc(`127.0.0.1:${baseDisplay},to=99`, fb, { input: sink });
    server = started.server;
    conns = started.conns;
    viewer = spawn('gvncviewer', [`127.0.0.1:${started.display}`], { env: { ...process.env, DISPLAY: xdisplay }, stdio: 'ignore' });
  });

  afterAll(async () => {
    viewer?.kill();
    xvfb?.kill();
    await server?.close();
  });

  it('shows the framebuffer pixel for pixel over ZRLE', async () => {
    await waitForPicture();
    expect(conns.at(-1)!.encoding).toBe(Encoding.Zrle);
  });

  it('types into the server: keys arrive as evdev codes, through QEMU extended key events', async () => {
    const win = x('xdotool', ['search', '--sync', '--class', 'gvncviewer']).toString().trim().split('\n').at(-1)!;
    x('xdotool', ['windowfocus', '--sync', win]);
    const { ox, oy } = await waitForPicture();
    x('xdotool', ['mousemove', String(ox + 50), String(oy + 60), 'click', '1']);
    log.length = 0;
    x('xdotool', ['type', '--delay', '40', 'hi!']);
    x('xdotool', ['key', 'Return']);
    await until(() => log.includes(`key ${KEY.ENTER} up`), 10_000);
    expect(log.filter((l) => l.startsWith('key'))).toEqual([
      `key ${KEY.H} down`, `key ${KEY.H} up`,
      `key ${KEY.I} down`, `key ${KEY.I} up`,
      `key ${KEY.LEFTSHIFT} down`, `key ${KEY.N1} down`, `key ${KEY.LEFTSHIFT} up`, `key ${KEY.N1} up`,
      `key ${KEY.ENTER} down`, `key ${KEY.ENTER} up`,
    ]);
    log.length = 0;
    x('xdotool', ['mousemove', String(ox + 123), String(oy + 45), 'click', '1']);
    await until(() => log.includes(`btn ${BTN_LEFT} up`), 10_000);
    expect(log).toContain('move 123,45');
    expect(log).toContain(`btn ${BTN_LEFT} down`);
  });

  it('follows incremental changes and a resize', async () => {
    fb.fillRect(30, 40, 50, 20, 0x3366cc);
    fb.copyRect(0, 16, 400, 224, 0, 0);
    const { oy } = await waitForPicture();
    fb.resize(480, 304);
    drawTestPattern(fb, 22);
    // gtk-vnc scales the new size into the window it has (no window manager resizes it here):
    // give the window the new size, then the picture must be there pixel for pixel.
    await until(() => conns[0]!.stats.updates >= 6);
    const win = x('xdotool', ['search', '--class', 'gvncviewer']).toString().trim().split('\n').at(-1)!;
    x('xdotool', ['windowsize', '--sync', win, '480', String(304 + oy)]);
    await waitForPicture();
    expect(conns.length).toBe(1); // the same connection, told by DesktopSize
  });
});
