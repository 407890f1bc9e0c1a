// The DHCP server (RFC 2131, options from RFC 2132 and RFC 3397): hands the guest an address from
// a pool of 16 starting at dhcpstart, with the gateway and DNS of the user network, as QEMU's
// slirp does. Leases are kept per MAC address until released; there is no expiry because the
// pool belongs to one guest's virtual LAN.
import { get16, get32, IPV4_BROADCAST, MAC_BROADCAST, put16, put32, type Ipv4, type Mac } from './bytes';
import { DHCP_POOL_SIZE, type UserNetConfig } from './options';

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
/** RFC 951: a BOOTP message is at least 300 bytes; some clients drop shorter replies. */
const BOOTP_MIN_LEN = 300;
const BOOTP_FIXED_LEN = 236;
const MAGIC_COOKIE = 0x63825363;
const LEASE_SECONDS = 24 * 3600; // slirp's LEASE_TIME
const FLAG_BROADCAST = 0x8000;

export const DhcpType = {
  Discover: 1,
  Offer: 2,
  Request: 3,
  Decline: 4,
  Ack: 5,
  Nak: 6,
  Release: 7,
  Inform: 8,
} as const;

const Opt = {
  Pad: 0,
  SubnetMask: 1,
  Router: 3,
  Dns: 6,
  Hostname: 12,
  DomainName: 15,
  RequestedIp: 50,
  LeaseTime: 51,
  MessageType: 53,
  ServerId: 54,
  DomainSearch: 119,
  End: 255,
} as const;

export interface DhcpMessage {
  type: number;
  xid: number;
  flags: number;
  ciaddr: Ipv4;
  chaddr: Mac;
  requestedIp?: Ipv4;
  serverId?: Ipv4;
}

/** Parses a BOOTREQUEST from an Ethernet client; undefined if malformed or not DHCP. */
export function parseDhcp(data: Uint8Array): DhcpMessage | undefined {
  if (data.length < BOOTP_FIXED_LEN + 4) return undefined;
  if (data[0] !== 1 || data[1] !== 1 || data[2] !== 6) return undefined; // BOOTREQUEST, Ethernet
  if (get32(data, BOOTP_FIXED_LEN) !== MAGIC_COOKIE) return undefined;
  const msg: DhcpMessage = {
    type: 0,
    xid: get32(data, 4),
    flags: get16(data, 10),
    ciaddr: get32(data, 12),
    chaddr: data.slice(28, 34),
  };
  let i = BOOTP_FIXED_LEN + 4;
  while (i < data.length) {
    const code = data[i]!;
    if (code === Opt.Pad) {
      i++;
      continue;
    }
    if (code === Opt.End) break;
    if (i + 1 >= data.length) return undefined;
    const len = data[i + 1]!;
    const v = i + 2;
    if (v + len > data.length) return undefined;
    if (code === Opt.MessageType && len === 1) msg.type = data[v]!;
    else if (code === Opt.RequestedIp && len === 4) msg.requestedIp = get32(data, v);
    else if (code === Opt.ServerId && len === 4) msg.serverId = get32(data, v);
    i = v + len;
  }
  return msg.type === 0 ? undefined : msg;
}

export interface DhcpReply {
  data: Uint8Array;
  dstIp: Ipv4;
  dstMac: Mac;
}

export class DhcpServer {
  /** MAC (as text) of the client holding each pool slot. */
  private readonly leases: (string | undefined)[] = new Array(DHCP_POOL_SIZE).fill(undefined);

  constructor(private readonly cfg: UserNetConfig) {}

  /** The address leased to `mac`, if any (diagnostics and tests). */
  leaseOf(mac: Mac): Ipv4 | undefined {
    const i = this.leases.indexOf(macKey(mac));
    return i < 0 ? undefined : this.cfg.dhcpStart + i;
  }

  /**
   * Answers one request. Returns undefined when no reply is due (a request for another server,
   * a release) or the pool is full (`exhausted` is then true).
   */
  handle(msg: DhcpMessage): { reply?: DhcpReply; exhausted?: boolean } {
    const key = macKey(msg.chaddr);
    switch (msg.type) {
      case DhcpType.Discover: {
        const slot = this.allocate(key, msg.requestedIp);
        if (slot === undefined) return { exhausted: true };
        return { reply: this.reply(msg, DhcpType.Offer, this.cfg.dhcpStart + slot) };
      }
      case DhcpType.Request: {
        if (msg.serverId !== undefined && msg.serverId !== this.cfg.host) return {}; // chose another server
        const want = msg.requestedIp ?? msg.ciaddr;
        const slot = this.slotOf(want);
        if (slot === undefined || (this.leases[slot] !== undefined && this.leases[slot] !== key)) {
          return { reply: this.reply(msg, DhcpType.Nak, 0) };
        }
        const held = this.leases.indexOf(key);
        if (held >= 0 && held !== slot) this.leases[held] = undefined;
        this.leases[slot] = key;
        return { reply: this.reply(msg, DhcpType.Ack, want) };
      }
      case DhcpType.Release: {
        const slot = this.slotOf(msg.ciaddr);
        if (slot !== undefined && this.leases[slot] === key) this.leases[slot] = undefined;
        return {};
      }
      case DhcpType.Inform:
        return { reply: this.reply(msg, DhcpType.Ack, 0) };
      default:
        return {}; // DECLINE and server-to-client types: nothing to say
    }
  }

