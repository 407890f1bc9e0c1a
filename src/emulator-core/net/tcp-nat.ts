// TCP NAT: guest connections terminate on host sockets (net.Socket), host connections to a
// hostfwd port become connections the stack opens to the guest. The per-connection protocol is
// tcp-connection.ts; this file owns the connection table, its limits, and the sockets.
import net from 'node:net';
import { ipv4ToString, type Ipv4 } from './bytes';
import type { Datagram } from './ipv4';
import type { HostForward } from './options';
import { guestVisibleAddress, type StackContext } from './stack-context';
import { TcpConnection, TcpState, type TcpEnv, type TcpHostSide } from './tcp-connection';
import { buildTcp, seqAdd, TcpFlag, type TcpSegment } from './tcp-segment';

/** Connections at once (each holds a host socket). */
export const TCP_MAX_CONNECTIONS = 1024;
/** Host connects in progress at once: beyond this a SYN flood's SYNs are dropped. */
export const TCP_MAX_PENDING_CONNECTS = 256;
/** BSD's connection-establishment timer. */
export const TCP_CONNECT_TIMEOUT_MS = 75_000;
const EPHEMERAL_FIRST = 49152;
const EPHEMERAL_COUNT = 65536 - EPHEMERAL_FIRST;

const keyOf = (guestAddr: Ipv4, guestPort: number, remoteAddr: Ipv4, remotePort: number): string =>
  `${guestAddr}:${guestPort}>${remoteAddr}:${remotePort}`;

/** A net.Socket as the host end of a connection. */
class SocketHost implements TcpHostSide {
  constructor(private readonly socket: net.Socket) {}
  write(data: Uint8Array): void {
    this.socket.write(data);
  }
  end(): void {
    this.socket.end();
  }
  get pendingBytes(): number {
    return this.socket.writableLength;
  }
  pause(): void {
    this.socket.pause();
  }
  resume(): void {
    this.socket.resume();
  }
  release(): void {
    this.socket.end();
  }
  abort(): void {
    if (!this.socket.destroyed) this.socket.resetAndDestroy();
  }
}

export interface TcpNatOptions {
  /** Host address for TCP to the DNS address (the host's nameserver), if there is one. */
  dnsTcpServer?: () => string | undefined;
  maxConnections?: number;
  maxPendingConnects?: number;
  /** Opens host connections (tests inject one that never completes, to model a SYN flood). */
  connect?: (host: string, port: number) => net.Socket;
}

export class TcpNat {
  private readonly ctx: StackContext;
  private readonly dnsTcpServer: () => string | undefined;
  private readonly maxConnections: number;
  private readonly maxPendingConnects: number;
  private readonly connect: (host: string, port: number) => net.Socket;

  constructor(ctx: StackContext, opts: TcpNatOptions = {}) {
    this.ctx = ctx;
    this.dnsTcpServer = opts.dnsTcpServer ?? (() => undefined);
    this.maxConnections = opts.maxConnections ?? TCP_MAX_CONNECTIONS;
    this.maxPendingConnects = opts.maxPendingConnects ?? TCP_MAX_PENDING_CONNECTS;
    this.connect = opts.connect ?? ((host, port) => net.connect({ host, port, allowHalfOpen: true }));
    this.env = this.makeEnv();
  }

  /** Host connects in progress (SYNs from the guest waiting for the host). */
  get pendingConnectCount(): number {
    return this.pendingConnects;
  }

  private readonly conns = new Map<string, TcpConnection>();
  private readonly servers: { rule: HostForward; server: net.Server }[] = [];
  private readonly needRoom = new Set<TcpConnection>();
  private readonly needAck = new Set<TcpConnection>();
  private ackScheduled = false;
  private pendingConnects = 0;
  private nextEphemeral = 0;


  get connectionCount(): number {
    return this.conns.size;
  }

  /** Connection states by key (tests and diagnostics). */
  states(): Map<string, string> {
    return new Map([...this.conns].map(([k, c]) => [k, c.state]));
  }

