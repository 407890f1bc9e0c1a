import net from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { createWebSocketStream } from 'ws';
import { Framebuffer } from '../framebuffer';
import { BTN_LEFT } from '../input';
import { KEY } from '../keymap';
import { CANONICAL_FORMAT, type PixelFormat } from '../pixel-format';
import { drawTestPattern, prng } from '../test-patterns';
import { RfbClient, RfbError } from './client';
import { Encoding } from './protocol';
import type { VncServer } from './server';
import { ephemeralConfig, recordingSink, startServer, until } from './test-server';

const servers: VncServer[] = [];
const clients: RfbClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.close();
});

async function setup(...args: Parameters<typeof startServer>) {
  const s = await startServer(...args);
  servers.push(s.server);
  const connect = async (o?: Parameters<typeof s.connect>[0]) => {
    const c = await s.connect(o);
    clients.push(c);
    return c;
  };
  return { ...s, connect };
}

const formats: Record<string, PixelFormat> = {
  canonical: CANONICAL_FORMAT,
  bgrx32be: { ...CANONICAL_FORMAT, bigEndian: true, redShift: 24, greenShift: 16, blueShift: 8 },
  rgb565le: { bitsPerPixel: 16, depth: 16, bigEndian: false, trueColour: true, redMax: 31, greenMax: 63, blueMax: 31, redShift: 11, greenShift: 5, blueShift: 0 },
  rgb555be: { bitsPerPixel: 16, depth: 15, bigEndian: true, trueColour: true, redMax: 31, greenMax: 31, blueMax: 31, redShift: 10, greenShift: 5, blueShift: 0 },
  bgr233: { bitsPerPixel: 8, depth: 8, bigEndian: false, trueColour: true, redMax: 7, greenMax: 7, blueMax: 3, redShift: 0, greenShift: 3, blueShift: 6 },
};

/** What a canonical pixel looks like after a trip through `pf` (each channel quantised). */
function quantise(p: number, pf: PixelFormat): number {
  const q = (c: number, max: number) => Math.round((Math.round((c * max) / 255) * 255) / max);
  return (q((p >>> 16) & 255, pf.redMax) << 16) | (q((p >>> 8) & 255, pf.greenMax) << 8) | q(p & 255, pf.blueMax);
}

function expectPicture(client: RfbClient, fb: Framebuffer, pf: PixelFormat = CANONICAL_FORMAT): void {
  expect([client.width, client.height]).toEqual([fb.width, fb.height]);
  let bad = 0;
  let first = -1;
  for (let i = 0; i < fb.pixels.length; i++) {
    if (client.pixels[i] !== quantise(fb.pixels[i]!, pf)) {
      bad++;
      if (first < 0) first = i;
    }
  }
  expect(bad, `first mismatch at ${first % fb.width},${Math.floor(first / fb.width)}`).toBe(0);
}

describe('RFB handshake', () => {
  it('speaks 3.8, 3.7 and 3.3 with no authentication and sends ServerInit', async () => {
    const { connect } = await setup(320, 200, { name: 'vm-one' });
    for (const version of ['3.8', '3.7', '3.3'] as const) {
      const c = await connect({ version });
      expect([c.width, c.height, c.name, c.securityType]).toEqual([320, 200, 'vm-one', 1]);
    }
  });

  it('checks the VNC password in every version, and refuses all logins until one is set', async () => {
    const { server, connect } = await setup(64, 64, { password: true }, { password: true });
    await expect(connect({ password: 'anything' })).rejects.toThrow('no VNC password is set');
    server.setPassword('s3cret');
    for (const version of ['3.8', '3.7', '3.3'] as const) {
      const c = await connect({ version, password: 's3cret' });
      expect(c.securityType).toBe(2);
    }
    await expect(connect({ password: 'wrong' })).rejects.toThrow('authentication failed');
    await expect(connect({ version: '3.3', password: 'wrong' })).rejects.toThrow(RfbError);
  });

  it('refuses a bad ProtocolVersion and keeps serving', async () => {
    const { server, port, connect } = await setup(64, 64);
    const reasons: (string | null)[] = [];
    server.on('client-closed', (_c, r) => reasons.push(r));
    const s = net.connect(port, '127.0.0.1');
    s.resume();
    s.write('HELLO WORLD\n');
    await new Promise((r) => s.on('close', r));
    expect(reasons[0]).toMatch(/bad ProtocolVersion/);
    await connect();
  });
});