  private slotOf(addr: Ipv4): number | undefined {
    const i = addr - this.cfg.dhcpStart;
    return i >= 0 && i < DHCP_POOL_SIZE ? i : undefined;
  }

  private allocate(key: string, requested: Ipv4 | undefined): number | undefined {
    const held = this.leases.indexOf(key);
    if (held >= 0) return held;
    const want = requested === undefined ? undefined : this.slotOf(requested);
    if (want !== undefined && this.leases[want] === undefined) return want;
    const free = this.leases.indexOf(undefined);
    return free < 0 ? undefined : free;
  }

  private reply(msg: DhcpMessage, type: number, yiaddr: Ipv4): DhcpReply {
    const cfg = this.cfg;
    const opts: number[] = [];
    const add = (code: number, bytes: number[]): void => {
      opts.push(code, bytes.length, ...bytes);
    };
    const ip = (a: Ipv4): number[] => [a >>> 24, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff];
    add(Opt.MessageType, [type]);
    add(Opt.ServerId, ip(cfg.host));
    if (type !== DhcpType.Nak) {
      if (type !== DhcpType.Ack || yiaddr !== 0) add(Opt.LeaseTime, ip(LEASE_SECONDS));
      add(Opt.SubnetMask, ip(cfg.netmask));
      // restrict=on: no router and no DNS, so the guest has no route out (as slirp's bootp.c).
      if (!cfg.restrict) {
        add(Opt.Router, ip(cfg.host));
        add(Opt.Dns, ip(cfg.dns));
      }
      if (cfg.hostname) add(Opt.Hostname, ascii(cfg.hostname));
      if (cfg.domainname) add(Opt.DomainName, ascii(cfg.domainname));
      if (cfg.dnsSearch.length > 0) {
        // RFC 3396: a value longer than 255 bytes is split over several instances of the option.
        const v = encodeSearchList(cfg.dnsSearch);
        for (let at = 0; at < v.length; at += 255) add(Opt.DomainSearch, v.slice(at, at + 255));
      }
    }
    opts.push(Opt.End);
    const data = new Uint8Array(Math.max(BOOTP_MIN_LEN, BOOTP_FIXED_LEN + 4 + opts.length));
    data[0] = 2; // BOOTREPLY
    data[1] = 1;
    data[2] = 6;
    put32(data, 4, msg.xid);
    put16(data, 10, msg.flags & FLAG_BROADCAST);
    if (type === DhcpType.Ack && yiaddr === 0) put32(data, 12, msg.ciaddr); // INFORM
    put32(data, 16, yiaddr);
    put32(data, 20, cfg.host); // siaddr
    data.set(msg.chaddr, 28);
    put32(data, BOOTP_FIXED_LEN, MAGIC_COOKIE);
    data.set(opts, BOOTP_FIXED_LEN + 4);
    // RFC 2131 4.1 "the server ... unicasts ... to the client's hardware address and yiaddr",
    // unless the client asked for broadcast; NAKs are always broadcast.
    let dstIp: Ipv4 = yiaddr;
    let dstMac: Mac = msg.chaddr;
    if (type === DhcpType.Nak || msg.flags & FLAG_BROADCAST) {
      dstIp = IPV4_BROADCAST;
      dstMac = MAC_BROADCAST;
    } else if (msg.ciaddr !== 0) dstIp = msg.ciaddr;
    return { data, dstIp, dstMac };
  }
}

function macKey(mac: Mac): string {
  return Array.from(mac).join(':');
}

function ascii(s: string): number[] {
  return Array.from(s, (c) => c.charCodeAt(0) & 0x7f);
}

/** RFC 3397 domain search list: each name in DNS wire format (uncompressed, which is allowed). */
export function encodeSearchList(names: string[]): number[] {
  const out: number[] = [];
  for (const name of names) {
    for (const label of name.split('.').filter((l) => l.length > 0)) out.push(label.length, ...ascii(label));
    out.push(0);
  }
  return out;
}
