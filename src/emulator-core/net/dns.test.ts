import { describe, expect, it } from 'vitest';
import { buildDnsAnswer, DNS_MAX_PENDING, DnsServer, parseDnsQuery, Rcode, type HostResolver } from './dns';

function query(name: string, type = 1, id = 0x4242, extra?: (b: number[]) => void): Uint8Array {
  const b = [id >> 8, id & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
  for (const l of name.split('.').filter(Boolean)) b.push(l.length, ...Buffer.from(l));
  b.push(0, type >> 8, type & 255, 0, 1);
  extra?.(b);
  return Uint8Array.from(b);
}

const hosts: Record<string, string[]> = { localhost: ['127.0.0.1'], 'db.lan': ['10.1.1.1', '10.1.1.2'] };
const resolver = (over: Partial<HostResolver> = {}): HostResolver => ({
  lookup: async (name) => (hosts[name] ? { exists: true, v4: hosts[name]!, v6: ['::1'] } : { exists: false, v4: [], v6: [] }),
  relay: async (q) => {
    const r = q.slice();
    r[2]! |= 0x80;
    return r;
  },
  ...over,
});

const rcode = (a: Uint8Array): number => a[3]! & 15;
const ancount = (a: Uint8Array): number => (a[6]! << 8) | a[7]!;
const noop = (): void => {};

describe('DNS query parsing', () => {
  it('reads the question, lower-casing the name', () => {
    const q = parseDnsQuery(query('WWW.Example.ORG', 28));
    expect(q).toMatchObject({ id: 0x4242, name: 'www.example.org', type: 28, qclass: 1 });
  });

  it('answers FORMERR to two questions, a compression pointer or a name over 255 bytes', () => {
    const two = query('a');
    two[5] = 2;
    expect(parseDnsQuery(two)).toEqual({ error: Rcode.FormErr, id: 0x4242 });
    const ptr = Uint8Array.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]);
    expect(parseDnsQuery(ptr)).toMatchObject({ error: Rcode.FormErr });
    const long = query(Array.from({ length: 5 }, () => 'x'.repeat(60)).join('.'));
    expect(parseDnsQuery(long)).toMatchObject({ error: Rcode.FormErr });
    expect(parseDnsQuery(query('a').subarray(0, 15))).toMatchObject({ error: Rcode.FormErr });
  });

  it('never answers a response (no reflection loops) or a runt', () => {
    const resp = query('a');
    resp[2]! |= 0x80;
    expect(parseDnsQuery(resp)).toBeUndefined();
    expect(parseDnsQuery(new Uint8Array(5))).toBeUndefined();
  });

  it('answers NOTIMP for opcodes other than QUERY', () => {
    const q = query('a');
    q[2] = 0x28; // opcode 5 (UPDATE)
    expect(parseDnsQuery(q)).toMatchObject({ error: Rcode.NotImp });
  });
});

describe('DNS server', () => {
  it('answers A from the host resolver, with the question echoed and a pointer name', async () => {
    const a = (await new DnsServer(resolver()).answer(query('db.lan'), noop, noop))!;
    expect(rcode(a)).toBe(Rcode.NoError);
    expect(ancount(a)).toBe(2);
    expect(a[2]! & 0x80).toBeTruthy(); // QR
    expect(a[3]! & 0x80).toBeTruthy(); // RA
    const q = query('db.lan');
    expect(Array.from(a.subarray(12, q.length))).toEqual(Array.from(q.subarray(12)));
    expect(Array.from(a.subarray(q.length, q.length + 2))).toEqual([0xc0, 12]);
    expect(Array.from(a.subarray(a.length - 4))).toEqual([10, 1, 1, 2]);
  });

  it('answers AAAA with no records (IPv6 is not routed) and unknown names with NXDOMAIN', async () => {
    const s = new DnsServer(resolver());
    const aaaa = (await s.answer(query('localhost', 28), noop, noop))!;
    expect(rcode(aaaa)).toBe(Rcode.NoError);
    expect(ancount(aaaa)).toBe(0);
    const nx = (await s.answer(query('nope.invalid'), noop, noop))!;
    expect(rcode(nx)).toBe(Rcode.NxDomain);
    const odd = (await s.answer(query('bad\u0001name'), noop, noop))!;
    expect(rcode(odd)).toBe(Rcode.NxDomain);
  });

  it('relays other query types to the host nameserver, and SERVFAILs when that fails', async () => {
    const mx = (await new DnsServer(resolver()).answer(query('example.org', 15), noop, noop))!;
    expect(Array.from(mx.subarray(12))).toEqual(Array.from(query('example.org', 15).subarray(12)));
    let failures = 0;
    const failing = new DnsServer(resolver({ relay: () => Promise.reject(new Error('down')) }));
    const sf = (await failing.answer(query('example.org', 15), noop, () => failures++))!;
    expect(rcode(sf)).toBe(Rcode.ServFail);
    expect(failures).toBe(1);
    const wrongId = new DnsServer(resolver({ relay: async () => query('x', 1, 1) }));
    expect(rcode((await wrongId.answer(query('example.org', 15), noop, noop))!)).toBe(Rcode.ServFail);
  });

  it('drops queries beyond the pending limit instead of queueing without bound', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = new DnsServer(resolver({ lookup: async () => (await gate, { exists: true, v4: ['1.2.3.4'], v6: [] }) }));
    let dropped = 0;
    const all = Array.from({ length: DNS_MAX_PENDING + 5 }, () => slow.answer(query('x.lan'), () => dropped++, noop));
    expect(dropped).toBe(5);
    release();
    const answers = await Promise.all(all);
    expect(answers.filter((a) => a !== undefined)).toHaveLength(DNS_MAX_PENDING);
  });

  it('caps the number of answer records', () => {
    const q = parseDnsQuery(query('many'))!;
    if ('error' in q) throw new Error('parse');
    const a = buildDnsAnswer(q, 0, 1, Array.from({ length: 40 }, () => new Uint8Array(4)));
    expect(ancount(a)).toBe(16);
  });
});
