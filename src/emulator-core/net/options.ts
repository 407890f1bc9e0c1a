// The options of `-netdev user` (and `-nic user`) with QEMU's names, syntax and defaults
// (qemu-system(1), "-netdev user"). The option parser in host/ splits the command line; this file
// turns key=value pairs into a checked configuration so that mistakes are errors at start, each
// naming the option at fault.
import { ipv4ToString, parseIpv4, type Ipv4 } from './bytes';

export interface HostForward {
  protocol: 'tcp' | 'udp';
  /** Host address to bind: 127.0.0.1 unless the rule names one (QEMU binds all interfaces). */
  hostAddr: string;
  /** 0 asks the OS for a free port (tests); the bound port is reported by the stack. */
  hostPort: number;
  guestAddr: Ipv4;
  guestPort: number;
  /** The rule as written, for error messages. */
  spec: string;
}

export interface UserNetConfig {
  network: Ipv4;
  netmask: Ipv4;
  /** The guest-visible address of the host (gateway), mapped to the host's 127.0.0.1. */
  host: Ipv4;
  dns: Ipv4;
  /** First of the 16 addresses the DHCP server hands out. */
  dhcpStart: Ipv4;
  restrict: boolean;
  hostname?: string;
  domainname?: string;
  dnsSearch: string[];
  hostForwards: HostForward[];
}

export const DHCP_POOL_SIZE = 16;

/** QEMU's defaults: 10.0.2.0/24, host .2, DNS .3, DHCP from .15. */
export function defaultUserNetConfig(): UserNetConfig {
  return userNetConfigFor(parseIpv4('10.0.2.0')!, 0xffffff00);
}

function userNetConfigFor(network: Ipv4, netmask: Ipv4): UserNetConfig {
  return {
    network,
    netmask,
    host: (network | 2) >>> 0,
    dns: (network | 3) >>> 0,
    dhcpStart: (network | 15) >>> 0,
    restrict: false,
    dnsSearch: [],
    hostForwards: [],
  };
}

/**
 * Splits a QEMU option string ("user,id=n0,hostfwd=tcp::2222-:22") into pairs. A doubled comma
 * stands for a literal comma; an element without '=' is returned with the key '' (the netdev type
 * or an implied first option), as QEMU's QemuOpts does.
 */
export function splitQemuOptions(s: string): [string, string][] {
  const out: [string, string][] = [];
  let cur = '';
  for (let i = 0; i <= s.length; i++) {
    if (i < s.length && s[i] === ',' && s[i + 1] === ',') {
      cur += ',';
      i++;
    } else if (i === s.length || s[i] === ',') {
      const eq = cur.indexOf('=');
      out.push(eq < 0 ? ['', cur] : [cur.slice(0, eq), cur.slice(eq + 1)]);
      cur = '';
    } else cur += s[i];
  }
  return out;
}

function onOff(key: string, v: string): boolean {
  if (v === 'on' || v === 'yes' || v === 'true') return true;
  if (v === 'off' || v === 'no' || v === 'false') return false;
  throw new Error(`-netdev user: ${key}=${v}: expected on or off`);
}

function address(key: string, v: string): Ipv4 {
  const a = parseIpv4(v);
  if (a === undefined) throw new Error(`-netdev user: ${key}=${v}: not an IPv4 address`);
  return a;
}

function port(spec: string, what: string, v: string, allowZero: boolean): number {
  const n = /^\d{1,5}$/.test(v) ? Number(v) : NaN;
  if (!(n >= (allowZero ? 0 : 1) && n <= 65535)) throw new Error(`hostfwd=${spec}: bad ${what} port '${v}'`);
  return n;
}

/** Parses one hostfwd rule: [tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport. */
export function parseHostForward(spec: string, dhcpStart: Ipv4): HostForward {
  // The protocol field is always there, possibly empty (QEMU's slirp_hostfwd splits on ':' first).
  const m = /^(tcp|udp|):([^:]*):([^-]*)-([^:]*):(.*)$/.exec(spec);
  if (!m) throw new Error(`hostfwd=${spec}: expected [tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport`);
  const [, proto, hostAddr, hostPort, guestAddr, guestPort] = m;
  if (hostAddr && parseIpv4(hostAddr) === undefined) {
    throw new Error(`hostfwd=${spec}: bad host address '${hostAddr}'`);
  }
  const ga = guestAddr ? parseIpv4(guestAddr) : dhcpStart;
  if (ga === undefined) throw new Error(`hostfwd=${spec}: bad guest address '${guestAddr}'`);
  return {
    protocol: proto === 'udp' ? 'udp' : 'tcp',
    hostAddr: hostAddr || '127.0.0.1',
    hostPort: port(spec, 'host', hostPort!, true),
    guestAddr: ga,
    guestPort: port(spec, 'guest', guestPort!, false),
    spec,
  };
}

