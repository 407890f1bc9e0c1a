import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseUserNetOptions, splitQemuOptions } from './options';
import { arpRequest, GUEST_MAC, ip, ipFrame, parseFrame, tcpFrame, F } from './testing/packets';
import { SimGuest } from './testing/sim-guest';
import { UserNetwork } from './user-net';
import type { HostResolver } from './dns';

const resolver: HostResolver = {
  lookup: async (name) => (name === 'localhost' ? { exists: true, v4: ['127.0.0.1'], v6: ['::1'] } : { exists: false, v4: [], v6: [] }),
  relay: () => Promise.reject(new Error('no relay in tests')),
};

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function stack(options = ''): UserNetwork {
  const cfg = parseUserNetOptions(splitQemuOptions(options).filter(([k]) => k !== '' || false));
  const n = new UserNetwork({ config: cfg, resolver });
  cleanups.push(() => n.close());
  return n;
}

function server(handler: (s: net.Socket) => void): Promise<number> {
  const srv = net.createServer({ allowHalfOpen: true }, handler);
  cleanups.push(() => new Promise<void>((r) => srv.close(() => r())));
  return new Promise((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as net.AddressInfo).port)));
}

describe('UserNetwork: the virtual LAN', () => {
  it('answers ARP for the gateway and DNS with slirp MACs, and nothing else', async () => {
    const n = stack();
    const g = new SimGuest(n);
    const reply = g.waitFor((p) => p.type === 0x0806);
    g.send(arpRequest(ip('10.0.2.2')));
    const p = await reply;
    expect(Array.from(p.srcMac)).toEqual([0x52, 0x55, 10, 0, 2, 2]);
    const dnsReply = g.waitFor((p) => p.type === 0x0806);
    g.send(arpRequest(ip('10.0.2.3')));
    expect(Array.from((await dnsReply).srcMac)).toEqual([0x52, 0x55, 10, 0, 2, 3]);
    g.send(arpRequest(ip('10.0.2.77')));
    await new Promise((r) => setTimeout(r, 20));
    expect(n.counters.get('arpReplies')).toBe(2);
  });

  it('leases 10.0.2.15 with gateway 10.0.2.2 and DNS 10.0.2.3 by DHCP', async () => {
    const n = stack('hostname=vm1,dnssearch=example.org');
    const g = new SimGuest(n);
    const lease = await g.dhcp();
    expect(lease.addr).toBe(ip('10.0.2.15'));
    expect(lease.router).toBe(ip('10.0.2.2'));
    expect(lease.dns).toBe(ip('10.0.2.3'));
    expect(new TextDecoder().decode(lease.options.get(12))).toBe('vm1');
    expect(Array.from(lease.options.get(119)!)).toEqual([7, ...Buffer.from('example'), 3, ...Buffer.from('org'), 0]);
    expect(g.badChecksums).toBe(0);
  });

  it('answers ping to the gateway, fragmented ones too, and counts pings to outside hosts', async () => {
    const n = stack();
    const g = new SimGuest(n);
    g.send(arpRequest(ip('10.0.2.2')));
    const small = await g.ping(ip('10.0.2.2'), new Uint8Array([1, 2, 3, 4]), 1);
    expect(Array.from(small.icmp!.data)).toEqual([1, 2, 3, 4]);
    const big = new Uint8Array(4000).map((_, i) => i * 7);
    const r = g.ping(ip('10.0.2.2'), big, 2);
    const reply = await r;
    expect(Buffer.from(reply.icmp!.data).equals(Buffer.from(big))).toBe(true);
    expect(n.counters.get('fragReassembled')).toBe(1);
    g.send(ipFrame({ dst: ip('192.0.2.1'), proto: 1 }, new Uint8Array([8, 0, 0xf7, 0xff, 0, 0, 0, 0])));
    expect(n.counters.get('icmpNoRoute')).toBe(1);
    expect(g.badChecksums).toBe(0);
  });

  it('drops and counts IPv6, runts and unknown EtherTypes', () => {
    const n = stack();
    const v6 = new Uint8Array(60);
    v6[12] = 0x86;
    v6[13] = 0xdd;
    n.send(v6);
    n.send(new Uint8Array(10));
    const other = new Uint8Array(60);
    other[12] = 0x88;
    other[13] = 0xcc;
    n.send(other);
    expect(n.counters.snapshot()).toMatchObject({ ipv6Dropped: 1, ethShort: 1, ethUnknownType: 1, rxFrames: 3 });
  });
});

