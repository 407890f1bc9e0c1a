import { describe, expect, it } from 'vitest';
import { buildTcp, parseTcp, seqGt, seqLt, TcpFlag } from './tcp-segment';
import { F, ip, parseFrame, tcpPayload } from './testing/packets';

const src = ip('10.0.2.15');
const dst = ip('93.184.216.34');

describe('TCP segment parsing', () => {
  it('reads header fields, MSS and window scale', () => {
    const p = tcpPayload({ dst, sport: 1000, dport: 80, seq: 0xfffffff0, ack: 5, flags: F.SYN, window: 29200, options: [2, 4, 0x05, 0xb4, 1, 3, 3, 7] });
    const s = parseTcp(p, src, dst);
    expect(s).toMatchObject({ srcPort: 1000, dstPort: 80, seq: 0xfffffff0, ack: 5, flags: F.SYN, window: 29200, mss: 1460, wscale: 7 });
  });

  it('clamps a window scale above 14 (RFC 7323 2.3) and ignores options of the wrong length', () => {
    const p = tcpPayload({ dst, sport: 1, dport: 2, seq: 1, flags: F.SYN, options: [3, 3, 20, 1, 2, 3, 1, 1] });
    const s = parseTcp(p, src, dst);
    expect(s).toMatchObject({ wscale: 14 });
    expect((s as { mss?: number }).mss).toBeUndefined();
  });

  it.each([
    ['a zero option length', [8, 0, 1, 1]],
    ['a length past the header', [2, 40, 0, 0]],
    ['a kind with no length byte', [1, 1, 1, 2]],
  ])('refuses %s as tcpBadOptions', (_, options) => {
    expect(parseTcp(tcpPayload({ dst, sport: 1, dport: 2, seq: 1, flags: F.SYN, options }), src, dst)).toBe('tcpBadOptions');
  });

  it('refuses truncated headers, bad data offsets and bad checksums', () => {
    const p = tcpPayload({ dst, sport: 1, dport: 2, seq: 1, flags: F.ACK, data: new Uint8Array(10) });
    expect(parseTcp(p.subarray(0, 19), src, dst)).toBe('tcpMalformed');
    const badOff = p.slice();
    badOff[12] = 0x40; // 16 bytes
    expect(parseTcp(badOff, src, dst)).toBe('tcpMalformed');
    const past = p.slice();
    past[12] = 0xf0; // 60 bytes > 30
    expect(parseTcp(past, src, dst)).toBe('tcpMalformed');
    const sum = p.slice();
    sum[25] ^= 1;
    expect(parseTcp(sum, src, dst)).toBe('tcpChecksum');
    expect(parseTcp(p, src, ip('10.0.2.3'))).toBe('tcpChecksum'); // the pseudo-header counts
  });
});

describe('TCP segment building', () => {
  it('builds segments the reference checker accepts, with options and data', () => {
    const f = buildTcp(
      { src: dst, dst: src, srcPort: 80, dstPort: 1000, seq: 7, ack: 9, flags: TcpFlag.SYN | TcpFlag.ACK, window: 1234, mss: 1460, wscale: 5, ipId: 3 },
      5,
      (b, at) => b.set([1, 2, 3, 4, 5], at),
    );
    f[12] = 8;
    const p = parseFrame(f);
    expect(p.ip!.headerOk).toBe(true);
    expect(p.ip!.df).toBe(true);
    expect(p.transportOk).toBe(true);
    expect(p.tcp).toMatchObject({ sport: 80, dport: 1000, seq: 7, ack: 9, flags: 0x12, window: 1234, mss: 1460, wscale: 5 });
    expect(Array.from(p.tcp!.data)).toEqual([1, 2, 3, 4, 5]);
  });

  it('compares sequence numbers modulo 2^32', () => {
    expect(seqLt(0xfffffff0, 5)).toBe(true);
    expect(seqGt(5, 0xfffffff0)).toBe(true);
    expect(seqLt(5, 5)).toBe(false);
  });
});