describe('framebuffer updates', () => {
  for (const [encName, enc] of [['Raw', Encoding.Raw], ['Zlib', Encoding.Zlib], ['ZRLE', Encoding.Zrle]] as const) {
    for (const [fmtName, pf] of Object.entries(formats)) {
      it(`${encName} in ${fmtName} reproduces the framebuffer`, async () => {
        const { fb, connect } = await setup(203, 131);
        drawTestPattern(fb, 7);
        const c = await connect({ encodings: [enc], pixelFormat: pf });
        const rects = await c.update(false);
        expect(rects.every((r) => r.encoding === enc)).toBe(true);
        expectPicture(c, fb, pf);
        // The stream carries over: a second picture through the same zlib stream.
        drawTestPattern(fb, 8);
        await c.update(true);
        expectPicture(c, fb, pf);
      });
    }
  }

  it('ZRLE uses every tile kind and all of them decode', async () => {
    const { fb, connect } = await setup(64 * 5, 64);
    const px = fb.pixels;
    const rnd = prng(3);
    for (let y = 0; y < 64; y++) {
      for (let x = 0; x < 64; x++) {
        px[y * 320 + x] = 0x123456; // solid
        px[y * 320 + 64 + x] = (x >> 2) % 2 ? 0xffffff : 0x000000; // 2-colour packed
        px[y * 320 + 128 + x] = [0x110000, 0x002200, 0x000033, 0x444444, 0x550055][(x + y) % 5]!; // packed 4-bit
        px[y * 320 + 192 + x] = rnd() & 0xffffff; // raw
        px[y * 320 + 256 + x] = ((x >> 4) * 0x101010 + y * 0x10000) & 0xffffff; // runs of many colours
      }
    }
    fb.damage({ x: 0, y: 0, w: 320, h: 64 });
    const c = await connect({ encodings: [Encoding.Zrle] });
    await c.update(false);
    expectPicture(c, fb);
  });

  it('sends only what changed, and holds an incremental request until something does', async () => {
    const { fb, connect } = await setup(256, 256);
    drawTestPattern(fb, 1);
    const c = await connect({ encodings: [Encoding.Raw] });
    await c.update(false);
    let answered = false;
    const pending = c.update(true).then((r) => ((answered = true), r));
    await new Promise((r) => setTimeout(r, 50));
    expect(answered).toBe(false);
    fb.fillRect(100, 100, 5, 5, 0xabcdef);
    const rects = await pending;
    expect(rects).toEqual([{ x: 96, y: 96, w: 16, h: 16, encoding: Encoding.Raw }]);
    expectPicture(c, fb);
  });

  it('answers a non-incremental request for part of the screen with that part', async () => {
    const { fb, connect } = await setup(100, 100);
    drawTestPattern(fb, 2);
    const c = await connect();
    const rects = await c.update(false, { x: 0, y: 0, w: 10, h: 10 });
    expect(rects).toEqual([{ x: 0, y: 0, w: 16, h: 16, encoding: Encoding.Raw }]);
  });

  it('replays scrolls with CopyRect, staying correct when the source had unsent changes', async () => {
    const { fb, connect } = await setup(320, 240);
    drawTestPattern(fb, 4);
    const c = await connect({ encodings: [Encoding.CopyRect, Encoding.Raw] });
    await c.update(false);
    for (const dy of [16, 5, 1]) {
      fb.fillRect(10, 50, 30, 3, 0x00ffff); // changed but not yet sent, inside the copy source
      fb.copyRect(0, dy, 320, 240 - dy, 0, 0);
      fb.fillRect(0, 240 - dy, 320, dy, 0x202020);
      const rects = await c.update(true);
      expect(rects[0]).toEqual({ x: 0, y: 0, w: 320, h: 240 - dy, encoding: Encoding.CopyRect });
      // Far fewer pixels than a full-screen repaint.
      const raw = rects.filter((r) => r.encoding === Encoding.Raw).reduce((n, r) => n + r.w * r.h, 0);
      expect(raw).toBeLessThan((320 * 240) / 4);
      expectPicture(c, fb);
    }
    // Two copies before the client asks: still right.
    fb.copyRect(0, 8, 320, 232, 0, 0);
    fb.copyRect(0, 3, 320, 237, 0, 0);
    await c.update(true);
    expectPicture(c, fb);
  });

  it('recognises a scroll repainted as full-screen damage (virtio-gpu 2D) and sends a CopyRect', async () => {
    const { fb, connect } = await setup(320, 240);
    drawTestPattern(fb, 12);
    const c = await connect({ encodings: [Encoding.CopyRect, Encoding.Zrle] });
    await c.update(false);
    fb.pixels.copyWithin(0, 16 * 320);
    fb.pixels.fill(0x334455, (240 - 16) * 320);
    fb.damage({ x: 0, y: 0, w: 320, h: 240 });
    const rects = await c.update(true);
    expect(rects[0]).toEqual({ x: 0, y: 0, w: 320, h: 224, encoding: Encoding.CopyRect });
    expect(rects.slice(1)).toEqual([{ x: 0, y: 224, w: 320, h: 16, encoding: Encoding.Zrle }]);
    expectPicture(c, fb);
  });

  it('turns copies into pixels for a client without CopyRect', async () => {
    const { fb, connect } = await setup(64, 64);
    drawTestPattern(fb, 9);
    const c = await connect({ encodings: [Encoding.Raw] });
    await c.update(false);
    fb.copyRect(0, 4, 64, 60, 0, 0);
    const rects = await c.update(true);
    expect(rects.every((r) => r.encoding === Encoding.Raw)).toBe(true);
    expectPicture(c, fb);
  });
});

