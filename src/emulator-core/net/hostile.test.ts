// A hostile guest: floods, truncations, garbage and checksum lies are dropped and counted, with
// no exception and bounded memory.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { HostResolver } from './dns';
import { parseUserNetOptions } from './options';
import { arpRequest, F, icmpEcho, ip, ipFrame, tcpFrame, udpFrame } from './testing/packets';
import { UDP_MAX_SESSIONS } from './udp-nat';
import { UserNetwork, type UserNetworkOptions } from './user-net';

const resolver: HostResolver = {
  lookup: async () => ({ exists: false, v4: [], v6: [] }),
  relay: () => Promise.reject(new Error('offline')),
};
const HOST = ip('10.0.2.2');
const stacks: UserNetwork[] = [];
const closers: (() => void)[] = [];
afterEach(async () => {
  for (const s of stacks.splice(0)) await s.close();
  for (const c of closers.splice(0)) c();
});

function stack(opts: UserNetworkOptions = {}): { n: UserNetwork; out: Uint8Array[] } {
  const n = new UserNetwork({ config: parseUserNetOptions([]), resolver, ...opts });
  stacks.push(n);
  const out: Uint8Array[] = [];
  n.attach((f) => (out.push(f), true));
  // The guest at 10.0.2.15 announces itself, so replies need no ARP.
  n.send(arpRequest(HOST));
  return { n, out };
}

