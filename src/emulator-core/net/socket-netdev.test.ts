import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame } from './framing';
import { parseSocketNetdevOptions, SocketNetdev } from './socket-netdev';
import { splitQemuOptions } from './options';

const open: SocketNetdev[] = [];
afterEach(async () => {
  for (const n of open.splice(0)) await n.close();
});

function netdev(...args: ConstructorParameters<typeof SocketNetdev>): SocketNetdev {
  const n = new SocketNetdev(...args);
  open.push(n);
  return n;
}

function collect(n: SocketNetdev): Uint8Array[] {
  const got: Uint8Array[] = [];
  n.attach((f) => (got.push(f), true));
  return got;
}

const until = async (cond: () => boolean, ms = 2000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('-netdev socket options', () => {
  it('parses listen, connect and udp, binding 127.0.0.1 for an empty listen host', () => {
    const p = (s: string) => parseSocketNetdevOptions('socket', splitQemuOptions(s));
    expect(p('id=n1,listen=:1234')).toEqual({ kind: 'listen', host: '127.0.0.1', port: 1234 });
    expect(p('listen=0.0.0.0:99')).toEqual({ kind: 'listen', host: '0.0.0.0', port: 99 });
    expect(p('connect=127.0.0.1:1234')).toEqual({ kind: 'connect', host: '127.0.0.1', port: 1234 });
    expect(p('udp=127.0.0.1:5000,localaddr=:5001')).toMatchObject({ kind: 'udp', remotePort: 5000, localHost: '127.0.0.1', localPort: 5001 });
    expect(() => p('listen=:1,connect=a:2')).toThrow('exactly one');
    expect(() => p('connect=:1234')).toThrow('expected host:port');
    expect(() => p('mcast=230.0.0.1:1234')).toThrow('mcast= is not supported');
    const s = parseSocketNetdevOptions('stream', splitQemuOptions('server=on,addr.type=unix,addr.path=/tmp/x'));
    expect(s).toEqual({ kind: 'listen-unix', path: '/tmp/x' });
  });
});

describe('SocketNetdev', () => {
  it('links two backends over TCP with QEMU framing, both ways', async () => {
    const a = netdev({ kind: 'listen', host: '127.0.0.1', port: 0 });
    await a.start();
    const b = netdev({ kind: 'connect', host: '127.0.0.1', port: a.listenPort! });
    await b.start();
    const ga = collect(a);
    const gb = collect(b);
    await until(() => a.connected);
    for (let i = 0; i < 100; i++) a.send(Uint8Array.from({ length: 60 + i * 13 }, (_, j) => (i + j) & 255));
    b.send(Uint8Array.from([1, 2, 3]));
    await until(() => gb.length === 100 && ga.length === 1);
    expect(gb.every((f, i) => f.length === 60 + i * 13 && f[0] === (i & 255))).toBe(true);
    expect(Array.from(ga[0]!)).toEqual([1, 2, 3]);
  });

  it('speaks the framing to a hand-written peer, and drops a peer that sends a bad length', async () => {
    const a = netdev({ kind: 'listen', host: '127.0.0.1', port: 0 });
    await a.start();
    const got = collect(a);
    const peer = net.connect(a.listenPort!, '127.0.0.1');
    const fromA: Buffer[] = [];
    peer.on('data', (d) => fromA.push(d));
    await new Promise((r) => peer.once('connect', r));
    await until(() => a.connected);
    peer.write(encodeFrame(Uint8Array.from([9, 9])));
    a.send(Uint8Array.from([5, 6, 7, 8]));
    await until(() => got.length === 1 && Buffer.concat(fromA).length === 8);
    expect(Array.from(Buffer.concat(fromA))).toEqual([0, 0, 0, 4, 5, 6, 7, 8]);
    const closed = new Promise((r) => peer.once('close', r));
    peer.write(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    await closed;
    expect(a.counters.get('linkFramingError')).toBe(1);
    await until(() => !a.connected);
    a.send(Uint8Array.from([1]));
    expect(a.counters.get('linkNoPeer')).toBe(1);
  });

  it('links over a unix socket', async () => {
    const p = path.join(os.tmpdir(), `viv-net-${process.pid}-${Date.now()}.sock`);
    const a = netdev({ kind: 'listen-unix', path: p });
    await a.start();
    const b = netdev({ kind: 'connect-unix', path: p });
    await b.start();
    const ga = collect(a);
    await until(() => a.connected);
    b.send(Uint8Array.from([4, 2]));
    await until(() => ga.length === 1);
  });

  it('links over UDP, one frame per datagram', async () => {
    const a = netdev({ kind: 'udp', remoteHost: '127.0.0.1', remotePort: 47611, localHost: '127.0.0.1', localPort: 47610 });
    const b = netdev({ kind: 'udp', remoteHost: '127.0.0.1', remotePort: 47610, localHost: '127.0.0.1', localPort: 47611 });
    await a.start();
    await b.start();
    const gb = collect(b);
    a.send(Uint8Array.from([1, 2, 3, 4]));
    await until(() => gb.length === 1);
  });

  it('fails clearly when the listen port is taken or nobody listens', async () => {
    const a = netdev({ kind: 'listen', host: '127.0.0.1', port: 0 });
    await a.start();
    const port = a.listenPort!;
    await expect(netdev({ kind: 'listen', host: '127.0.0.1', port }).start()).rejects.toThrow(
      `-netdev socket listen=127.0.0.1:${port}: address already in use`,
    );
    await a.close();
    await expect(netdev({ kind: 'connect', host: '127.0.0.1', port }).start()).rejects.toThrow('connection refused');
  });
});
