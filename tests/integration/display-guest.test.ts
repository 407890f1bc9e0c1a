// The guest has a screen: the shared guest booted by `viv run` with virtio-gpu, a virtio keyboard
// and tablet, `console=tty0` and `-vnc ...,password=on` (the password set over QMP). Its console
// (kernel log, GUEST-READY, the shell) is on the framebuffer, read back over RFB, by Debian's
// vncsnapshot and by QMP screendump, and read with tesseract; keys typed over RFB reach the shell
// on tty0, which writes to the serial line we read.
// Debian packages: tesseract-ocr tesseract-ocr-eng vncsnapshot tightvncpasswd netpbm.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { inflateSync } from 'node:zlib';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RfbClient } from '../../src/emulator-core/display/rfb/client';
import { Encoding } from '../../src/emulator-core/display/rfb/protocol';
import { encodePng } from '../../src/emulator-core/display/screendump';
import { hasGuest, initramfs, kernel, repo } from './boot-guest';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const tools = ['tesseract', 'vncsnapshot', 'jpegtopnm', 'tightvncpasswd'];
const missing = tools.filter((t) => !has(t));
if (missing.length && process.env.CI === 'true') throw new Error(`missing tools: ${missing.join(', ')}`);

const work = mkdtempSync(path.join(tmpdir(), 'viv-display-guest-'));
const display = 20 + (process.pid % 60);

/** The picture at twice the size (tesseract reads 8x16 console glyphs far better so) as a PNG. */
function pngAt2x(width: number, height: number, pixels: Uint32Array): Uint8Array {
  const big = new Uint32Array(width * 2 * height * 2);
  for (let y = 0; y < height * 2; y++) for (let x = 0; x < width * 2; x++) big[y * width * 2 + x] = pixels[(y >> 1) * width + (x >> 1)]!;
  return encodePng(width * 2, height * 2, big);
}

/** A minimal QMP client: one JSON object per line; resolves each command's reply. */
async function qmpConnect(sock: string) {
  const s = net.connect(sock);
  const replies: Record<string, unknown>[] = [];
  let buf = '';
  s.setEncoding('utf8');
  s.on('data', (d: string) => {
    buf += d;
    for (let i; (i = buf.indexOf('\n')) >= 0; buf = buf.slice(i + 1)) if (buf.slice(0, i).trim()) replies.push(JSON.parse(buf.slice(0, i)));
  });
  let id = 0;
  const exec = async (execute: string, args?: Record<string, unknown>) => {
    const n = ++id;
    s.write(JSON.stringify({ execute, arguments: args, id: n }) + '\n');
    for (;;) {
      const r = replies.find((l) => l.id === n);
      if (r) return r;
      await new Promise((res) => setTimeout(res, 10));
    }
  };
  await exec('qmp_capabilities');
  return { exec, close: () => s.destroy() };
}

/** Our own PNGs (8-bit RGB, filters None/Sub) back to 0x00RRGGBB pixels. */
function readPng(png: Buffer): { width: number; height: number; pixels: Uint32Array } {
  let o = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (o < png.length) {
    const len = png.readUInt32BE(o);
    const type = png.toString('latin1', o + 4, o + 8);
    if (type === 'IHDR') [width, height] = [png.readUInt32BE(o + 8), png.readUInt32BE(o + 12)];
    if (type === 'IDAT') idat.push(png.subarray(o + 8, o + 8 + len));
    o += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const pixels = new Uint32Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = y * (1 + width * 3);
    const sub = raw[row] === 1;
    let r = 0, g = 0, b = 0;
    for (let x = 0; x < width; x++) {
      const i = row + 1 + x * 3;
      r = ((sub ? r : 0) + raw[i]!) & 255;
      g = ((sub ? g : 0) + raw[i + 1]!) & 255;
      b = ((sub ? b : 0) + raw[i + 2]!) & 255;
      pixels[y * width + x] = (r << 16) | (g << 8) | b;
    }
  }
  return { width, height, pixels };
}

/** Share of pixels that differ noticeably (JPEG noise and a blinking cursor stay below 1%). */
function differing(a: Uint32Array, b: Uint32Array): number {
  let off = 0;
  for (let i = 0; i < a.length; i++) {
    const p = a[i]!, q = b[i]!;
    const d = Math.abs((p >>> 16) - (q >>> 16)) + Math.abs(((p >>> 8) & 255) - ((q >>> 8) & 255)) + Math.abs((p & 255) - (q & 255));
    if (d > 96) off++;
  }
  return off / a.length;
}

function ocr(png: Uint8Array, name: string): string {
  const file = path.join(work, `${name}.png`);
  writeFileSync(file, png);
  return execFileSync('tesseract', [file, '-', '--psm', '6'], { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 24 }).toString();
}