const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('hostile guest', () => {
  it('a SYN flood to a host that never answers holds at most the pending-connect limit', async () => {
    const sockets: net.Socket[] = [];
    const { n } = stack({
      tcp: {
        maxPendingConnects: 32,
        connect: () => {
          const s = new net.Socket(); // never connects: a blackholed destination
          sockets.push(s);
          return s;
        },
      },
      route: () => '192.0.2.1',
    });
    for (let p = 0; p < 1000; p++) n.send(tcpFrame({ dst: ip('198.51.100.7'), sport: 10000 + p, dport: 80, seq: p, flags: F.SYN }));
    expect(n.tcp.pendingConnectCount).toBe(32);
    expect(n.tcp.connectionCount).toBe(32);
    expect(n.counters.get('tcpSynLimit')).toBe(968);
    expect(sockets).toHaveLength(32);
    // Retransmitted SYNs of a pending connection do not open more.
    n.send(tcpFrame({ dst: ip('198.51.100.7'), sport: 10000, dport: 80, seq: 0, flags: F.SYN }));
    expect(sockets).toHaveLength(32);
    for (const s of sockets) s.destroy();
  });

  it('caps the number of connections', async () => {
    const srv = net.createServer((s) => s.on('error', () => {}));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    closers.push(() => srv.close());
    const port = (srv.address() as net.AddressInfo).port;
    const { n } = stack({ tcp: { maxConnections: 10 } });
    for (let p = 0; p < 20; p++) n.send(tcpFrame({ dst: HOST, sport: 20000 + p, dport: port, seq: 1, flags: F.SYN }));
    expect(n.tcp.connectionCount).toBe(10);
    expect(n.counters.get('tcpConnectionLimit')).toBe(10);
  });

  it('drops every truncation of every kind of frame without a reply or an exception', async () => {
    const { n, out } = stack();
    await tick();
    out.length = 0;
    const frames = [
      arpRequest(HOST),
      ipFrame({ dst: HOST, proto: 1 }, icmpEcho(1, 1, new Uint8Array(32))),
      udpFrame(ip('10.0.2.3'), 1000, 53, Uint8Array.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 97, 0, 0, 1, 0, 1])),
      tcpFrame({ dst: HOST, sport: 1, dport: 2, seq: 1, ack: 1, flags: F.ACK, options: [2, 4, 5, 180] }),
    ];
    let sent = 0;
    for (const f of frames) {
      // Every strict prefix that cuts into a header or the data the headers promise.
      for (let len = 0; len < f.length; len++) {
        n.send(f.subarray(0, len).slice());
        sent++;
      }
    }
    await tick(20);
    expect(out).toHaveLength(0);
    expect(n.counters.get('rxFrames')).toBe(sent + 1);
    expect(n.counters.get('internalError')).toBe(0);
    const c = n.counters.snapshot();
    expect(c.ethShort).toBe(4 * 14);
    expect(c.arpMalformed).toBeGreaterThan(0);
    expect(c.ipv4Malformed).toBeGreaterThan(0);
  });

  it('counts bad checksums at each layer and answers none of them', async () => {
    const { n, out } = stack();
    await tick();
    out.length = 0;
    const corrupt = (f: Uint8Array, at: number): Uint8Array => {
      const g = f.slice();
      g[at]! ^= 0x40;
      return g;
    };
    n.send(corrupt(ipFrame({ dst: HOST, proto: 1 }, icmpEcho(1, 1, new Uint8Array(8))), 22)); // IP header (TTL)
    n.send(corrupt(ipFrame({ dst: HOST, proto: 1 }, icmpEcho(1, 1, new Uint8Array(8))), 40)); // ICMP data
    n.send(corrupt(udpFrame(HOST, 1, 2, new Uint8Array(8)), 44)); // UDP data
    n.send(corrupt(tcpFrame({ dst: HOST, sport: 1, dport: 2, seq: 1, flags: F.SYN }), 40)); // TCP seq
    await tick(20);
    expect(n.counters.snapshot()).toMatchObject({ ipv4Checksum: 1, icmpMalformed: 1, udpChecksum: 1, tcpChecksum: 1 });
    expect(out).toHaveLength(0);
  });

  it('drops TCP options garbage and SYNs to broadcast', () => {
    const { n } = stack();
    n.send(tcpFrame({ dst: HOST, sport: 1, dport: 2, seq: 1, flags: F.SYN, options: [2, 0, 0, 0] }));
    n.send(tcpFrame({ dst: ip('10.0.2.255'), sport: 1, dport: 2, seq: 1, flags: F.SYN }));
    n.send(tcpFrame({ dst: 0xffffffff, sport: 1, dport: 2, seq: 1, flags: F.SYN }));
    expect(n.counters.get('tcpBadOptions')).toBe(1);
    expect(n.counters.get('ipv4BadAddress')).toBe(1);
    expect(n.counters.get('tcpNoRoute')).toBe(1); // the subnet broadcast is not routed: RST
  });

  it('overlapping fragments are dropped, not reassembled', () => {
    const { n } = stack();
    const echo = icmpEcho(1, 1, new Uint8Array(64));
    n.send(ipFrame({ dst: HOST, proto: 1, id: 5, mf: true }, echo.subarray(0, 40)));
    n.send(ipFrame({ dst: HOST, proto: 1, id: 5, offset: 32 }, echo.subarray(32)));
    expect(n.counters.get('fragOverlap')).toBe(1);
    expect(n.counters.get('icmpEchoReplies')).toBe(0);
  });

  it('a guest spraying UDP from many ports holds at most the session limit of host sockets', async () => {
    const { n } = stack();
    for (let p = 0; p < UDP_MAX_SESSIONS + 44; p++) n.send(udpFrame(HOST, 30000 + p, 9, new Uint8Array(4)));
    expect(n.usage().udpSessions).toBe(UDP_MAX_SESSIONS);
    expect(n.counters.get('udpSessionLimit')).toBe(44);
  });

  it('frames for a guest address nobody claims are held briefly and bounded', async () => {
    const n = new UserNetwork({ config: parseUserNetOptions([['hostfwd', 'tcp:127.0.0.1:0-10.0.2.40:22']]), resolver });
    stacks.push(n);
    const out: Uint8Array[] = [];
    n.attach((f) => (out.push(f), true));
    await n.start();
    const port = n.boundPorts()[0]!.port;
    const socks = Array.from({ length: 40 }, () => net.connect(port, '127.0.0.1').on('error', () => {}));
    closers.push(() => socks.forEach((s) => s.destroy()));
    for (let i = 0; i < 100 && n.tcp.connectionCount < 40; i++) await tick(10);
    expect(n.tcp.connectionCount).toBe(40);
    expect(n.usage().arpPendingAddresses).toBe(1);
    expect(n.counters.get('arpPendingDropped')).toBe(8); // 32 SYNs held for 10.0.2.40, 8 dropped
    const arps = out.filter((f) => f[12] === 8 && f[13] === 6);
    expect(arps.length).toBeGreaterThan(0);
    expect(arps.length).toBeLessThanOrEqual(4); // one ARP request per 8 held frames, not per frame
  });

  it('source addresses a guest cannot own are refused', () => {
    const { n } = stack();
    for (const src of ['255.255.255.255', '224.0.0.1', '127.0.0.1', '240.0.0.1']) {
      n.send(ipFrame({ src: ip(src), dst: HOST, proto: 1 }, icmpEcho(1, 1, new Uint8Array(4))));
    }
    n.send(ipFrame({ src: 0, dst: HOST, proto: 1 }, icmpEcho(1, 1, new Uint8Array(4))));
    expect(n.counters.get('ipv4BadAddress')).toBe(5);
    expect(n.counters.get('icmpEchoReplies')).toBe(0);
  });
});
