// UDP NAT: each guest (address, port) that sends out gets one host datagram socket, as slirp does,
// so replies from any peer come back to it; hostfwd udp rules bind a host socket and relay its
// peers into the guest. Sessions expire when idle and their number is bounded.
import dgram from 'node:dgram';
import { type Ipv4 } from './bytes';
import type { Datagram } from './ipv4';
import type { HostForward } from './options';
import { guestVisibleAddress, type StackContext } from './stack-context';
import { hostfwdError } from './tcp-nat';
import { buildUdp, UDP_MAX_PAYLOAD, type UdpDatagram } from './udp';

/** Host sockets for guest sessions at once; the least recently used goes first. */
export const UDP_MAX_SESSIONS = 256;
/** slirp's SO_EXPIRE for UDP sessions, and its shorter one for DNS. */
export const UDP_IDLE_MS = 240_000;
export const UDP_DNS_IDLE_MS = 10_000;
const EPHEMERAL_FIRST = 49152;

interface Session {
  socket: dgram.Socket;
  guestAddr: Ipv4;
  guestPort: number;
  lastUsed: number;
  idleMs: number;
}

/** A host peer of a hostfwd udp rule, shown to the guest as the host alias and a port of ours. */
interface ForwardPeer {
  rule: HostForward;
  socket: dgram.Socket;
  address: string;
  port: number;
  aliasPort: number;
  lastUsed: number;
}

export class UdpNat {
  private readonly sessions = new Map<string, Session>();
  private readonly forwards: { rule: HostForward; socket: dgram.Socket }[] = [];
  /** Keyed by guest addr:port > alias port. */
  private readonly peers = new Map<string, ForwardPeer>();
  /** The same peers keyed by rule and host address:port. */
  private readonly peersByHost = new Map<string, ForwardPeer>();
  private nextAliasPort = 0;

  constructor(private readonly ctx: StackContext) {}

  get sessionCount(): number {
    return this.sessions.size;
  }

  async start(rules: HostForward[]): Promise<void> {
    for (const rule of rules.filter((r) => r.protocol === 'udp')) {
      const socket = dgram.createSocket({ type: 'udp4', reuseAddr: false });
      try {
        await new Promise<void>((resolve, reject) => {
          socket.once('error', reject);
          socket.bind({ port: rule.hostPort, address: rule.hostAddr, exclusive: true }, () => {
            socket.off('error', reject);
            resolve();
          });
        });
      } catch (e) {
        socket.close();
        await this.close();
        throw hostfwdError(rule, e);
      }
      socket.on('error', () => this.ctx.counters.inc('udpSendError'));
      socket.on('message', (msg, from) => this.fromForwardPeer(rule, socket, msg, from));
      this.forwards.push({ rule, socket });
    }
  }

  boundPorts(): { spec: string; port: number }[] {
    return this.forwards.map(({ rule, socket }) => ({ spec: rule.spec, port: socket.address().port }));
  }

  async close(): Promise<void> {
    for (const s of this.sessions.values()) s.socket.close();
    this.sessions.clear();
    this.peers.clear();
    this.peersByHost.clear();
    await Promise.all(this.forwards.map(({ socket }) => new Promise<void>((r) => socket.close(() => r()))));
    this.forwards.length = 0;
  }

  /** Drops idle sessions and forward peers (called by the stack's housekeeping timer). */
  expire(): void {
    const now = this.ctx.clock.now();
    for (const [key, s] of this.sessions) {
      if (now - s.lastUsed >= s.idleMs) {
        s.socket.close();
        this.sessions.delete(key);
      }
    }
    for (const [key, p] of this.peers) if (now - p.lastUsed >= UDP_IDLE_MS) this.dropPeer(key, p);
  }

