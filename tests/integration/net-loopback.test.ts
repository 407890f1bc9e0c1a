// The user-mode stack end to end without a CPU: a simulated guest endpoint (its own small TCP/IP,
// src/emulator-core/net/testing) drives the stack against real host servers on 127.0.0.1.
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseUserNetOptions, splitQemuOptions } from '../../src/emulator-core/net/options';
import { ip } from '../../src/emulator-core/net/testing/packets';
import { SimGuest, type SimTcp } from '../../src/emulator-core/net/testing/sim-guest';
import { UserNetwork } from '../../src/emulator-core/net/user-net';

const MiB = 1024 * 1024;
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

let stack: UserNetwork;
let guest: SimGuest;
let sink: net.Server; // host server: hashes what it receives, replies with the hash
let source: net.Server; // host server: sends N bytes of a known pattern, then closes
let echo: dgram.Socket;
let sinkPort = 0;
let sourcePort = 0;
let echoPort = 0;
const sourceData = randomBytes(10 * MiB);

function listen(srv: net.Server): Promise<number> {
  return new Promise((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as net.AddressInfo).port)));
}

function readAll(c: SimTcp): Promise<Uint8Array> {
  return c.closed().then(() => c.data());
}

beforeAll(async () => {
  sink = net.createServer({ allowHalfOpen: true }, (s) => {
    const h = createHash('sha256');
    let n = 0;
    s.on('data', (d) => {
      h.update(d);
      n += d.length;
    });
    s.on('end', () => s.end(`${n} ${h.digest('hex')}`));
  });
  source = net.createServer({ allowHalfOpen: true }, (s) => {
    s.once('data', (d) => {
      const n = Number(d.toString());
      s.end(sourceData.subarray(0, n));
    });
  });
  sinkPort = await listen(sink);
  sourcePort = await listen(source);
  echo = dgram.createSocket('udp4');
  echo.on('message', (m, r) => echo.send(m, r.port, r.address));
  await new Promise<void>((r) => echo.bind(0, '127.0.0.1', () => r()));
  echoPort = echo.address().port;

  const cfg = parseUserNetOptions(splitQemuOptions('hostfwd=tcp:127.0.0.1:0-:7000,hostfwd=udp:127.0.0.1:0-:7001'));
  stack = new UserNetwork({ config: cfg });
  await stack.start();
  guest = new SimGuest(stack);
  const lease = await guest.dhcp();
  expect(lease.addr).toBe(ip('10.0.2.15'));
});

afterAll(async () => {
  await stack.close();
  await new Promise<void>((r) => sink.close(() => r()));
  await new Promise<void>((r) => source.close(() => r()));
  echo.close();
});

