import { describe, expect, it } from 'vitest';
import { ip } from './testing/packets';
import { parseHostForward, parseUserNetOptions, splitQemuOptions } from './options';

describe('-netdev user options', () => {
  it('defaults to QEMU\'s 10.0.2.0/24, host .2, DNS .3, DHCP from .15', () => {
    const c = parseUserNetOptions([]);
    expect(c).toMatchObject({
      network: ip('10.0.2.0'),
      netmask: ip('255.255.255.0'),
      host: ip('10.0.2.2'),
      dns: ip('10.0.2.3'),
      dhcpStart: ip('10.0.2.15'),
      restrict: false,
    });
  });

  it('derives addresses from net= with a prefix length or a mask', () => {
    expect(parseUserNetOptions([['net', '192.168.76.0/24']])).toMatchObject({ host: ip('192.168.76.2'), dhcpStart: ip('192.168.76.15') });
    expect(parseUserNetOptions([['net', '172.16.0.0/255.255.0.0']])).toMatchObject({ netmask: ip('255.255.0.0'), dns: ip('172.16.0.3') });
    expect(() => parseUserNetOptions([['net', '10.0.0.0/255.0.255.0']])).toThrow(/bad netmask/);
  });

  it('splits QEMU option strings, with ",," as a literal comma', () => {
    expect(splitQemuOptions('user,id=n0,hostname=a,,b,restrict=on')).toEqual([
      ['', 'user'],
      ['id', 'n0'],
      ['hostname', 'a,b'],
      ['restrict', 'on'],
    ]);
  });

  it('parses hostfwd rules in every QEMU form, binding 127.0.0.1 by default', () => {
    const d = ip('10.0.2.15');
    expect(parseHostForward('tcp:127.0.0.1:2222-:22', d)).toMatchObject({ protocol: 'tcp', hostAddr: '127.0.0.1', hostPort: 2222, guestAddr: d, guestPort: 22 });
    expect(parseHostForward('tcp::5555-:23', d)).toMatchObject({ hostAddr: '127.0.0.1', hostPort: 5555 });
    expect(parseHostForward('udp:0.0.0.0:53-10.0.2.20:5353', d)).toMatchObject({ protocol: 'udp', hostAddr: '0.0.0.0', guestAddr: ip('10.0.2.20'), guestPort: 5353 });
    expect(parseHostForward('::8080-:80', d)).toMatchObject({ protocol: 'tcp', hostPort: 8080 });
  });

  it.each([
    ['tcp:2222-:22', /expected/],
    ['tcp::99999-:22', /bad host port/],
    ['tcp::22-:0', /bad guest port/],
    ['tcp:localhost:22-:22', /bad host address/],
    ['sctp::1-:1', /expected/],
    [':8080-:80', /expected/],
  ])('refuses hostfwd=%s', (spec, err) => {
    expect(() => parseHostForward(spec, 0)).toThrow(err);
  });

  it('collects repeated dnssearch and hostfwd, and refuses what it does not support', () => {
    const c = parseUserNetOptions(splitQemuOptions('dnssearch=a.org,dnssearch=b.org,hostfwd=tcp::1-:2,hostfwd=udp::3-:4'));
    expect(c.dnsSearch).toEqual(['a.org', 'b.org']);
    expect(c.hostForwards.map((f) => f.protocol)).toEqual(['tcp', 'udp']);
    expect(() => parseUserNetOptions([['tftp', '/srv']])).toThrow('tftp= is not supported');
    expect(() => parseUserNetOptions([['bogus', '1']])).toThrow("unknown option 'bogus'");
    expect(() => parseUserNetOptions([['restrict', 'maybe']])).toThrow('expected on or off');
    expect(() => parseUserNetOptions([['hostname', 'bad name!']])).toThrow('not a valid host');
  });

  it('checks addresses as QEMU does', () => {
    expect(() => parseUserNetOptions([['dns', '10.0.2.2']])).toThrow('dns= must differ from host=');
    expect(() => parseUserNetOptions([['host', '10.0.3.2']])).toThrow(/not a host address inside/);
    expect(() => parseUserNetOptions([['dhcpstart', '10.0.2.250']])).toThrow(/no room for 16/);
  });

  it('puts guest-less hostfwd rules on dhcpstart', () => {
    const c = parseUserNetOptions(splitQemuOptions('dhcpstart=10.0.2.100,hostfwd=tcp::2222-:22'));
    expect(c.hostForwards[0]!.guestAddr).toBe(ip('10.0.2.100'));
  });
});