  /** A datagram from the guest that is not DHCP or DNS; false when its destination is not routed. */
  input(d: Datagram, u: UdpDatagram): boolean {
    const { cfg, counters, clock } = this.ctx;
    const h = d.header;
    // A reply to a hostfwd peer: the guest answers the alias port we showed it.
    const peer = h.dst === cfg.host ? this.peers.get(`${h.src}:${u.srcPort}>${u.dstPort}`) : undefined;
    if (peer) {
      peer.lastUsed = clock.now();
      peer.socket.send(u.data, peer.port, peer.address, (err) => err && counters.inc('udpSendError'));
      return true;
    }
    const hostAddr = this.ctx.hostAddressFor(h.dst);
    if (hostAddr === undefined || u.dstPort === 0) {
      counters.inc('udpNoRoute');
      return false;
    }
    const s = this.session(h.src, u.srcPort, u.dstPort === 53 ? UDP_DNS_IDLE_MS : UDP_IDLE_MS);
    s.lastUsed = clock.now();
    s.socket.send(u.data, u.dstPort, hostAddr, (err) => err && counters.inc('udpSendError'));
    return true;
  }

  private session(guestAddr: Ipv4, guestPort: number, idleMs: number): Session {
    const key = `${guestAddr}:${guestPort}`;
    let s = this.sessions.get(key);
    if (s) {
      // Map order is insertion order: re-inserting keeps the least recently used first.
      this.sessions.delete(key);
      this.sessions.set(key, s);
      s.idleMs = Math.max(s.idleMs, idleMs);
      return s;
    }
    if (this.sessions.size >= UDP_MAX_SESSIONS) {
      const [oldKey, old] = this.sessions.entries().next().value!;
      old.socket.close();
      this.sessions.delete(oldKey);
      this.ctx.counters.inc('udpSessionLimit');
    }
    const socket = dgram.createSocket('udp4');
    s = { socket, guestAddr, guestPort, lastUsed: this.ctx.clock.now(), idleMs };
    const session = s;
    socket.on('error', () => this.ctx.counters.inc('udpSendError'));
    socket.on('message', (msg, from) => this.toGuest(session, msg, from));
    socket.bind(0);
    this.sessions.set(key, s);
    this.ctx.counters.inc('udpSessions');
    return s;
  }

  private toGuest(s: Session, msg: Buffer, from: dgram.RemoteInfo): void {
    const src = guestVisibleAddress(this.ctx.cfg, from.address);
    if (src === undefined || msg.length > UDP_MAX_PAYLOAD) return;
    s.lastUsed = this.ctx.clock.now();
    this.ctx.sendIp(
      buildUdp(
        { src, dst: s.guestAddr, srcPort: from.port, dstPort: s.guestPort, ipId: this.ctx.nextIpId() },
        msg,
      ),
    );
  }

  private fromForwardPeer(rule: HostForward, socket: dgram.Socket, msg: Buffer, from: dgram.RemoteInfo): void {
    const { cfg, clock } = this.ctx;
    if (msg.length > UDP_MAX_PAYLOAD) return;
    const hostKey = `${rule.spec}|${from.address}|${from.port}`;
    let peer = this.peersByHost.get(hostKey);
    if (!peer) {
      if (this.peers.size >= UDP_MAX_SESSIONS) {
        this.ctx.counters.inc('udpSessionLimit');
        const [oldKey, old] = this.peers.entries().next().value!;
        this.dropPeer(oldKey, old);
      }
      const aliasPort = EPHEMERAL_FIRST + (this.nextAliasPort++ % (65536 - EPHEMERAL_FIRST));
      peer = { rule, socket, address: from.address, port: from.port, aliasPort, lastUsed: 0 };
      this.dropPeer(`${rule.guestAddr}:${rule.guestPort}>${aliasPort}`); // a wrapped-around alias port
      this.peers.set(`${rule.guestAddr}:${rule.guestPort}>${aliasPort}`, peer);
      this.peersByHost.set(hostKey, peer);
    }
    peer.lastUsed = clock.now();
    this.ctx.sendIp(
      buildUdp(
        { src: cfg.host, dst: rule.guestAddr, srcPort: peer.aliasPort, dstPort: rule.guestPort, ipId: this.ctx.nextIpId() },
        msg,
      ),
    );
  }

  private dropPeer(key: string, p = this.peers.get(key)): void {
    if (!p) return;
    this.peers.delete(key);
    this.peersByHost.delete(`${p.rule.spec}|${p.address}|${p.port}`);
  }
}
