// Feeds the stack random frames and mutations of valid ones (with checksums repaired, so the
// mutations reach past the checksum checks into every parser). The stack must never throw,
// never hit an internal error, keep its memory bounded, and still work afterwards.
import { describe, expect, it } from 'vitest';
import { TX_QUEUE_MAX_FRAMES } from './backend';
import type { HostResolver } from './dns';
import { REASSEMBLY_MAX_BYTES, REASSEMBLY_MAX_DATAGRAMS } from './ipv4-reassembly';
import { parseUserNetOptions } from './options';
import { TCP_MAX_CONNECTIONS } from './tcp-nat';
import {
  arpRequest,
  F,
  icmpEcho,
  ip,
  ipFrame,
  refChecksum,
  tcpFrame,
  udpFrame,
} from './testing/packets';
import { SimGuest } from './testing/sim-guest';
import { UDP_MAX_SESSIONS } from './udp-nat';
import { UserNetwork } from './user-net';

/** xorshift32: a seeded generator so a failure can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const resolver: HostResolver = {
  lookup: async () => ({ exists: true, v4: ['192.0.2.1'], v6: [] }),
  relay: () => Promise.reject(new Error('offline')),
};

function corpus(): Uint8Array[] {
  const host = ip('10.0.2.2');
  const dhcp = new Uint8Array(300);
  dhcp.set([1, 1, 6], 0);
  new DataView(dhcp.buffer).setUint32(236, 0x63825363);
  dhcp.set([53, 1, 1, 50, 4, 10, 0, 2, 15, 255], 240);
  const dns = Uint8Array.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 119, 119, 119, 0, 0, 1, 0, 1]);
  return [
    arpRequest(host),
    udpFrame(0xffffffff, 68, 67, dhcp, 0),
    udpFrame(ip('10.0.2.3'), 5353, 53, dns),
    udpFrame(host, 4000, 9, new Uint8Array(40)),
    ipFrame({ dst: host, proto: 1 }, icmpEcho(1, 1, new Uint8Array(56))),
    ipFrame({ dst: host, proto: 1, id: 9, mf: true }, icmpEcho(1, 2, new Uint8Array(64))),
    ipFrame({ dst: host, proto: 1, id: 9, offset: 72 }, new Uint8Array(30)),
    tcpFrame({ dst: host, sport: 5000, dport: 9, seq: 1, flags: F.SYN, options: [2, 4, 5, 180, 1, 3, 3, 7] }),
    tcpFrame({ dst: host, sport: 5001, dport: 9, seq: 1, ack: 1, flags: F.ACK | F.PSH, data: new Uint8Array(100) }),
    tcpFrame({ dst: host, sport: 5000, dport: 9, seq: 2, ack: 1, flags: F.FIN | F.ACK }),
  ];
}

/** Recomputes the IPv4 header checksum and the transport checksum of a (mutated) frame. */
function repair(f: Uint8Array): void {
  if (f.length < 34 || f[12] !== 8 || f[13] !== 0) return;
  const hl = (f[14]! & 15) * 4;
  if (hl < 20 || 14 + hl > f.length) return;
  f[24] = f[25] = 0;
  const c = refChecksum(f.subarray(14, 14 + hl));
  f[24] = c >> 8;
  f[25] = c & 255;
  const total = Math.min((f[16]! << 8) | f[17]!, f.length - 14);
  const p = f.subarray(14 + hl, 14 + Math.max(hl, total));
  const proto = f[23];
  const pseudo = [...f.subarray(26, 34), 0, proto!, p.length >> 8, p.length & 255];
  const at = proto === 6 ? 16 : proto === 17 ? 6 : proto === 1 ? 2 : -1;
  if (at < 0 || p.length < at + 2) return;
  p[at] = p[at + 1] = 0;
  const s = refChecksum(proto === 1 ? p : [...pseudo, ...p]);
  p[at] = s >> 8;
  p[at + 1] = s & 255;
}

