import { describe, expect, it } from 'vitest';
import { DhcpServer, DhcpType, encodeSearchList, parseDhcp } from './dhcp';
import { parseUserNetOptions } from './options';
import { dhcpOptions } from './testing/sim-guest';
import { ip } from './testing/packets';

function request(mac: number, type: number, extra: number[] = [], flags = 0, ciaddr = 0): Uint8Array {
  const b = new Uint8Array(300);
  const v = new DataView(b.buffer);
  b.set([1, 1, 6, 0]);
  v.setUint32(4, 0xdeadbeef);
  v.setUint16(10, flags);
  v.setUint32(12, ciaddr);
  b.set([0x52, 0x54, 0, 0, 0, mac], 28);
  v.setUint32(236, 0x63825363);
  b.set([53, 1, type, ...extra, 255], 240);
  return b;
}

const u32 = (b: Uint8Array, o = 0): number => new DataView(b.buffer, b.byteOffset).getUint32(o);
const be = (a: number): number[] => [a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255];

function handle(s: DhcpServer, b: Uint8Array) {
  const m = parseDhcp(b);
  if (!m) throw new Error('unparsable');
  return s.handle(m);
}

describe('DHCP server', () => {
  it('offers 10.0.2.15 with mask, router, DNS, lease time and server id, unicast to the client', () => {
    const s = new DhcpServer(parseUserNetOptions([]));
    const { reply } = handle(s, request(1, DhcpType.Discover));
    expect(reply).toBeDefined();
    const o = dhcpOptions(reply!.data);
    expect(o.get(53)![0]).toBe(DhcpType.Offer);
    expect(u32(reply!.data, 16)).toBe(ip('10.0.2.15'));
    expect(u32(o.get(1)!)).toBe(ip('255.255.255.0'));
    expect(u32(o.get(3)!)).toBe(ip('10.0.2.2'));
    expect(u32(o.get(6)!)).toBe(ip('10.0.2.3'));
    expect(u32(o.get(51)!)).toBe(86400);
    expect(u32(o.get(54)!)).toBe(ip('10.0.2.2'));
    expect(reply!.data.length).toBeGreaterThanOrEqual(300);
    expect(reply!.dstIp).toBe(ip('10.0.2.15'));
    expect(Array.from(reply!.dstMac)).toEqual([0x52, 0x54, 0, 0, 0, 1]);
  });

  it('broadcasts when the client sets the broadcast flag', () => {
    const s = new DhcpServer(parseUserNetOptions([]));
    const { reply } = handle(s, request(1, DhcpType.Discover, [], 0x8000));
    expect(reply!.dstIp).toBe(0xffffffff);
    expect(Array.from(reply!.dstMac)).toEqual([255, 255, 255, 255, 255, 255]);
  });

  it('acks a request for the offered address and keeps the lease per MAC', () => {
    const s = new DhcpServer(parseUserNetOptions([]));
    handle(s, request(1, DhcpType.Discover));
    const { reply } = handle(s, request(1, DhcpType.Request, [50, 4, ...be(ip('10.0.2.15')), 54, 4, ...be(ip('10.0.2.2'))]));
    expect(dhcpOptions(reply!.data).get(53)![0]).toBe(DhcpType.Ack);
    expect(s.leaseOf(new Uint8Array([0x52, 0x54, 0, 0, 0, 1]))).toBe(ip('10.0.2.15'));
    // A second client gets the next address; asking for the first one's is refused.
    const other = handle(s, request(2, DhcpType.Discover)).reply!;
    expect(u32(other.data, 16)).toBe(ip('10.0.2.16'));
    const nak = handle(s, request(2, DhcpType.Request, [50, 4, ...be(ip('10.0.2.15'))])).reply!;
    expect(dhcpOptions(nak.data).get(53)![0]).toBe(DhcpType.Nak);
    expect(nak.dstIp).toBe(0xffffffff);
  });

  it('naks an address outside its pool and stays silent for another server', () => {
    const s = new DhcpServer(parseUserNetOptions([]));
    const nak = handle(s, request(1, DhcpType.Request, [50, 4, ...be(ip('192.168.1.5'))])).reply!;
    expect(dhcpOptions(nak.data).get(53)![0]).toBe(DhcpType.Nak);
    expect(handle(s, request(1, DhcpType.Request, [50, 4, ...be(ip('10.0.2.15')), 54, 4, ...be(ip('10.0.2.9'))]))).toEqual({});
  });

  it('has 16 addresses, reports exhaustion, and reuses a released one', () => {
    const s = new DhcpServer(parseUserNetOptions([]));
    for (let m = 1; m <= 16; m++) {
      const r = handle(s, request(m, DhcpType.Discover)).reply!;
      handle(s, request(m, DhcpType.Request, [50, 4, ...r.data.subarray(16, 20)]));
    }
    expect(handle(s, request(17, DhcpType.Discover))).toEqual({ exhausted: true });
    handle(s, request(3, DhcpType.Release, [], 0, ip('10.0.2.17')));
    expect(u32(handle(s, request(17, DhcpType.Discover)).reply!.data, 16)).toBe(ip('10.0.2.17'));
  });

  it('sends hostname, domain and the search list, and no router or DNS with restrict=on', () => {
    const cfg = parseUserNetOptions([
      ['restrict', 'on'],
      ['hostname', 'guest1'],
      ['domainname', 'lan'],
      ['dnssearch', 'a.example'],
      ['dnssearch', 'b.example'],
    ]);
    const o = dhcpOptions(handle(new DhcpServer(cfg), request(1, DhcpType.Discover)).reply!.data);
    expect(o.has(3)).toBe(false);
    expect(o.has(6)).toBe(false);
    expect(new TextDecoder().decode(o.get(12))).toBe('guest1');
    expect(new TextDecoder().decode(o.get(15))).toBe('lan');
    expect(Array.from(o.get(119)!)).toEqual(encodeSearchList(['a.example', 'b.example']));
    expect(encodeSearchList(['a.b'])).toEqual([1, 97, 1, 98, 0]);
  });

  it('splits a search list longer than 255 bytes over several option 119 instances (RFC 3396)', () => {
    const names = Array.from({ length: 10 }, (_, i) => `domain${i}.${'x'.repeat(30)}.example`);
    const cfg = parseUserNetOptions(names.map((n) => ['dnssearch', n] as [string, string]));
    const data = handle(new DhcpServer(cfg), request(1, DhcpType.Discover)).reply!.data;
    expect(Array.from(dhcpOptions(data).get(119)!)).toEqual(encodeSearchList(names));
  });

  it('answers INFORM with an ACK without a lease', () => {
    const s = new DhcpServer(parseUserNetOptions([]));
    const r = handle(s, request(1, DhcpType.Inform, [], 0, ip('10.0.2.20'))).reply!;
    expect(dhcpOptions(r.data).has(51)).toBe(false);
    expect(u32(r.data, 16)).toBe(0);
    expect(r.dstIp).toBe(ip('10.0.2.20'));
  });

  it('refuses malformed messages', () => {
    const good = request(1, DhcpType.Discover);
    expect(parseDhcp(good.subarray(0, 200))).toBeUndefined();
    const cookie = good.slice();
    cookie[236] = 0;
    expect(parseDhcp(cookie)).toBeUndefined();
    const reply = good.slice();
    reply[0] = 2;
    expect(parseDhcp(reply)).toBeUndefined();
    const runaway = good.slice();
    runaway.set([53, 1, 1, 12, 200], 240); // option length past the end
    expect(parseDhcp(runaway)).toBeUndefined();
    const noType = good.slice();
    noType.set([0, 0, 0, 255], 240);
    expect(parseDhcp(noType)).toBeUndefined();
  });
});
