// The host side of the DNS server: getaddrinfo (node:dns lookup) for names, and a UDP relay to
// the first nameserver in /etc/resolv.conf for every other query type, as slirp relays all of them.
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { DNS_PORT, DNS_TIMEOUT_MS, type HostResolver } from './dns';

/** Nameservers listed in a resolv.conf text (resolv.conf(5): "nameserver <address>" lines). */
export function parseResolvConf(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m && isIP(m[1]!.split('%')[0]!)) out.push(m[1]!);
  }
  return out;
}

export class SystemResolver implements HostResolver {
  private readonly nameservers: string[];

  constructor(resolvConf = '/etc/resolv.conf') {
    let text = '';
    try {
      text = readFileSync(resolvConf, 'utf8');
    } catch {
      // No resolv.conf: names still resolve through getaddrinfo; relayed queries get SERVFAIL.
    }
    this.nameservers = parseResolvConf(text);
  }

  async lookup(name: string): Promise<{ exists: boolean; v4: string[]; v6: string[] }> {
    try {
      const all = await lookup(name, { all: true, family: 0, verbatim: true });
      return {
        exists: true,
        v4: all.filter((a) => a.family === 4).map((a) => a.address),
        v6: all.filter((a) => a.family === 6).map((a) => a.address),
      };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTFOUND' || code === 'ENODATA') return { exists: false, v4: [], v6: [] };
      throw e; // EAI_AGAIN and the like: SERVFAIL, the guest may retry
    }
  }

  relay(query: Uint8Array): Promise<Uint8Array> {
    const server = this.nameservers[0];
    if (server === undefined) return Promise.reject(new Error('no nameserver in resolv.conf'));
    return new Promise((resolve, reject) => {
      const sock = dgram.createSocket(isIP(server) === 6 ? 'udp6' : 'udp4');
      let finished = false;
      const done = (err: Error | undefined, answer?: Uint8Array): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        sock.close();
        if (err) reject(err);
        else resolve(answer!);
      };
      const timer = setTimeout(() => done(new Error('nameserver timeout')), DNS_TIMEOUT_MS);
      timer.unref();
      sock.on('error', (e) => done(e));
      sock.on('message', (msg, from) => {
        if (from.port === DNS_PORT) done(undefined, new Uint8Array(msg));
      });
      sock.send(query, DNS_PORT, server);
    });
  }

  /** The nameserver TCP queries to the DNS address go to, if any. */
  get tcpNameserver(): string | undefined {
    return this.nameservers[0];
  }
}