describe('desktop size', () => {
  it('tells DesktopSize clients about a resize, then repaints', async () => {
    const { fb, connect } = await setup(64, 48);
    const c = await connect({ encodings: [Encoding.Raw, Encoding.DesktopSize] });
    await c.update(false);
    fb.resize(100, 30);
    drawTestPattern(fb, 3);
    expect(await c.update(true)).toEqual([{ x: 0, y: 0, w: 100, h: 30, encoding: Encoding.DesktopSize }]);
    await c.update(true);
    expectPicture(c, fb);
  });

  it('uses ExtendedDesktopSize when offered and refuses SetDesktopSize', async () => {
    const { fb, connect } = await setup(64, 48);
    const c = await connect({ encodings: [Encoding.Zrle, Encoding.ExtendedDesktopSize, Encoding.DesktopSize] });
    await c.update(false);
    fb.resize(80, 40);
    await c.update(true);
    expect(c.desktopSizeReplies).toEqual([{ reason: 0, status: 0, w: 80, h: 40 }]);
    c.setDesktopSize(1024, 768);
    await c.update(true);
    expect(c.desktopSizeReplies[1]).toEqual({ reason: 1, status: 1, w: 80, h: 40 });
    expect([c.width, c.height]).toEqual([80, 40]);
  });

  it('keeps a client that cannot resize at its size, showing the part that fits', async () => {
    const { fb, connect } = await setup(64, 48);
    const c = await connect({ encodings: [Encoding.Raw] });
    await c.update(false);
    fb.resize(128, 96);
    drawTestPattern(fb, 6);
    await c.update(true);
    expect([c.width, c.height]).toEqual([64, 48]);
    for (let y = 0; y < 48; y++) for (let x = 0; x < 64; x++) expect(c.pixels[y * 64 + x]).toBe(fb.pixels[y * 128 + x]);
  });
});

describe('cursor', () => {
  it('sends the pointer image and its mask to Cursor clients', async () => {
    const { fb, connect } = await setup(64, 64);
    const pixels = new Uint32Array(9 * 2);
    pixels[0] = 0xffff0000; // opaque red
    pixels[8] = 0xff00ff00; // opaque green, the 9th pixel: second mask byte
    pixels[9] = 0x000000ff; // transparent
    fb.setCursor({ width: 9, height: 2, hotX: 4, hotY: 1, pixels });
    const c = await connect({ encodings: [Encoding.Raw, Encoding.Cursor] });
    await c.update(false);
    expect(c.cursor).toMatchObject({ x: 4, y: 1, w: 9, h: 2 });
    expect([...c.cursor!.mask]).toEqual([0x80, 0x80, 0x00, 0x00]);
    expect(c.cursor!.pixels[0]).toBe(0xff0000);
    expect(c.cursor!.pixels[8]).toBe(0x00ff00);
  });
});

