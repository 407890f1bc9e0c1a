// The user-mode network (`-netdev user`, QEMU's slirp): a virtual LAN with a gateway (the host
// alias, 10.0.2.2), a DNS server (10.0.2.3) and a DHCP server, whose traffic to the outside is
// NATed onto ordinary host sockets, so the guest reaches what the host user can without root.
// This file is the router: it takes the guest's frames apart and hands each to its protocol
// file, and sends what they produce back through ARP, fragmentation and the output queue.
import { ArpOp, ArpTable, buildArp, parseArp } from './arp';
import { TxQueue, type FrameReceiver, type NetBackend } from './backend';
import { get32, IPV4_BROADCAST, isLoopback, isMulticast, MAC_BROADCAST, virtualMac, type Ipv4, type Mac } from './bytes';
import { realClock, type Clock, type TimerHandle } from './clock';
import { NetCounters } from './counters';
import { DHCP_CLIENT_PORT, DHCP_SERVER_PORT, DhcpServer, parseDhcp } from './dhcp';
import { DNS_PORT, DnsServer, type HostResolver } from './dns';
import { ETH_HEADER_LEN, etherType, EtherType, MTU, writeEthernetHeader } from './ethernet';
import { SystemResolver } from './host-resolver';
import { buildEchoReply, buildIcmpError, IcmpType, parseIcmp, UnreachableCode } from './icmp';
import { fragmentIpv4Frame, IpProto, parseIpv4, type Datagram } from './ipv4';
import { Reassembler } from './ipv4-reassembly';
import { defaultUserNetConfig, type UserNetConfig } from './options';
import { hostAddressFor, type StackContext } from './stack-context';
import { TcpNat, type TcpNatOptions } from './tcp-nat';
import { parseTcp } from './tcp-segment';
import { buildUdp, parseUdp } from './udp';
import { UdpNat } from './udp-nat';

/** Frames held for a guest address whose MAC is not known yet, and for how long. */
const ARP_PENDING_PER_ADDRESS = 32;
const ARP_PENDING_ADDRESSES = 16;
const ARP_PENDING_MS = 3000;
const HOUSEKEEPING_MS = 1000;

export interface UserNetworkOptions {
  config?: UserNetConfig;
  /** The host's resolver (tests inject one); defaults to getaddrinfo + /etc/resolv.conf. */
  resolver?: HostResolver & { tcpNameserver?: string };
  clock?: Clock;
  /**
   * Overrides where guest destinations go on the host (tests: the fuzzer sends everything to
   * 127.0.0.1 so that random addresses never become real connections). Default: hostAddressFor.
   */
  route?: (dst: Ipv4) => string | undefined;
  /** TCP limits and the host connector (tests). */
  tcp?: Omit<TcpNatOptions, 'dnsTcpServer'>;
}

export class UserNetwork implements NetBackend, StackContext {
  readonly cfg: UserNetConfig;
  readonly clock: Clock;
  readonly counters = new NetCounters();
  /** Every frame the stack sends it built itself, checksums included. */
  readonly framesHaveValidChecksums = true;
  /** TCP terminates here: a guest's 64 KiB TSO segment is just a segment with more data. */
  readonly acceptsTcpGso = true;
  private readonly txq: TxQueue;
  private readonly arp = new ArpTable();
  private readonly pendingArp = new Map<Ipv4, { frames: Uint8Array[]; since: number }>();
  private readonly reassembler: Reassembler;
  private readonly dhcp: DhcpServer;
  private readonly dns: DnsServer;
  readonly tcp: TcpNat;
  readonly udp: UdpNat;
  private readonly hostMac: Mac;
  private readonly dnsMac: Mac;
  private ipId = 0;
  private readonly route: ((dst: Ipv4) => string | undefined) | undefined;
  private housekeeping: TimerHandle | undefined;
  private closed = false;
  /** The first internal error, kept for diagnostics (counted as well; never thrown at the NIC). */
  lastInternalError: unknown;

  constructor(opts: UserNetworkOptions = {}) {
    this.cfg = opts.config ?? defaultUserNetConfig();
    this.clock = opts.clock ?? realClock;
    this.route = opts.route;
    const resolver = opts.resolver ?? new SystemResolver();
    this.txq = new TxQueue(this.counters, () => this.tcp.room());
    this.reassembler = new Reassembler(this.counters, () => this.clock.now());
    this.dhcp = new DhcpServer(this.cfg);
    this.dns = new DnsServer(resolver);
    this.tcp = new TcpNat(this, { ...opts.tcp, dnsTcpServer: () => resolver.tcpNameserver });
    this.udp = new UdpNat(this);
    this.hostMac = virtualMac(this.cfg.host);
    this.dnsMac = virtualMac(this.cfg.dns);
  }

