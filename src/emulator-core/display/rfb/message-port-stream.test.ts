// The core host's end of the display MessagePort, against a bare peer speaking the wire format
// (chunks of bytes; "close"). The whole path with the renderer's end is
// tests/integration/display-message-port.test.ts.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { type ByteMessagePort, messagePortStream } from './message-port-stream';

const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));

/** Node's port with Electron's MessagePortMain event shape ({ data }). */
function electronShaped(port: MessagePort): ByteMessagePort {
  return {
    postMessage: (m: unknown) => port.postMessage(m),
    on(event: string, listener: (e: { data: unknown }) => void) {
      if (event === 'message') port.on('message', (data) => listener({ data }));
      else port.on('close', () => (listener as () => void)());
      return this;
    },
    start: () => port.start(),
    close: () => port.close(),
  } as ByteMessagePort;
}

function pair() {
  const { port1, port2 } = new MessageChannel();
  const got: unknown[] = [];
  port2.on('message', (m) => got.push(m));
  return { stream: messagePortStream(electronShaped(port1)), peer: port2, got };
}

describe('messagePortStream', () => {
  it('writes right-sized copies (never the pool around a chunk) and reads chunks in order', async () => {
    const { stream, peer, got } = pair();
    stream.write(Buffer.from('RFB 003.008\n', 'latin1'));
    const read: Buffer[] = [];
    stream.on('data', (b: Buffer) => read.push(b));
    peer.postMessage(new TextEncoder().encode('RFB 003.008\n'));
    peer.postMessage(new Uint8Array([1, 2, 3]).buffer);
    await tick();
    expect((got[0] as Uint8Array).buffer.byteLength).toBe(12);
    expect(Buffer.concat(read).toString('latin1')).toBe('RFB 003.008\n\x01\x02\x03');
    stream.destroy();
    await tick();
    expect(got.at(-1)).toBe('close');
  });

  it('ends when the peer says close, and is destroyed by anything but bytes', async () => {
    let { stream, peer } = pair();
    const ended = new Promise((r) => stream.once('close', r));
    stream.resume();
    peer.postMessage('close');
    await ended;
    ({ stream, peer } = pair());
    const failed = new Promise<Error>((r) => stream.once('error', r));
    peer.postMessage({ not: 'bytes' });
    expect((await failed).message).toMatch(/not bytes/);
    peer.close();
  });
});