describe('UserNetwork: TCP NAT', () => {
  it('connects the guest to a host server through 10.0.2.2 and carries data both ways', async () => {
    const port = await server((s) => s.pipe(s));
    const n = stack();
    const g = new SimGuest(n);
    await g.dhcp();
    const c = await g.connect(ip('10.0.2.2'), port);
    c.write(new TextEncoder().encode('hello, host'));
    c.end();
    await c.closed();
    expect(new TextDecoder().decode(c.data())).toBe('hello, host');
    expect(g.badChecksums).toBe(0);
  });

  it('refuses with RST when the host port is closed', async () => {
    const port = await server(() => {});
    const n = stack();
    const g = new SimGuest(n);
    await g.dhcp();
    // A port that was just freed is closed.
    const closedPort = await new Promise<number>((r) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => r(p));
      });
    });
    expect(port).toBeGreaterThan(0);
    await expect(g.connect(ip('10.0.2.2'), closedPort)).rejects.toThrow(/refused/);
    expect(n.counters.get('tcpConnectFailed')).toBe(1);
  });

  it('answers a segment for no connection with RST (RFC 793 reset generation)', async () => {
    const n = stack();
    const g = new SimGuest(n);
    await g.dhcp();
    const rst = g.waitFor((p) => p.tcp !== undefined);
    g.send(tcpFrame({ dst: ip('10.0.2.2'), sport: 1234, dport: 80, seq: 100, ack: 5555, flags: F.ACK }));
    const t = (await rst).tcp!;
    expect(t.flags & F.RST).toBeTruthy();
    expect(t.seq).toBe(5555);
  });

  it('with restrict=on drops guest connections and pings outside but keeps DHCP', async () => {
    const port = await server((s) => s.end());
    const n = stack('restrict=on');
    const g = new SimGuest(n);
    const lease = await g.dhcp();
    expect(lease.router).toBeUndefined();
    expect(lease.dns).toBeUndefined();
    g.sendTcp({ dst: ip('10.0.2.2'), sport: 999, dport: port, seq: 1, flags: F.SYN });
    await new Promise((r) => setTimeout(r, 50));
    expect(n.counters.get('ipv4Restricted')).toBe(1);
    expect(n.tcp.connectionCount).toBe(0);
  });
});

describe('UserNetwork: hostfwd', () => {
  it('forwards a host TCP port to the guest', async () => {
    const n = stack('hostfwd=tcp:127.0.0.1:0-:7000');
    await n.start();
    const g = new SimGuest(n);
    await g.dhcp();
    g.listen(7000, (c) => {
      c.onData = (d) => c.write(d);
    });
    const port = n.boundPorts()[0]!.port;
    const sock = net.connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    sock.on('data', (d) => got.push(d));
    sock.write('ping through hostfwd');
    await new Promise((r) => setTimeout(r, 200));
    sock.destroy();
    expect(Buffer.concat(got).toString()).toBe('ping through hostfwd');
  });

  it('fails at start naming the rule when the host port is taken', async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => taken.close(() => r())));
    const port = (taken.address() as net.AddressInfo).port;
    const n = stack(`hostfwd=tcp::${port}-:22`);
    await expect(n.start()).rejects.toThrow(`hostfwd=tcp::${port}-:22: host tcp port ${port} on 127.0.0.1 is already in use`);
  });

  it('sends the first SYN only after learning the guest MAC by ARP', async () => {
    const n = stack('hostfwd=tcp:127.0.0.1:0-:22');
    await n.start();
    const frames: Uint8Array[] = [];
    n.attach((f) => (frames.push(f), true));
    const sock = net.connect(n.boundPorts()[0]!.port, '127.0.0.1');
    sock.on('error', () => {});
    cleanups.push(() => void sock.destroy());
    await new Promise((r) => setTimeout(r, 100));
    const arp = frames.map(parseFrame).find((p) => p.type === 0x0806);
    expect(arp).toBeDefined();
    // The guest answers: the held SYN goes out.
    const reply = arpRequest(ip('10.0.2.2'), ip('10.0.2.15'), GUEST_MAC);
    n.send(reply);
    await new Promise((r) => setTimeout(r, 20));
    const syn = frames.map(parseFrame).find((p) => p.tcp && p.tcp.flags === F.SYN);
    expect(syn?.tcp?.dport).toBe(22);
    expect(syn?.tcp?.mss).toBe(1460);
  });
});

describe('UserNetwork: ICMP errors for UDP', () => {
  it('answers UDP to an unused port of the DNS address, and to an unrouted address, with ICMP unreachable', async () => {
    const n = stack();
    const g = new SimGuest(n);
    await g.dhcp();
    const err = g.waitFor((p) => p.icmp?.type === 3);
    g.udpSend(ip('10.0.2.3'), 4444, 5000, new Uint8Array(4));
    const e = await err;
    expect(e.icmp!.code).toBe(3);
    expect(e.ip!.src).toBe(ip('10.0.2.3'));
    const err2 = g.waitFor((p) => p.icmp?.type === 3);
    g.udpSend(ip('10.0.2.99'), 4444, 5000, new Uint8Array(4));
    expect((await err2).icmp!.code).toBe(1);
    // Broadcasts get no answer at all.
    g.udpSend(ip('10.0.2.255'), 137, 137, new Uint8Array(4));
    expect(n.counters.get('udpNoRoute')).toBe(3);
    expect(g.badChecksums).toBe(0);
  });
});