describe.skipIf(!hasGuest || missing.length > 0)('the shared guest on virtio-gpu, shown and typed into over VNC', () => {
  let viv: ChildProcess | undefined;
  afterAll(() => {
    viv?.kill('SIGKILL');
  });

  it('shows the console on the framebuffer and takes keys from an RFB client', async () => {
    viv = spawn(process.execPath, [
      path.join(repo, 'bin/viv.mjs'), 'run', '-M', 'virt', '-m', '256M', '-display', 'none',
      '-kernel', kernel, '-initrd', initramfs, '-append', 'console=ttyS0 console=tty0',
      '-device', 'virtio-gpu-device', '-device', 'virtio-keyboard-device', '-device', 'virtio-tablet-device',
      '-vnc', `127.0.0.1:${display},password=on`, '-qmp', `unix:${path.join(work, 'qmp.sock')},server=on,wait=off`,
    ], { cwd: repo, stdio: ['pipe', 'pipe', 'pipe'] });
    let serial = '';
    let stderr = '';
    viv.stdout!.on('data', (d: Buffer) => (serial += d.toString('utf8')));
    viv.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const waitFor = async (what: () => boolean, label: string, ms: number) => {
      const end = Date.now() + ms;
      while (!what()) {
        if (viv!.exitCode !== null) throw new Error(`viv run exited ${viv!.exitCode} waiting for ${label}: ${stderr}`);
        if (Date.now() > end) throw new Error(`timed out waiting for ${label}; serial tail: ${serial.slice(-600)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };

    // The kernel logs to the serial line too: wait for the keyboard and the GPU's console.
    await waitFor(() => serial.includes('input: QEMU Virtio Keyboard'), 'the virtio keyboard', 400_000);
    await waitFor(() => serial.includes('Console: switching to colour frame buffer device 160x50'), 'the framebuffer console', 400_000);
    // password=on: every login fails until the monitor sets a password (as in QEMU).
    const qmp = await qmpConnect(path.join(work, 'qmp.sock'));
    await expect(RfbClient.connect(net.connect(5900 + display, '127.0.0.1'), { password: 'guest-pw' })).rejects.toThrow(/no VNC password/);
    expect(await qmp.exec('set_password', { protocol: 'vnc', password: 'guest-pw' })).toMatchObject({ return: {} });
    const client = await RfbClient.connect(net.connect(5900 + display, '127.0.0.1'), { password: 'guest-pw', encodings: [Encoding.Zrle, Encoding.CopyRect, Encoding.DesktopSize] });
    try {
      await client.update(false);
      expect([client.width, client.height]).toEqual([1280, 800]); // virtio-gpu's preferred mode, as QEMU's

      // Keys go into the VT now; the shell on tty0 reads them once /init has started it.
      for (const ch of 'echo VNC-$((6*7)) > /dev/ttyS0\n') {
        const sym = ch === '\n' ? 0xff0d : ch.charCodeAt(0);
        client.key(sym, true);
        client.key(sym, false);
      }
      await waitFor(() => serial.includes('VNC-42'), 'the shell to run what was typed over VNC', 400_000);

      // The screen now holds the end of the boot log, GUEST-READY, the shell and the command.
      await new Promise((r) => setTimeout(r, 1000));
      await client.update(false);
      const text = ocr(pngAt2x(client.width, client.height, client.pixels), 'console');
      writeFileSync(path.join(work, 'console.txt'), text);
      expect(text).toMatch(/GUEST.READY 6\.12\.107/);
      expect(text).toMatch(/BusyBox v1\.37\.0/);
      expect(text).toMatch(/echo [VY]NC-/); // OCR reads the V as Y at times
      expect(text).toMatch(/virtio.gpu/i);

      // A stock client sees the same screen (JPEG: compare with a tolerance, a blinking cursor aside).
      const jpg = path.join(work, 'vncsnapshot.jpg');
      const passwd = path.join(work, 'vnc.passwd');
      writeFileSync(passwd, execFileSync('tightvncpasswd', ['-f'], { input: 'guest-pw\n' }));
      const snap = await new Promise<number | null>((resolve) => {
        const p = spawn('vncsnapshot', ['-quiet', '-allowblank', '-passwd', passwd, `127.0.0.1:${display}`, jpg], { stdio: 'ignore' });
        p.on('exit', resolve);
      });
      expect(snap).toBe(0);
      await client.update(true).catch(() => {});
      const ppm = execFileSync('jpegtopnm', [jpg], { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 24 });
      const header = /^P6\s+(\d+)\s+(\d+)\s+255\s/.exec(ppm.toString('latin1', 0, 32))!;
      expect([Number(header[1]), Number(header[2])]).toEqual([1280, 800]);
      const rgb = ppm.subarray(header[0].length);
      const snapPixels = Uint32Array.from({ length: 1280 * 800 }, (_, i) => (rgb[i * 3]! << 16) | (rgb[i * 3 + 1]! << 8) | rgb[i * 3 + 2]!);
      expect(differing(snapPixels, client.pixels)).toBeLessThan(0.01);

      // QMP screendump writes the same screen as a PNG.
      const png = path.join(work, 'screendump.png');
      expect(await qmp.exec('screendump', { filename: png, format: 'png' })).toMatchObject({ return: {} });
      const dump = readPng(readFileSync(png));
      expect([dump.width, dump.height]).toEqual([1280, 800]);
      expect(differing(dump.pixels, client.pixels)).toBeLessThan(0.01);
      qmp.close();
    } finally {
      client.close();
    }
  });
});
