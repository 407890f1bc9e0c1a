// The display window's MessagePort dressed as noVNC's raw channel, against a bare peer port
// speaking the wire format (chunks of bytes; "close"). The whole path with a real VNC server is
// tests/integration/display-message-port.test.ts. (MessageChannel is the global one: Node's is the DOM's.)
import { describe, expect, it } from 'vitest';
import { MessagePortSocket, type PortLike } from './message-port-socket';

const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));

function pair() {
  const { port1, port2 } = new MessageChannel();
  const got: unknown[] = [];
  port1.onmessage = (e: MessageEvent) => got.push(e.data);
  return { peer: port1, socket: new MessagePortSocket(port2 as unknown as PortLike), got };
}

describe('MessagePortSocket', () => {
  it('has what noVNC checks on a raw channel, and is open at once', () => {
    const { socket, peer } = pair();
    const props = [...Object.keys(socket), ...Object.getOwnPropertyNames(Object.getPrototypeOf(socket))];
    for (const p of ['send', 'close', 'binaryType', 'onerror', 'onmessage', 'onopen', 'onclose', 'protocol', 'readyState']) expect(props).toContain(p);
    expect(socket.readyState).toBe('open');
    peer.close();
  });

  it('keeps bytes that came before onmessage, in order, then delivers as they come', async () => {
    const { socket, peer } = pair();
    peer.postMessage(new TextEncoder().encode('RFB 003.008\n'));
    peer.postMessage(new Uint8Array([1, 2]).buffer);
    await tick();
    const seen: number[][] = [];
    socket.onmessage = (e) => seen.push([...new Uint8Array(e.data)]);
    peer.postMessage(new Uint8Array([3]));
    await tick();
    expect(seen.map((s) => s.length)).toEqual([12, 2, 1]);
    expect(seen[1]).toEqual([1, 2]);
    peer.close();
  });

  it('sends copies of the window of noVNC\'s send buffer it is given', async () => {
    const { socket, peer, got } = pair();
    const sendBuffer = new Uint8Array(64).fill(7);
    socket.send(new Uint8Array(sendBuffer.buffer, 8, 4));
    await tick();
    expect(sendBuffer.byteLength).toBe(64); // not transferred away
    expect(got[0]).toBeInstanceOf(Uint8Array);
    expect([...(got[0] as Uint8Array)]).toEqual([7, 7, 7, 7]);
    expect((got[0] as Uint8Array).buffer.byteLength).toBe(4);
    peer.close();
  });

  it('says close to the peer, and hears it from the peer', async () => {
    let { socket, got } = pair();
    const closes: number[] = [];
    socket.onclose = (e) => closes.push(e.code);
    socket.close();
    socket.send(new Uint8Array([1]));
    await tick();
    expect(got).toEqual(['close']);
    expect(socket.readyState).toBe('closed');

    const other = pair();
    socket = other.socket;
    socket.onclose = (e) => closes.push(e.code);
    other.peer.postMessage('close');
    await tick();
    expect(socket.readyState).toBe('closed');
    expect(closes).toEqual([1000, 1000]);
    got = other.got;
    expect(got).toEqual([]);
  });

  it('ends the session when the peer sends something that is not bytes', async () => {
    const { socket, peer, got } = pair();
    peer.postMessage({ evil: true });
    await tick();
    expect(socket.readyState).toBe('closed');
    expect(got).toEqual(['close']);
  });
});
