import { describe, expect, it } from 'vitest';
import { NetCounters } from './counters';
import { parseIpv4, type Ipv4Header } from './ipv4';
import {
  Reassembler,
  REASSEMBLY_MAX_BYTES,
  REASSEMBLY_MAX_DATAGRAMS,
  REASSEMBLY_MAX_FRAGMENTS,
  REASSEMBLY_TIMEOUT_MS,
} from './ipv4-reassembly';
import { ip, ipFrame } from './testing/packets';

function frag(id: number, offset: number, len: number, mf: boolean, fill = 0): [Ipv4Header, Uint8Array, Uint8Array] {
  const data = Uint8Array.from({ length: len }, (_, i) => (fill + offset + i) & 255);
  const f = ipFrame({ dst: ip('10.0.2.2'), proto: 17, id, offset, mf }, data);
  const h = parseIpv4(f) as Ipv4Header;
  return [h, f.subarray(34), f.subarray(14, 42)];
}

function setup(): { r: Reassembler; c: NetCounters; clock: { t: number } } {
  const c = new NetCounters();
  const clock = { t: 0 };
  return { r: new Reassembler(c, () => clock.t), c, clock };
}

describe('IPv4 reassembly', () => {
  it('rebuilds a datagram from fragments in any order', () => {
    const { r, c } = setup();
    expect(r.add(...frag(1, 16, 8, true))).toBeUndefined();
    expect(r.add(...frag(1, 24, 5, false))).toBeUndefined();
    const d = r.add(...frag(1, 0, 16, true));
    expect(d).toBeDefined();
    expect(d!.payload.length).toBe(29);
    expect(Array.from(d!.payload)).toEqual(Array.from({ length: 29 }, (_, i) => i));
    expect(d!.header.totalLength).toBe(49);
    expect(c.get('fragReassembled')).toBe(1);
    expect(r.pendingDatagrams).toBe(0);
    expect(r.pendingBytes).toBe(0);
  });

  it('drops the whole datagram on an overlap, and on an exact duplicate', () => {
    const { r, c } = setup();
    r.add(...frag(2, 0, 16, true));
    expect(r.add(...frag(2, 8, 16, true))).toBeUndefined();
    expect(c.get('fragOverlap')).toBe(1);
    expect(r.pendingDatagrams).toBe(0);
    r.add(...frag(3, 0, 16, true));
    r.add(...frag(3, 0, 16, true));
    expect(c.get('fragOverlap')).toBe(2);
    // A later fragment of a dropped datagram starts a new partial one that never completes.
    expect(r.add(...frag(3, 16, 4, false))).toBeUndefined();
  });

  it('refuses fragments with impossible lengths or offsets', () => {
    const { r, c } = setup();
    r.add(...frag(4, 0, 12, true)); // not a multiple of 8 but more follow
    const [h, p, q] = frag(5, 65528, 8, false);
    r.add(h, p, q); // ends past 65535
    r.add(...frag(6, 16, 8, false));
    r.add(...frag(6, 24, 8, true)); // beyond the known end
    r.add(...frag(7, 8, 8, false));
    r.add(...frag(7, 8, 16, false)); // two different ends
    expect(c.get('fragInvalid')).toBe(4);
  });

  it('bounds partial datagrams, fragments per datagram and bytes held', () => {
    const { r, c } = setup();
    for (let id = 0; id < REASSEMBLY_MAX_DATAGRAMS + 10; id++) r.add(...frag(id, 8, 8, true));
    expect(r.pendingDatagrams).toBe(REASSEMBLY_MAX_DATAGRAMS);
    expect(c.get('fragLimit')).toBe(10);

    const s = setup();
    for (let i = 0; i <= REASSEMBLY_MAX_FRAGMENTS; i++) s.r.add(...frag(9, 8 + i * 8, 8, true));
    expect(s.c.get('fragLimit')).toBe(1);
    expect(s.r.pendingDatagrams).toBe(0);

    const b = setup();
    let id = 0;
    // 60 datagrams of up to 63 KiB each would be 3.7 MiB: the byte limit stops it first.
    for (; id < 60; id++) for (let off = 8; off < 64000; off += 1480) b.r.add(...frag(id, off, 1480, true));
    expect(b.r.pendingBytes).toBeLessThanOrEqual(REASSEMBLY_MAX_BYTES);
    expect(b.c.get('fragLimit')).toBeGreaterThan(0);
  });

  it('drops partial datagrams after the timeout', () => {
    const { r, c, clock } = setup();
    r.add(...frag(1, 0, 8, true));
    clock.t = REASSEMBLY_TIMEOUT_MS - 1;
    r.expire();
    expect(r.pendingDatagrams).toBe(1);
    clock.t = REASSEMBLY_TIMEOUT_MS;
    r.expire();
    expect(r.pendingDatagrams).toBe(0);
    expect(c.get('fragTimeout')).toBe(1);
  });
});
