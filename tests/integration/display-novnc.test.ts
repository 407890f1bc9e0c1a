// Interop with noVNC (the app's display widget, @novnc/novnc) in Debian's Chromium: our server's
// WebSocket listener (`-vnc ...,websocket=PORT`), RFB in binary frames, VNC auth, the picture
// read back from noVNC's canvas, and keys typed in the page arriving as evdev codes.

import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Framebuffer } from '../../src/emulator-core/display/framebuffer';
import { KEY } from '../../src/emulator-core/display/keymap';
import type { RfbConnection } from '../../src/emulator-core/display/rfb/connection';
import { Encoding } from '../../src/emulator-core/display/rfb/protocol';
import { VncServer } from '../../src/emulator-core/display/rfb/server';
import { ephemeralConfig, recordingSink, until } from '../../src/emulator-core/display/rfb/test-server';
import { drawTestPattern } from '../../src/emulator-core/display/test-patterns';

const novncRoot = path.resolve(import.meta.dirname, '../../node_modules/@novnc/novnc');

// A page that connects noVNC to the URL in its query string and reports its state on window.
const page = `<!doctype html><meta charset="utf-8"><div id="screen"></div>
<script type="module">
import RFB from '/novnc/core/rfb.js';
const q = new URLSearchParams(location.search);
window.vnc = { state: 'connecting' };
const rfb = new RFB(document.getElementById('screen'), q.get('url'), q.get('password') ? { credentials: { password: q.get('password') } } : {});
rfb.addEventListener('connect', () => (window.vnc.state = 'connected'));
// noVNC fires 'disconnect' right after 'securityfailure': keep the more telling one.
rfb.addEventListener('disconnect', (e) => { if (!window.vnc.state.startsWith('securityfailure')) window.vnc.state = 'disconnected ' + e.detail.clean; });
rfb.addEventListener('securityfailure', (e) => (window.vnc.state = 'securityfailure ' + e.detail.reason));
rfb.addEventListener('credentialsrequired', () => (window.vnc.state = 'credentialsrequired'));
window.rfb = rfb;
</script>`;

// What the page code below touches (tsconfig has no DOM library: these run in Chromium).
interface PageGlobals {
  vnc: { state: string };
  document: { querySelector(selector: string): PageCanvas | null };
}
interface PageCanvas {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
}

describe('noVNC over WebSocket', () => {
  let web: http.Server;
  let webPort = 0;
  let context: BrowserContext;
  let tab: Page;

  beforeAll(async () => {
    web = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/') {
        res.writeHead(200, { 'content-type': 'text/html' }).end(page);
        return;
      }
      const file = path.join(novncRoot, path.normalize(url.pathname.replace(/^\/novnc\//, '/')));
      if (!url.pathname.startsWith('/novnc/') || !file.startsWith(novncRoot)) {
        res.writeHead(404).end();
        return;
      }
      try {
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(file));
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    webPort = (web.address() as AddressInfo).port;
    context = await chromium.launchPersistentContext('', {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run'],
    });
    tab = context.pages()[0] ?? (await context.newPage());
  });

  afterAll(async () => {
    await context?.close();
    await new Promise((r) => web?.close(r));
  });

  async function serve(fb: Framebuffer, password?: string) {
    const { log, sink } = recordingSink();
    const server = new VncServer({ framebuffer: fb, input: sink, password: password !== undefined });
    const addr = await server.listen(ephemeralConfig({ listen: null, websocket: { host: '127.0.0.1', port: 0 }, password: password !== undefined }));
    if (password) server.setPassword(password);
    const conns: RfbConnection[] = [];
    server.on('client', (c: RfbConnection) => conns.push(c));
    return { server, log, conns, url: `ws://127.0.0.1:${addr.websocket!.port}/` };
  }

  async function open(url: string, password?: string): Promise<string> {
    const q = new URLSearchParams({ url, ...(password ? { password } : {}) });
    await tab.goto(`http://127.0.0.1:${webPort}/?${q}`);
    await tab.waitForFunction(() => (globalThis as unknown as PageGlobals).vnc.state !== 'connecting', null, { timeout: 20_000 });
    return tab.evaluate(() => (globalThis as unknown as PageGlobals).vnc.state);
  }

  /** noVNC's canvas, as canonical pixels. */
  async function canvasPixels(): Promise<{ width: number; height: number; pixels: number[] }> {
    return tab.evaluate(() => {
      const c = (globalThis as unknown as PageGlobals).document.querySelector('#screen canvas')!;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      const pixels: number[] = [];
      for (let i = 0; i < d.length; i += 4) pixels.push((d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!);
      return { width: c.width, height: c.height, pixels };
    });
  }

  async function expectCanvas(fb: Framebuffer): Promise<void> {
    let last = { width: 0, height: 0, bad: -1 };
    const matches = async () => {
      const c = await canvasPixels();
      let bad = 0;
      if (c.width === fb.width && c.height === fb.height) for (let i = 0; i < c.pixels.length; i++) if (c.pixels[i] !== fb.pixels[i]) bad++;
      last = { width: c.width, height: c.height, bad };
      return c.width === fb.width && c.height === fb.height && bad === 0;
    };
    const end = Date.now() + 20_000;
    while (!(await matches())) {
      if (Date.now() > end) throw new Error(`noVNC canvas never matched: ${JSON.stringify(last)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('shows the framebuffer and follows changes, copies and a resize', async () => {
    const fb = new Framebuffer(320, 200);
    drawTestPattern(fb, 31);
    const { server, conns, url } = await serve(fb);
    try {
      expect(await open(url)).toBe('connected');
      await expectCanvas(fb);
      // noVNC prefers ZRLE among what we offer; whichever it chose, say so if it changes.
      expect([Encoding.Zrle, Encoding.Zlib]).toContain(conns[0]!.encoding);
      fb.fillRect(10, 10, 100, 30, 0x224488);
      fb.copyRect(0, 8, 320, 192, 0, 0);
      await expectCanvas(fb);
      fb.resize(256, 160);
      drawTestPattern(fb, 32);
      await expectCanvas(fb);
      expect(conns.length).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('authenticates with a password, and types through QEMU extended key events', async () => {
    const fb = new Framebuffer(200, 120);
    drawTestPattern(fb, 33);
    const { server, log, conns, url } = await serve(fb, 'n0vnc');
    try {
      expect(await open(url, 'wrong')).toMatch(/^securityfailure/);
      expect(await open(url, 'n0vnc')).toBe('connected');
      await expectCanvas(fb);
      await tab.click('#screen canvas', { position: { x: 20, y: 30 } });
      log.length = 0;
      await tab.keyboard.type('hi');
      await tab.keyboard.press('Shift+Digit1');
      await until(() => log.filter((l) => l.startsWith('key')).length >= 8, 10_000);
      expect(log.filter((l) => l.startsWith('key'))).toEqual([
        `key ${KEY.H} down`, `key ${KEY.H} up`,
        `key ${KEY.I} down`, `key ${KEY.I} up`,
        `key ${KEY.LEFTSHIFT} down`, `key ${KEY.N1} down`, `key ${KEY.N1} up`, `key ${KEY.LEFTSHIFT} up`,
      ]);
      expect(conns.at(-1)!.isOpen).toBe(true);
    } finally {
      await server.close();
    }
  });
});