describe('user-mode stack against real host servers on 127.0.0.1', () => {
  it('uploads 10 MiB from the guest to a host server (sha256 matches)', async () => {
    const data = randomBytes(10 * MiB);
    const t0 = performance.now();
    const c = await guest.connect(ip('10.0.2.2'), sinkPort);
    for (let i = 0; i < data.length; i += 256 * 1024) c.write(data.subarray(i, i + 256 * 1024));
    c.end();
    const reply = new TextDecoder().decode(await readAll(c));
    const secs = (performance.now() - t0) / 1000;
    expect(reply).toBe(`${data.length} ${sha(data)}`);
    console.log(`guest->host 10 MiB: ${(10 / secs).toFixed(1)} MiB/s`);
  });

  it('downloads 10 MiB from a host server to the guest (sha256 matches)', async () => {
    const t0 = performance.now();
    const c = await guest.connect(ip('10.0.2.2'), sourcePort);
    c.write(new TextEncoder().encode(String(10 * MiB)));
    c.end();
    const got = await readAll(c);
    const secs = (performance.now() - t0) / 1000;
    expect(got.length).toBe(10 * MiB);
    expect(sha(got)).toBe(sha(sourceData));
    console.log(`host->guest 10 MiB: ${(10 / secs).toFixed(1)} MiB/s`);
  });

  it('carries 50 parallel connections, each 256 KiB up and 256 KiB down', async () => {
    const n = 50;
    const size = 256 * 1024;
    const uploads = Array.from({ length: n }, () => randomBytes(size));
    const results = await Promise.all(
      uploads.map(async (data) => {
        const [up, down] = await Promise.all([guest.connect(ip('10.0.2.2'), sinkPort), guest.connect(ip('10.0.2.2'), sourcePort)]);
        up.write(data);
        up.end();
        down.write(new TextEncoder().encode(String(size)));
        down.end();
        const [reply, got] = await Promise.all([readAll(up), readAll(down)]);
        return { ok: new TextDecoder().decode(reply) === `${size} ${sha(data)}`, down: sha(got) === sha(sourceData.subarray(0, size)) };
      }),
    );
    expect(results.every((r) => r.ok && r.down)).toBe(true);
    expect(stack.counters.get('tcpConnections')).toBeGreaterThanOrEqual(2 * n);
  });

  it('forwards a host port into the guest: 10 MiB each way over hostfwd', async () => {
    const port = stack.boundPorts().find((p) => p.spec.startsWith('tcp'))!.port;
    const toGuest = randomBytes(10 * MiB);
    const fromGuest = randomBytes(10 * MiB);
    let guestGot: Promise<Uint8Array> | undefined;
    guest.listen(7000, (c) => {
      guestGot = readAll(c);
      c.write(fromGuest);
      c.end();
    });
    const host = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    host.on('data', (d) => chunks.push(d));
    const hostDone = new Promise<void>((r) => host.on('end', () => r()));
    host.end(toGuest);
    await hostDone;
    await new Promise((r) => setTimeout(r, 10));
    const got = await guestGot!;
    expect(sha(got)).toBe(sha(toGuest));
    expect(sha(Buffer.concat(chunks))).toBe(sha(fromGuest));
    host.destroy();
  });

  it('relays UDP to a host echo server and back, and hostfwd udp into the guest', async () => {
    const reply = new Promise<Uint8Array>((r) => guest.udpBind(5555, (_src, _sport, d) => r(d)));
    guest.udpSend(ip('10.0.2.2'), 5555, echoPort, new TextEncoder().encode('udp echo'));
    expect(new TextDecoder().decode(await reply)).toBe('udp echo');

    guest.udpBind(7001, (src, sport, d) => guest.udpSend(src, 7001, sport, new Uint8Array([...d].reverse())));
    const port = stack.boundPorts().find((p) => p.spec.startsWith('udp'))!.port;
    const client = dgram.createSocket('udp4');
    const answer = new Promise<Buffer>((r) => client.on('message', (m) => r(m)));
    client.send(Buffer.from('abc'), port, '127.0.0.1');
    expect((await answer).toString()).toBe('cba');
    client.close();
  });

  it('resolves a name the host resolver knows through 10.0.2.3', async () => {
    const q = Buffer.from([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 9, ...Buffer.from('localhost'), 0, 0, 1, 0, 1]);
    const answer = new Promise<Uint8Array>((r) => guest.udpBind(5353, (_s, _p, d) => r(d)));
    guest.udpSend(ip('10.0.2.3'), 5353, 53, q);
    const a = await answer;
    expect(a[0]).toBe(0x12);
    expect(a[3]! & 0xf).toBe(0); // NOERROR
    expect((a[6]! << 8) | a[7]!).toBeGreaterThanOrEqual(1);
    expect(Array.from(a.subarray(a.length - 4))).toEqual([127, 0, 0, 1]);
  });

  it('never sent a frame with a bad checksum and never hit an internal error', () => {
    expect(guest.badChecksums).toBe(0);
    expect(stack.counters.get('internalError')).toBe(0);
    console.log('counters', stack.counters.snapshot());
  });
});
