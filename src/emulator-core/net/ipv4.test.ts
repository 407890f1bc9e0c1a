import { describe, expect, it } from 'vitest';
import { fragmentIpv4Frame, IP_PAYLOAD_OFFSET, IpProto, newIpv4Frame, parseIpv4 } from './ipv4';
import { ip, ipFrame, parseFrame as parseRaw, refChecksum } from './testing/packets';

/** newIpv4Frame leaves the Ethernet header to the sender: fill in the EtherType to parse it. */
const parseFrame = (f: Uint8Array): ReturnType<typeof parseRaw> => {
  const g = f.slice();
  g[12] = 0x08;
  return parseRaw(g);
};

describe('IPv4 header parsing', () => {
  const good = ipFrame({ dst: ip('10.0.2.2'), proto: 17, id: 0x1234, ttl: 7 }, new Uint8Array(12));

  it('reads every field of a valid header', () => {
    const h = parseIpv4(good);
    expect(h).toMatchObject({
      headerLength: 20,
      totalLength: 32,
      id: 0x1234,
      ttl: 7,
      protocol: 17,
      src: ip('10.0.2.15'),
      dst: ip('10.0.2.2'),
      moreFragments: false,
      fragmentOffset: 0,
    });
  });

  it('ignores Ethernet padding after totalLength', () => {
    const padded = new Uint8Array(good.length + 10);
    padded.set(good);
    expect(typeof parseIpv4(padded)).toBe('object');
  });

  it('accepts options (IHL > 5) and skips them', () => {
    const f = ipFrame({ dst: 1, proto: 1, options: Uint8Array.from([1, 1, 1, 0]) }, new Uint8Array(8));
    expect(parseIpv4(f)).toMatchObject({ headerLength: 24, totalLength: 32 });
  });

  const mutate = (fn: (f: Uint8Array) => void, fixSum = true): Uint8Array => {
    const f = good.slice();
    fn(f);
    if (fixSum) {
      f[24] = 0;
      f[25] = 0;
      const c = refChecksum(f.subarray(14, 14 + (f[14]! & 15) * 4));
      f[24] = c >> 8;
      f[25] = c & 255;
    }
    return f;
  };

  it.each([
    ['truncated header', good.subarray(0, 30), 'ipv4Malformed'],
    ['version 6', mutate((f) => (f[14] = 0x65)), 'ipv4Malformed'],
    ['IHL 4', mutate((f) => (f[14] = 0x44)), 'ipv4Malformed'],
    ['IHL past the frame', mutate((f) => (f[14] = 0x4f)), 'ipv4Malformed'],
    ['total length below header', mutate((f) => (f[17] = 10)), 'ipv4Malformed'],
    ['total length past the frame', mutate((f) => (f[17] = 200)), 'ipv4Malformed'],
    ['the reserved flag', mutate((f) => (f[20] = 0x80)), 'ipv4Malformed'],
    ['a bad checksum', mutate((f) => (f[22] = 1), false), 'ipv4Checksum'],
  ] as const)('refuses %s', (_, frame, err) => {
    expect(parseIpv4(frame)).toBe(err);
  });
});

describe('IPv4 building and fragmentation', () => {
  it('builds a header that the reference checksum accepts', () => {
    const f = newIpv4Frame({ src: ip('10.0.2.2'), dst: ip('10.0.2.15'), protocol: IpProto.UDP, id: 9 }, 100);
    const p = parseFrame(f);
    expect(p.ip).toMatchObject({ headerOk: true, src: ip('10.0.2.2'), dst: ip('10.0.2.15'), ttl: 64, id: 9 });
    expect(f.length).toBe(IP_PAYLOAD_OFFSET + 100);
  });

  it('splits a datagram over the MTU into 8-byte aligned fragments that rebuild it', () => {
    const len = 4000;
    const f = newIpv4Frame({ src: 1, dst: 2, protocol: IpProto.UDP, id: 77 }, len);
    for (let i = 0; i < len; i++) f[IP_PAYLOAD_OFFSET + i] = i & 255;
    const parts = fragmentIpv4Frame(f, 1500);
    expect(parts).toHaveLength(3);
    const rebuilt = new Uint8Array(len);
    parts.forEach((p, i) => {
      const q = parseFrame(p);
      expect(q.ip!.headerOk).toBe(true);
      expect(q.ip!.mf).toBe(i < 2);
      expect(q.ip!.offset % 8).toBe(0);
      expect(p.length - 14).toBeLessThanOrEqual(1500);
      rebuilt.set(q.ip!.payload, q.ip!.offset);
    });
    expect(rebuilt.every((b, i) => b === (i & 255))).toBe(true);
  });

  it('leaves a datagram that fits alone, and refuses one over 65535 bytes', () => {
    const f = newIpv4Frame({ src: 1, dst: 2, protocol: 1, id: 1 }, 1480);
    expect(fragmentIpv4Frame(f, 1500)).toEqual([f]);
    expect(() => newIpv4Frame({ src: 1, dst: 2, protocol: 1, id: 1 }, 65516)).toThrow(RangeError);
  });
});