function mutate(r: () => number, base: Uint8Array): Uint8Array {
  let f = base.slice();
  const n = 1 + Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const what = Math.floor(r() * 6);
    if (what === 0 && f.length > 0) f[Math.floor(r() * f.length)] ^= 1 << Math.floor(r() * 8);
    else if (what === 1 && f.length > 0) f[Math.floor(r() * f.length)] = Math.floor(r() * 256);
    else if (what === 2) f = f.subarray(0, Math.floor(r() * f.length)).slice();
    else if (what === 3) {
      const g = new Uint8Array(f.length + Math.floor(r() * 64));
      g.set(f);
      f = g;
    } else if (what === 4 && f.length > 20) {
      // An extreme value in a length-like 16-bit field.
      const at = 14 + Math.floor(r() * Math.min(60, f.length - 16));
      const v = [0, 1, 0xffff, 0x7fff, f.length, f.length - 14][Math.floor(r() * 6)]!;
      f[at] = v >> 8;
      f[at + 1] = v & 255;
    } else if (what === 5 && f.length > 14) f[14] = (f[14]! & 0xf0) | Math.floor(r() * 16); // IHL
  }
  if (r() < 0.8) repair(f);
  return f;
}

describe('fuzzing the user-mode stack with random and mutated frames', () => {
  it.each([1, 2, 3])('seed %i: never throws, stays bounded, still works afterwards', async (seed) => {
    const r = rng(seed * 7919);
    const stack = new UserNetwork({ config: parseUserNetOptions([]), resolver, route: () => '127.0.0.1' });
    let delivered = 0;
    stack.attach(() => (delivered++, r() < 0.9)); // a NIC that is sometimes out of buffers
    const base = corpus();
    const maxUsage = { queuedFrames: 0, reassemblyDatagrams: 0, reassemblyBytes: 0, tcpConnections: 0, udpSessions: 0, arpPendingAddresses: 0 };
    for (let i = 0; i < 6000; i++) {
      let f: Uint8Array;
      if (r() < 0.15) f = Uint8Array.from({ length: Math.floor(r() * 200) }, () => Math.floor(r() * 256));
      else f = mutate(r, base[Math.floor(r() * base.length)]!);
      expect(() => stack.send(f)).not.toThrow();
      if (i % 200 === 0) {
        await new Promise((res) => setImmediate(res));
        stack.receiveReady();
        const u = stack.usage();
        for (const k of Object.keys(u) as (keyof typeof u)[]) maxUsage[k] = Math.max(maxUsage[k], u[k]);
      }
    }
    await new Promise((res) => setTimeout(res, 50));
    expect(stack.counters.get('internalError')).toBe(0);
    expect(stack.lastInternalError).toBeUndefined();
    expect(maxUsage.queuedFrames).toBeLessThanOrEqual(TX_QUEUE_MAX_FRAMES);
    expect(maxUsage.reassemblyDatagrams).toBeLessThanOrEqual(REASSEMBLY_MAX_DATAGRAMS);
    expect(maxUsage.reassemblyBytes).toBeLessThanOrEqual(REASSEMBLY_MAX_BYTES);
    expect(maxUsage.tcpConnections).toBeLessThanOrEqual(TCP_MAX_CONNECTIONS);
    expect(maxUsage.udpSessions).toBeLessThanOrEqual(UDP_MAX_SESSIONS);
    const c = stack.counters.snapshot();
    // The mutations reached deep: drops were counted across many layers.
    const reasons = Object.keys(c).filter((k) => !['rxFrames', 'rxBytes', 'txFrames', 'txBytes'].includes(k));
    expect(reasons.length).toBeGreaterThan(15);
    if (process.env.NET_FUZZ_VERBOSE) console.log(c);
    expect(delivered).toBeGreaterThan(0);

    // Still a working network: a fresh guest gets a lease and a ping answer.
    const g = new SimGuest(stack, { mac: new Uint8Array([0x52, 0x54, 0, 9, 9, 9]) });
    const lease = await g.dhcp();
    expect(lease.router).toBe(ip('10.0.2.2'));
    const pong = await g.ping(ip('10.0.2.2'), Uint8Array.from([1, 2, 3]), 4242);
    expect(Array.from(pong.icmp!.data)).toEqual([1, 2, 3]);
    await stack.close();
  });
});