describe('input', () => {
  it('delivers keys and pointer events to the input sink', async () => {
    const { log, sink } = recordingSink();
    const { connect } = await setup(640, 480, { input: sink });
    const c = await connect();
    c.key(0x61, true);
    c.key(0x61, false);
    c.pointer(1, 100, 200);
    c.pointer(0, 101, 201);
    await until(() => log.length >= 6);
    expect(log).toEqual([`key ${KEY.A} down`, `key ${KEY.A} up`, 'move 100,200', `btn ${BTN_LEFT} down`, 'move 101,201', `btn ${BTN_LEFT} up`]);
  });

  it('acknowledges QEMU extended key events and uses their scancodes', async () => {
    const { log, sink } = recordingSink();
    const { connect } = await setup(64, 64, { input: sink });
    const c = await connect({ encodings: [Encoding.Raw, Encoding.QemuExtendedKeyEvent] });
    await c.update(false);
    expect(c.extendedKeyEvents).toBe(true);
    c.qemuKey(0x61, 0x1e, true);
    c.qemuKey(0xff53, 0xcd, true);
    await until(() => log.length >= 2);
    expect(log).toEqual([`key ${KEY.A} down`, `key ${KEY.RIGHT} down`]);
  });

  it('releases held keys and buttons when a client vanishes', async () => {
    const { log, sink } = recordingSink();
    const { server, connect } = await setup(64, 64, { input: sink });
    const c = await connect();
    c.key(0xffe3, true);
    c.pointer(1, 5, 5);
    await until(() => log.length >= 3);
    c.close();
    await until(() => server.clients.length === 0);
    expect(log.slice(3)).toEqual([`key ${KEY.LEFTCTRL} up`, `btn ${BTN_LEFT} up`]);
  });

  it('passes client cut text on, bounded', async () => {
    const texts: string[] = [];
    const { server, connect } = await setup(64, 64, { onCutText: (t) => texts.push(t) });
    const c = await connect();
    c.cutText('hello clipboard');
    await until(() => texts.length === 1);
    expect(texts).toEqual(['hello clipboard']);
    const reasons: (string | null)[] = [];
    server.on('client-closed', (_c, r) => reasons.push(r));
    const huge = Buffer.alloc(8);
    huge[0] = 6;
    huge.writeUInt32BE(0x7fffffff, 4);
    c.writeRaw(huge);
    await c.closed();
    await until(() => reasons.length === 1);
    expect(reasons[0]).toMatch(/ClientCutText of 2147483647 bytes/);
  });
});

describe('hostile clients', () => {
  it('disconnects garbage, half messages and bad pixel formats, and serves on', async () => {
    const { fb, server, connect } = await setup(64, 64);
    drawTestPattern(fb, 1);
    const reasons: (string | null)[] = [];
    server.on('client-closed', (_c, r) => reasons.push(r));
    const a = await connect();
    a.writeRaw(Uint8Array.of(99, 1, 2, 3));
    await a.closed();
    const b = await connect();
    const pf = Buffer.alloc(20);
    pf[4] = 24; // 24 bits per pixel
    b.writeRaw(pf);
    await b.closed();
    const d = await connect();
    d.writeRaw(Uint8Array.of(2, 0, 0x10)); // half a SetEncodings
    d.close();
    const e = await connect();
    const many = Buffer.alloc(4);
    many[0] = 2;
    many.writeUInt16BE(60000, 2);
    e.writeRaw(many);
    await e.closed();
    await until(() => reasons.length === 4);
    expect(reasons).toEqual([
      'unknown client message type 99',
      'bits-per-pixel 24 is not 8, 16 or 32',
      'closed in the middle of a message',
      'SetEncodings with 60000 encodings',
    ]);
    const ok = await connect();
    await ok.update(false);
    expectPicture(ok, fb);
  });

  it('drops a client that stalls in the handshake', async () => {
    const { server, port } = await setup(64, 64, { handshakeTimeoutMs: 100 });
    const reasons: (string | null)[] = [];
    server.on('client-closed', (_c, r) => reasons.push(r));
    const s = net.connect(port, '127.0.0.1');
    s.resume();
    s.write('RFB 003.008\n'); // and then nothing
    await new Promise((r) => s.on('close', r));
    expect(reasons).toEqual(['handshake timed out']);
  });

  it('survives random bytes from many clients', async () => {
    const { fb, server, port, connect } = await setup(64, 64);
    drawTestPattern(fb, 1);
    const rnd = prng(42);
    const sockets: Promise<void>[] = [];
    for (let i = 0; i < 40; i++) {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => {});
      const junk = Buffer.alloc(1 + (rnd() % 300));
      for (let j = 0; j < junk.length; j++) junk[j] = rnd();
      // Half of them get through the handshake first, so the junk hits the message parser.
      const prefix = i % 2 ? Buffer.from('RFB 003.008\n\x01\x01') : Buffer.alloc(0);
      s.write(Buffer.concat([prefix, junk]));
      sockets.push(new Promise((r) => setTimeout(() => (s.destroy(), r()), 50)));
    }
    await Promise.all(sockets);
    await until(() => server.clients.length === 0);
    const ok = await connect({ encodings: [Encoding.Zrle] });
    await ok.update(false);
    expectPicture(ok, fb);
  });
});