  // ---- NetBackend ----

  async start(): Promise<void> {
    await this.tcp.start(this.cfg.hostForwards);
    try {
      await this.udp.start(this.cfg.hostForwards);
    } catch (e) {
      await this.tcp.close();
      throw e;
    }
    this.scheduleHousekeeping();
  }

  /** Host ports of the hostfwd rules as bound (a rule with host port 0 gets one from the OS). */
  boundPorts(): { spec: string; port: number }[] {
    return [...this.tcp.boundPorts(), ...this.udp.boundPorts()];
  }

  /** What the stack holds right now (diagnostics; the fuzz test checks these stay bounded). */
  usage(): { queuedFrames: number; reassemblyDatagrams: number; reassemblyBytes: number; tcpConnections: number; udpSessions: number; arpPendingAddresses: number } {
    return {
      queuedFrames: this.txq.length,
      reassemblyDatagrams: this.reassembler.pendingDatagrams,
      reassemblyBytes: this.reassembler.pendingBytes,
      tcpConnections: this.tcp.connectionCount,
      udpSessions: this.udp.sessionCount,
      arpPendingAddresses: this.pendingArp.size,
    };
  }

  attach(receiver: FrameReceiver): void {
    this.txq.attach(receiver);
  }

  receiveReady(): void {
    this.txq.receiveReady();
  }

