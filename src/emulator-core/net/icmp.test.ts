import { describe, expect, it } from 'vitest';
import { buildEchoReply, buildIcmpError, IcmpType, parseIcmp, UnreachableCode } from './icmp';
import { parseIpv4, type Datagram, type Ipv4Header } from './ipv4';
import { icmpEcho, ip, ipFrame, parseFrame } from './testing/packets';

function datagram(payload: Uint8Array): Datagram {
  const f = ipFrame({ dst: ip('10.0.2.2'), proto: 1 }, payload);
  return { header: parseIpv4(f) as Ipv4Header, payload: f.subarray(34), quote: f.subarray(14, 42) };
}

describe('ICMP', () => {
  it('answers an echo request with the same identifier, sequence and data', () => {
    const req = icmpEcho(0x1234, 7, Uint8Array.from([9, 8, 7]));
    const d = datagram(req);
    const m = parseIcmp(d.payload)!;
    expect(m.type).toBe(IcmpType.EchoRequest);
    const f = buildEchoReply(d, m, 5);
    f[12] = 8;
    const p = parseFrame(f);
    expect(p.transportOk).toBe(true);
    expect(p.ip).toMatchObject({ src: ip('10.0.2.2'), dst: ip('10.0.2.15'), headerOk: true });
    expect(p.icmp).toMatchObject({ type: 0, id: 0x1234, seq: 7 });
    expect(Array.from(p.icmp!.data)).toEqual([9, 8, 7]);
  });

  it('refuses truncated messages and bad checksums', () => {
    expect(parseIcmp(new Uint8Array(7))).toBeUndefined();
    const m = icmpEcho(1, 1, new Uint8Array(4));
    m[9]! ^= 1;
    expect(parseIcmp(m)).toBeUndefined();
  });

  it('builds an error quoting the IP header and 8 bytes of the offending datagram', () => {
    const d = datagram(icmpEcho(1, 1, new Uint8Array(20)));
    const f = buildIcmpError(ip('10.0.2.2'), d, IcmpType.Unreachable, UnreachableCode.Port, 3);
    f[12] = 8;
    const p = parseFrame(f);
    expect(p.transportOk).toBe(true);
    expect(p.icmp).toMatchObject({ type: 3, code: 3 });
    expect(p.ip!.payload.length).toBe(8 + 28);
  });
});