const UNSUPPORTED = new Set(['tftp', 'bootfile', 'tftp-server-name', 'smb', 'smbserver', 'guestfwd']);
/** Accepted for compatibility; IPv6 frames are dropped whatever they say (docs/net.md). */
const IGNORED = new Set(['id', 'ipv6', 'ipv6-net', 'ipv6-host', 'ipv6-dns', 'ipv6-prefix', 'ipv6-prefixlen']);

/** Builds a checked configuration from `-netdev user` pairs (the type element excluded). */
export function parseUserNetOptions(pairs: [string, string][]): UserNetConfig {
  const get = (k: string): string | undefined => pairs.filter(([key]) => key === k).at(-1)?.[1];
  let cfg = defaultUserNetConfig();
  const net = get('net');
  if (net !== undefined) {
    const [addr, mask] = net.split('/');
    const network = address('net', addr!);
    let netmask = 0xffffff00;
    if (mask !== undefined) {
      if (/^\d{1,2}$/.test(mask) && Number(mask) <= 30 && Number(mask) >= 8) {
        netmask = Number(mask) === 0 ? 0 : (0xffffffff << (32 - Number(mask))) >>> 0;
      } else {
        const m = parseIpv4(mask);
        if (m === undefined || ((~m >>> 0) & ((~m >>> 0) + 1)) !== 0) {
          throw new Error(`-netdev user: net=${net}: bad netmask '${mask}'`);
        }
        netmask = m;
      }
    }
    cfg = userNetConfigFor((network & netmask) >>> 0, netmask);
  }
  for (const [key, value] of pairs) {
    if (key === '' || IGNORED.has(key) || key === 'net') continue;
    switch (key) {
      case 'host':
        cfg.host = address(key, value);
        break;
      case 'dns':
        cfg.dns = address(key, value);
        break;
      case 'dhcpstart':
        cfg.dhcpStart = address(key, value);
        break;
      case 'restrict':
        cfg.restrict = onOff(key, value);
        break;
      case 'ipv4':
        if (!onOff(key, value)) throw new Error('-netdev user: ipv4=off is not supported (IPv6 is not routed)');
        break;
      case 'hostname':
        cfg.hostname = checkName(key, value);
        break;
      case 'domainname':
        cfg.domainname = checkName(key, value);
        break;
      case 'dnssearch':
        cfg.dnsSearch.push(checkName(key, value));
        break;
      case 'hostfwd':
        break; // after dhcpstart is known
      default:
        if (UNSUPPORTED.has(key)) throw new Error(`-netdev user: ${key}= is not supported`);
        throw new Error(`-netdev user: unknown option '${key}'`);
    }
  }
  for (const [key, value] of pairs) {
    if (key === 'hostfwd') cfg.hostForwards.push(parseHostForward(value, cfg.dhcpStart));
  }
  checkConfig(cfg);
  return cfg;
}

function checkName(key: string, v: string): string {
  // DHCP carries names in options of at most 255 bytes; DNS labels are at most 63.
  if (!/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/.test(v) || v.length > 253) {
    throw new Error(`-netdev user: ${key}=${v}: not a valid host or domain name`);
  }
  return v;
}

/** QEMU's net_slirp_init checks: every address inside the network, host and DNS distinct. */
export function checkConfig(cfg: UserNetConfig): void {
  const inside = (a: Ipv4): boolean => ((a & cfg.netmask) >>> 0) === cfg.network;
  const bcast = (cfg.network | ~cfg.netmask) >>> 0;
  for (const [name, a] of [
    ['host', cfg.host],
    ['dns', cfg.dns],
    ['dhcpstart', cfg.dhcpStart],
  ] as const) {
    if (!inside(a) || a === cfg.network || a === bcast) {
      throw new Error(`-netdev user: ${name}=${ipv4ToString(a)} is not a host address inside ${ipv4ToString(cfg.network)}`);
    }
  }
  if (cfg.dns === cfg.host) throw new Error('-netdev user: dns= must differ from host=');
  const last = cfg.dhcpStart + 15;
  if (((last & cfg.netmask) >>> 0) !== cfg.network || last >= bcast) {
    throw new Error(`-netdev user: dhcpstart=${ipv4ToString(cfg.dhcpStart)} leaves no room for 16 addresses`);
  }
}