describe('share policy and limits', () => {
  it('lets an exclusive client push the others out (allow-exclusive)', async () => {
    const { connect } = await setup(64, 64);
    const a = await connect({ shared: true });
    const closed = a.closed();
    await connect({ shared: false });
    await closed;
    await expect(connect({ shared: true })).rejects.toThrow();
  });

  it('refuses exclusive clients under force-shared, and counts connections', async () => {
    const { connect } = await setup(64, 64, {}, { share: 'force-shared', connections: 2 });
    await connect();
    await expect(connect({ shared: false })).rejects.toThrow();
    await connect();
    await expect(connect()).rejects.toThrow();
  });
});

describe('transports', () => {
  it('serves RFB over WebSocket binary frames, as noVNC speaks it', async () => {
    const fb = new Framebuffer(96, 64);
    drawTestPattern(fb, 11);
    const { VncServer } = await import('./server');
    const server = new VncServer({ framebuffer: fb });
    servers.push(server);
    const addr = await server.listen(ephemeralConfig({ listen: null, websocket: { host: '127.0.0.1', port: 0 } }));
    const ws = new WebSocket(`ws://127.0.0.1:${addr.websocket!.port}/`, ['binary']);
    // The stream must listen before 'open': the server's ProtocolVersion can arrive in the same tick.
    const stream = createWebSocketStream(ws);
    await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
    expect(ws.protocol).toBe('binary');
    const c = await RfbClient.connect(stream, { encodings: [Encoding.Zrle] });
    clients.push(c);
    await c.update(false);
    expectPicture(c, fb);
  });

  it('refuses WebSocket handshakes from other pages when its origins are set', async () => {
    const fb = new Framebuffer(32, 32);
    const { VncServer } = await import('./server');
    const origin = 'http://127.0.0.1:4000';
    const server = new VncServer({ framebuffer: fb, websocketOrigins: [origin] });
    servers.push(server);
    const refused: string[] = [];
    server.on('websocket-refused', (why: string) => refused.push(why));
    const { port } = (await server.listen(ephemeralConfig({ listen: null, websocket: { host: '127.0.0.1', port: 0 } }))).websocket!;
    const status = (headers: Record<string, string>) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/`, ['binary'], { headers });
        ws.once('open', () => (ws.close(), resolve(101)));
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.once('error', () => resolve(-1));
      });
    expect(await status({})).toBe(403);
    expect(await status({ Origin: 'http://evil.example' })).toBe(403);
    expect(await status({ Origin: 'http://127.0.0.1:4001' })).toBe(403);
    // A DNS-rebinding page: our origin cannot be forged by it, but the Host it sends is its name.
    expect(await status({ Origin: origin, Host: `evil.example:${port}` })).toBe(403);
    expect(refused).toEqual(['no Origin', 'foreign Origin http://evil.example', 'foreign Origin http://127.0.0.1:4001', `bad Host evil.example:${port}`]);
    expect(server.clients).toHaveLength(0);
    expect(await status({ Origin: origin })).toBe(101);
  });

  it('listens on a unix socket', async () => {
    const fb = new Framebuffer(32, 32);
    const { VncServer } = await import('./server');
    const server = new VncServer({ framebuffer: fb });
    servers.push(server);
    const path = join(mkdtempSync(join(tmpdir(), 'viv-vnc-')), 'vnc.sock');
    expect((await server.listen(ephemeralConfig({ listen: { kind: 'unix', path } }))).unix).toBe(path);
    const c = await RfbClient.connect(net.connect(path));
    clients.push(c);
    expect(c.width).toBe(32);
  });
});