  send(frame: Uint8Array): void {
    if (this.closed) return;
    this.counters.inc('rxFrames');
    this.counters.inc('rxBytes', frame.length);
    try {
      this.input(frame);
    } catch (e) {
      // A bug of ours must not become the guest's way to crash the VM: count it and go on.
      this.counters.inc('internalError');
      this.lastInternalError ??= e;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.housekeeping?.cancel();
    await Promise.all([this.tcp.close(), this.udp.close()]);
    this.txq.close();
  }

  // ---- StackContext ----

  nextIpId(): number {
    this.ipId = (this.ipId + 1) & 0xffff;
    return this.ipId;
  }

  hasRoom(): boolean {
    return this.txq.hasRoom();
  }

  hostAddressFor(dst: Ipv4): string | undefined {
    return this.route ? this.route(dst) : hostAddressFor(this.cfg, dst);
  }

  /** Sends an IPv4 frame to the guest: Ethernet addressing (ARP if needed), fragmentation, queue. */
  sendIp(frame: Uint8Array): void {
    if (this.closed) return;
    const dst = get32(frame, ETH_HEADER_LEN + 16);
    const mac = dst === IPV4_BROADCAST ? MAC_BROADCAST : this.arp.lookup(dst);
    if (!mac) {
      this.holdForArp(dst, frame);
      return;
    }
    this.sendIpTo(frame, mac);
  }

  private sendIpTo(frame: Uint8Array, mac: Mac): void {
    const src = get32(frame, ETH_HEADER_LEN + 12);
    const srcMac = src === this.cfg.dns ? this.dnsMac : this.hostMac;
    for (const f of fragmentIpv4Frame(frame, MTU)) {
      writeEthernetHeader(f, mac, srcMac, EtherType.IPv4);
      this.txq.push(f);
    }
  }

  // ---- From the guest ----

  private input(frame: Uint8Array): void {
    if (frame.length < ETH_HEADER_LEN) {
      this.counters.inc('ethShort');
      return;
    }
    switch (etherType(frame)) {
      case EtherType.ARP:
        return this.arpInput(frame);
      case EtherType.IPv4:
        return this.ipInput(frame);
      case EtherType.IPv6:
        this.counters.inc('ipv6Dropped');
        return;
      default:
        this.counters.inc('ethUnknownType');
    }
  }

  private arpInput(frame: Uint8Array): void {
    const p = parseArp(frame);
    if (!p) {
      this.counters.inc('arpMalformed');
      return;
    }
    if (this.onLink(p.senderIp)) this.learn(p.senderIp, p.senderMac);
    if (p.op !== ArpOp.Request || p.senderIp === p.targetIp) return; // replies and gratuitous ARP: learned
    if (p.targetIp !== this.cfg.host && p.targetIp !== this.cfg.dns) return;
    this.counters.inc('arpReplies');
    const reply = buildArp(p.senderMac, {
      op: ArpOp.Reply,
      senderMac: virtualMac(p.targetIp),
      senderIp: p.targetIp,
      targetMac: p.senderMac,
      targetIp: p.senderIp,
    });
    this.txq.push(reply);
  }

  private ipInput(frame: Uint8Array): void {
    const h = parseIpv4(frame);
    if (typeof h === 'string') {
      this.counters.inc(h);
      return;
    }
    const src = h.src;
    // A source the guest cannot own: broadcast, multicast, loopback, class E. 0.0.0.0 is only
    // legitimate for DHCP, checked below.
    if (src === IPV4_BROADCAST || isMulticast(src) || isLoopback(src) || src >>> 28 === 0xf) {
      this.counters.inc('ipv4BadAddress');
      return;
    }
    if (h.ttl === 0) {
      this.counters.inc('ipv4Ttl');
      return;
    }
    if (this.onLink(src)) this.learn(src, frame.subarray(6, 12));
    const start = ETH_HEADER_LEN + h.headerLength;
    const payload = frame.subarray(start, ETH_HEADER_LEN + h.totalLength);
    const quote = frame.subarray(ETH_HEADER_LEN, start + Math.min(8, payload.length));
    let d: Datagram | undefined = { header: h, payload, quote };
    if (h.moreFragments || h.fragmentOffset !== 0) {
      d = this.reassembler.add(h, payload, quote);
      if (!d) return;
    }
    if (src === 0 && d.header.protocol !== IpProto.UDP) {
      this.counters.inc('ipv4BadAddress');
      return;
    }
    switch (d.header.protocol) {
      case IpProto.ICMP:
        return this.icmpInput(d);
      case IpProto.UDP:
        return this.udpInput(d);
      case IpProto.TCP:
        return this.tcpInput(d);
      default:
        this.counters.inc('ipv4UnknownProtocol');
    }
  }

  private icmpInput(d: Datagram): void {
    const m = parseIcmp(d.payload);
    if (!m) {
      this.counters.inc('icmpMalformed');
      return;
    }
    if (m.type !== IcmpType.EchoRequest || m.code !== 0) {
      this.counters.inc('icmpUnsupported');
      return;
    }
    const dst = d.header.dst;
    if (dst === this.cfg.host || dst === this.cfg.dns) {
      this.counters.inc('icmpEchoReplies');
      this.sendIp(buildEchoReply(d, m, this.nextIpId()));
    } else if (this.cfg.restrict) this.counters.inc('ipv4Restricted');
    else this.counters.inc('icmpNoRoute');
  }

  private udpInput(d: Datagram): void {
    const h = d.header;
    const u = parseUdp(d.payload, h.src, h.dst);
    if (typeof u === 'string') {
      this.counters.inc(u);
      return;
    }
    if (u.dstPort === DHCP_SERVER_PORT && (h.dst === this.cfg.host || h.dst === IPV4_BROADCAST)) {
      return this.dhcpInput(u.data);
    }
    if (h.src === 0) {
      this.counters.inc('ipv4BadAddress');
      return;
    }
    if (this.cfg.restrict) {
      this.counters.inc('ipv4Restricted');
      return;
    }
    if (h.dst === this.cfg.dns) {
      if (u.dstPort !== DNS_PORT) {
        // What a host without that service answers (and what makes `nslookup -port` fail fast).
        this.counters.inc('udpNoRoute');
        this.sendIp(buildIcmpError(h.dst, d, IcmpType.Unreachable, UnreachableCode.Port, this.nextIpId()));
        return;
      }
      return this.dnsInput(h.src, u.srcPort, u.data);
    }
    if (h.dst === IPV4_BROADCAST || isMulticast(h.dst) || h.dst === this.subnetBroadcast()) {
      this.counters.inc('udpNoRoute'); // mDNS, NetBIOS, SSDP: there is nobody to hear them
      return;
    }
    if (!this.udp.input(d, u)) {
      this.sendIp(buildIcmpError(this.cfg.host, d, IcmpType.Unreachable, UnreachableCode.Host, this.nextIpId()));
    }
  }

  private dhcpInput(data: Uint8Array): void {
    const msg = parseDhcp(data);
    if (!msg) {
      this.counters.inc('dhcpMalformed');
      return;
    }
    const { reply, exhausted } = this.dhcp.handle(msg);
    if (exhausted) this.counters.inc('dhcpPoolExhausted');
    if (!reply) return;
    this.counters.inc('dhcpReplies');
    const yiaddr = get32(reply.data, 16);
    if (yiaddr !== 0) this.learn(yiaddr, msg.chaddr); // as slirp's bootp adds the ARP entry
    const frame = buildUdp(
      { src: this.cfg.host, dst: reply.dstIp, srcPort: DHCP_SERVER_PORT, dstPort: DHCP_CLIENT_PORT, ipId: this.nextIpId() },
      reply.data,
    );
    this.sendIpTo(frame, reply.dstMac);
  }

  private dnsInput(guest: Ipv4, port: number, data: Uint8Array): void {
    const query = data.slice(); // the frame may be gone by the time the answer is ready
    void this.dns
      .answer(
        query,
        () => this.counters.inc('dnsLimit'),
        () => this.counters.inc('dnsFailures'),
      )
      .then((answer) => {
        if (!answer || this.closed) return;
        this.counters.inc('dnsQueries');
        this.sendIp(
          buildUdp({ src: this.cfg.dns, dst: guest, srcPort: DNS_PORT, dstPort: port, ipId: this.nextIpId() }, answer),
        );
      })
      .catch((e: unknown) => {
        this.counters.inc('internalError');
        this.lastInternalError ??= e;
      });
  }

  private tcpInput(d: Datagram): void {
    const h = d.header;
    const seg = parseTcp(d.payload, h.src, h.dst);
    if (typeof seg === 'string') {
      this.counters.inc(seg);
      return;
    }
    if (h.dst === IPV4_BROADCAST || isMulticast(h.dst)) {
      this.counters.inc('ipv4BadAddress');
      return;
    }
    this.tcp.input(d, seg);
  }

  // ---- ARP towards the guest ----

  private onLink(a: Ipv4): boolean {
    return (
      a !== 0 &&
      ((a & this.cfg.netmask) >>> 0) === this.cfg.network &&
      a !== this.cfg.host &&
      a !== this.cfg.dns &&
      a !== this.subnetBroadcast()
    );
  }

  private subnetBroadcast(): Ipv4 {
    return (this.cfg.network | ~this.cfg.netmask) >>> 0;
  }

  private learn(ip: Ipv4, mac: Mac): void {
    this.arp.learn(ip, mac);
    const held = this.pendingArp.get(ip);
    if (held && this.arp.lookup(ip)) {
      this.pendingArp.delete(ip);
      for (const f of held.frames) this.sendIpTo(f, this.arp.lookup(ip)!);
    }
  }

  private holdForArp(dst: Ipv4, frame: Uint8Array): void {
    if (!this.onLink(dst)) {
      this.counters.inc('arpPendingDropped'); // not on the virtual LAN: nobody to ask
      return;
    }
    let held = this.pendingArp.get(dst);
    if (!held) {
      if (this.pendingArp.size >= ARP_PENDING_ADDRESSES) {
        this.counters.inc('arpPendingDropped');
        return;
      }
      held = { frames: [], since: this.clock.now() };
      this.pendingArp.set(dst, held);
      this.scheduleHousekeeping();
    }
    if (held.frames.length >= ARP_PENDING_PER_ADDRESS) {
      this.counters.inc('arpPendingDropped');
      return;
    }
    if (held.frames.length === 0 || held.frames.length % 8 === 0) {
      this.txq.push(
        buildArp(MAC_BROADCAST, {
          op: ArpOp.Request,
          senderMac: this.hostMac,
          senderIp: this.cfg.host,
          targetMac: new Uint8Array(6),
          targetIp: dst,
        }),
      );
    }
    held.frames.push(frame);
  }

  private scheduleHousekeeping(): void {
    if (this.housekeeping || this.closed) return;
    this.housekeeping = this.clock.setTimer(HOUSEKEEPING_MS, () => {
      this.housekeeping = undefined;
      const now = this.clock.now();
      for (const [ip, held] of this.pendingArp) {
        if (now - held.since >= ARP_PENDING_MS) {
          this.counters.inc('arpPendingDropped', held.frames.length);
          this.pendingArp.delete(ip);
        }
      }
      this.reassembler.expire();
      this.udp.expire();
      this.scheduleHousekeeping();
    });
  }
}