  /** Binds every hostfwd TCP rule; the first failure closes the rest and names the rule. */
  async start(rules: HostForward[]): Promise<void> {
    for (const rule of rules.filter((r) => r.protocol === 'tcp')) {
      const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (s) => this.accept(rule, s));
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ port: rule.hostPort, host: rule.hostAddr, exclusive: true }, () => {
            server.off('error', reject);
            resolve();
          });
        });
      } catch (e) {
        await this.close();
        throw hostfwdError(rule, e);
      }
      server.on('error', () => {}); // after listen, errors are per connection
      this.servers.push({ rule, server });
    }
  }

  /** The host ports the hostfwd rules are bound to (hostPort 0 asks the OS for one). */
  boundPorts(): { spec: string; port: number }[] {
    return this.servers.map(({ rule, server }) => ({ spec: rule.spec, port: (server.address() as net.AddressInfo).port }));
  }

  async close(): Promise<void> {
    for (const c of [...this.conns.values()]) c.reset();
    this.conns.clear();
    await Promise.all(this.servers.map(({ server }) => new Promise<void>((r) => server.close(() => r()))));
    this.servers.length = 0;
  }

  /** Producers blocked on a full output queue may go on. */
  room(): void {
    const waiting = [...this.needRoom];
    this.needRoom.clear();
    for (const c of waiting) c.pump();
  }

  input(d: Datagram, seg: TcpSegment): void {
    const h = d.header;
    const key = keyOf(h.src, seg.srcPort, h.dst, seg.dstPort);
    const conn = this.conns.get(key);
    const isSyn = (seg.flags & (TcpFlag.SYN | TcpFlag.ACK | TcpFlag.RST)) === TcpFlag.SYN;
    if (conn && !(isSyn && conn.state === TcpState.TimeWait)) {
      conn.segment(seg);
      return;
    }
    if (conn) conn.reset(); // a new SYN reuses a tuple in TIME_WAIT (RFC 1122 4.2.2.13)
    if (!isSyn) {
      if (!(seg.flags & TcpFlag.RST)) {
        this.ctx.counters.inc('tcpNoConnection');
        this.sendReset(d, seg);
      }
      return;
    }
    this.connectOut(d, seg, key);
  }

  private connectOut(d: Datagram, syn: TcpSegment, key: string): void {
    const { cfg, counters } = this.ctx;
    const h = d.header;
    if (cfg.restrict) {
      counters.inc('ipv4Restricted'); // slirp drops these silently; the guest times out
      return;
    }
    const hostAddr = h.dst === cfg.dns && syn.dstPort === 53 ? this.dnsTcpServer() : this.ctx.hostAddressFor(h.dst);
    if (hostAddr === undefined) {
      counters.inc('tcpNoRoute');
      this.sendReset(d, syn);
      return;
    }
    if (this.pendingConnects >= this.maxPendingConnects) {
      counters.inc('tcpSynLimit');
      return;
    }
    if (!this.makeRoom()) {
      counters.inc('tcpConnectionLimit');
      return;
    }
    const ends = { guestAddr: h.src, guestPort: syn.srcPort, remoteAddr: h.dst, remotePort: syn.dstPort };
    const conn = TcpConnection.fromGuestSyn(this.env, ends, syn);
    this.conns.set(key, conn);
    this.pendingConnects++;
    let connecting = true;
    const socket = this.connect(hostAddr, syn.dstPort);
    const connectTimer = this.ctx.clock.setTimer(TCP_CONNECT_TIMEOUT_MS, () => socket.destroy(new Error('connect timeout')));
    const settle = (): void => {
      if (!connecting) return;
      connecting = false;
      this.pendingConnects--;
      connectTimer.cancel();
    };
    socket.once('connect', () => {
      settle();
      if (conn.isClosed) {
        socket.resetAndDestroy(); // the guest gave up (RST) while we were connecting
        return;
      }
      socket.setNoDelay(true);
      conn.hostConnected(new SocketHost(socket));
    });
    this.wire(socket, conn, () => {
      if (connecting) {
        settle();
        conn.hostConnectFailed();
      } else conn.hostError();
    });
  }

  private accept(rule: HostForward, socket: net.Socket): void {
    const { cfg, counters } = this.ctx;
    const remotePort = this.allocatePort(rule.guestAddr, rule.guestPort);
    if (remotePort === undefined || !this.makeRoom()) {
      counters.inc('tcpConnectionLimit');
      socket.resetAndDestroy();
      return;
    }
    // The guest sees connections from the host itself as coming from the host alias.
    const remoteAddr = guestVisibleAddress(cfg, socket.remoteAddress ?? '') ?? cfg.host;
    const ends = { guestAddr: rule.guestAddr, guestPort: rule.guestPort, remoteAddr, remotePort };
    const key = keyOf(ends.guestAddr, ends.guestPort, ends.remoteAddr, ends.remotePort);
    socket.setNoDelay(true);
    const conn = TcpConnection.toGuest(this.env, ends, new SocketHost(socket));
    this.conns.set(key, conn);
    this.wire(socket, conn, () => conn.hostError());
  }

  private wire(socket: net.Socket, conn: TcpConnection, onError: () => void): void {
    socket.on('data', (chunk: Buffer) => conn.hostData(chunk));
    socket.on('end', () => conn.hostEnd());
    socket.on('drain', () => conn.hostDrained());
    socket.on('error', onError);
  }

  /** The one environment all connections share. */
  private readonly env: TcpEnv;

  private makeEnv(): TcpEnv {
    return {
      clock: this.ctx.clock,
      counters: this.ctx.counters,
      output: (f) => this.ctx.sendIp(f),
      hasRoom: (c) => {
        if (this.ctx.hasRoom()) return true;
        this.needRoom.add(c);
        return false;
      },
      nextIpId: () => this.ctx.nextIpId(),
      ackLater: (c) => {
        this.needAck.add(c);
        if (!this.ackScheduled) {
          this.ackScheduled = true;
          queueMicrotask(() => this.flushAcks());
        }
      },
      closed: (c) => {
        const e = c.ends;
        const key = keyOf(e.guestAddr, e.guestPort, e.remoteAddr, e.remotePort);
        if (this.conns.get(key) === c) this.conns.delete(key);
        this.needRoom.delete(c);
        this.needAck.delete(c);
      },
    };
  }

  private flushAcks(): void {
    this.ackScheduled = false;
    const conns = [...this.needAck];
    this.needAck.clear();
    for (const c of conns) c.flushAck();
  }

  /** Frees a slot for a new connection if the table is full, evicting TIME_WAIT first. */
  private makeRoom(): boolean {
    if (this.conns.size < this.maxConnections) return true;
    for (const c of this.conns.values()) {
      if (c.state === TcpState.TimeWait) {
        c.reset();
        return true;
      }
    }
    return false;
  }

  /** A source port on the host alias that no connection to this guest port uses. */
  private allocatePort(guestAddr: Ipv4, guestPort: number): number | undefined {
    for (let i = 0; i < EPHEMERAL_COUNT; i++) {
      const port = EPHEMERAL_FIRST + ((this.nextEphemeral + i) % EPHEMERAL_COUNT);
      if (!this.conns.has(keyOf(guestAddr, guestPort, this.ctx.cfg.host, port))) {
        this.nextEphemeral = (port - EPHEMERAL_FIRST + 1) % EPHEMERAL_COUNT;
        return port;
      }
    }
    return undefined;
  }

  /** RFC 793 "Reset Generation" for a segment that belongs to no connection. */
  private sendReset(d: Datagram, seg: TcpSegment): void {
    const h = d.header;
    const len = seg.data.length + (seg.flags & TcpFlag.SYN ? 1 : 0) + (seg.flags & TcpFlag.FIN ? 1 : 0);
    const hasAck = (seg.flags & TcpFlag.ACK) !== 0;
    this.ctx.counters.inc('tcpResets');
    this.ctx.sendIp(
      buildTcp({
        src: h.dst,
        dst: h.src,
        srcPort: seg.dstPort,
        dstPort: seg.srcPort,
        seq: hasAck ? seg.ack : 0,
        ack: hasAck ? 0 : seqAdd(seg.seq, len),
        flags: hasAck ? TcpFlag.RST : TcpFlag.RST | TcpFlag.ACK,
        window: 0,
        ipId: this.ctx.nextIpId(),
      }),
    );
  }
}

export function hostfwdError(rule: HostForward, e: unknown): Error {
  const code = (e as NodeJS.ErrnoException).code;
  const where = `${rule.protocol} port ${rule.hostPort} on ${rule.hostAddr}`;
  const why =
    code === 'EADDRINUSE'
      ? `host ${where} is already in use`
      : code === 'EACCES'
        ? `no permission to bind host ${where}`
        : code === 'EADDRNOTAVAIL'
          ? `host address ${rule.hostAddr} is not an address of this machine`
          : `cannot bind host ${where}: ${(e as Error).message}`;
  return new Error(`hostfwd=${rule.spec}: ${why} (guest ${ipv4ToString(rule.guestAddr)}:${rule.guestPort})`);
}
