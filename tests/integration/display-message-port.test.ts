// RFB over a MessageChannel, as the Electron app carries it (no guest, about a second): the core
// host's end (emulator-core/display/rfb/message-port-stream.ts, over an Electron-shaped port) and
// the display window's end (renderer/api/message-port-socket.ts, noVNC's raw channel), both on Node's
// MessageChannel, with a real VncServer and our RFB client (in place of noVNC) on the ends.
import { Duplex } from 'node:stream';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { MessagePortSocket, type PortLike } from '../../src/renderer/api/message-port-socket';
import { Framebuffer } from '../../src/emulator-core/display/framebuffer';
import { drawTestPattern } from '../../src/emulator-core/display/test-patterns';
import { RfbClient } from '../../src/emulator-core/display/rfb/client';
import { type ByteMessagePort, messagePortStream } from '../../src/emulator-core/display/rfb/message-port-stream';
import { VncServer } from '../../src/emulator-core/display/rfb/server';

/** Node's MessagePort as Electron's MessagePortMain behaves: 'message' events carry { data }. */
function electronShaped(port: MessagePort): ByteMessagePort {
  return {
    postMessage: (m) => port.postMessage(m),
    on(event: 'message' | 'close', listener: (e: { data: unknown }) => void) {
      if (event === 'message') port.on('message', (data) => listener({ data }));
      else port.on('close', () => (listener as () => void)());
      return this;
    },
    start: () => port.start(),
    close: () => port.close(),
  } as ByteMessagePort;
}

/** The renderer's socket as a Duplex, so our RFB client can drive it in place of noVNC. */
function socketStream(socket: MessagePortSocket): Duplex {
  const d = new Duplex({
    read() {},
    write(chunk: Buffer, _e, cb) {
      socket.send(chunk);
      cb();
    },
    destroy(err, cb) {
      socket.close();
      cb(err);
    },
  });
  socket.onmessage = (e) => d.push(Buffer.from(e.data));
  socket.onclose = () => d.push(null);
  return d;
}

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));

describe('RFB over a MessagePort', () => {
  it('carries a whole RFB session: handshake, picture, input, both directions', async () => {
    const fb = new Framebuffer(80, 48);
    drawTestPattern(fb, 3);
    const keys: number[] = [];
    const server = new VncServer({ framebuffer: fb, input: { key: (c) => keys.push(c), pointerMove: () => {}, button: () => {}, scroll: () => {}, sync: () => {} } });
    cleanup.push(() => server.close());
    const { port1, port2 } = new MessageChannel();
    cleanup.push(() => (port1.close(), port2.close()));
    server.attach(messagePortStream(electronShaped(port1)), 'port');
    // The socket is made after the server has spoken: its greeting waits until noVNC listens.
    await tick();
    const socket = new MessagePortSocket(port2 as unknown as PortLike);
    expect(socket.readyState).toBe('open');
    const client = await RfbClient.connect(socketStream(socket));
    cleanup.push(() => client.close());
    expect([client.width, client.height]).toEqual([80, 48]);
    await client.update(false);
    expect(Buffer.from(client.pixels.buffer).equals(Buffer.from(fb.pixels.buffer))).toBe(true);
    client.key(0x61, true);
    client.key(0x61, false);
    await tick(50);
    expect(keys).toEqual([30, 30]); // KEY_A down, up
  });

  it('a close from either end reaches the other', async () => {
    const fb = new Framebuffer(16, 16);
    const server = new VncServer({ framebuffer: fb });
    cleanup.push(() => server.close());
    const closed: (string | null)[] = [];
    server.on('client-closed', (_c, reason: string | null) => closed.push(reason));

    // The window closes: the server forgets the client.
    let pair = new MessageChannel();
    server.attach(messagePortStream(electronShaped(pair.port1)));
    let socket = new MessagePortSocket(pair.port2 as unknown as PortLike);
    socket.onmessage = () => {};
    await tick();
    socket.close();
    expect(socket.readyState).toBe('closed');
    await tick(50);
    expect(server.clients).toHaveLength(0);
    expect(closed).toEqual(['closed during the handshake']);

    // The server ends the session (the VM stopped): noVNC hears onclose.
    pair = new MessageChannel();
    const conn = server.attach(messagePortStream(electronShaped(pair.port1)))!;
    socket = new MessagePortSocket(pair.port2 as unknown as PortLike);
    const ends: number[] = [];
    socket.onmessage = () => {};
    socket.onclose = (e) => ends.push(e.code);
    await tick();
    conn.close(null);
    await tick(50);
    expect(ends).toEqual([1000]);
    expect(socket.readyState).toBe('closed');
  });
});
