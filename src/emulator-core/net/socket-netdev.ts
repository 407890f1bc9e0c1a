// A link between two VMs (`-netdev socket,listen=` / `connect=`, `-netdev stream`, and
// `-netdev socket,udp=`): Ethernet frames go to a peer over TCP or a unix socket with QEMU's
// length framing (framing.ts), or one frame per datagram over UDP, so a viv VM can be linked to
// another viv VM or to a QEMU one.
import dgram from 'node:dgram';
import net from 'node:net';
import { TxQueue, type FrameReceiver, type NetBackend } from './backend';
import { NetCounters } from './counters';
import { encodeFrame, FrameDecoder, MAX_LINK_FRAME } from './framing';

export type SocketNetdevConfig =
  | { kind: 'listen'; host: string; port: number }
  | { kind: 'connect'; host: string; port: number }
  | { kind: 'listen-unix'; path: string }
  | { kind: 'connect-unix'; path: string }
  | { kind: 'udp'; remoteHost: string; remotePort: number; localHost: string; localPort: number };

/** Bytes queued towards a peer that is not reading before frames are dropped (a congested wire). */
export const LINK_MAX_BUFFERED = 4 * 1024 * 1024;

function hostPort(opt: string, v: string, hostRequired: boolean): { host: string; port: number } {
  const i = v.lastIndexOf(':');
  const host = i < 0 ? '' : v.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  const port = Number(v.slice(i + 1));
  if (i < 0 || !Number.isInteger(port) || port < 0 || port > 65535 || (hostRequired && !host)) {
    throw new Error(`-netdev socket: ${opt}=${v}: expected ${hostRequired ? 'host' : '[host]'}:port`);
  }
  return { host, port };
}

/**
 * Parses `-netdev socket` pairs (listen=, connect=, udp= with localaddr=) and the `-netdev stream`
 * form of QEMU 7.2 (server=on|off, addr.type=inet|unix, addr.host, addr.port, addr.path).
 * QEMU binds an empty listen host to all interfaces; we bind 127.0.0.1 unless told otherwise.
 */
export function parseSocketNetdevOptions(type: 'socket' | 'stream', pairs: [string, string][]): SocketNetdevConfig {
  const get = (k: string): string | undefined => pairs.filter(([key]) => key === k).at(-1)?.[1];
  for (const [k] of pairs) {
    if (k === 'fd' || k === 'mcast') throw new Error(`-netdev ${type}: ${k}= is not supported`);
  }
  if (type === 'stream') {
    const server = get('server') === 'on' || get('server') === 'true';
    const t = get('addr.type');
    if (t === 'unix') {
      const path = get('addr.path');
      if (!path) throw new Error('-netdev stream: addr.type=unix needs addr.path=');
      return server ? { kind: 'listen-unix', path } : { kind: 'connect-unix', path };
    }
    if (t !== 'inet') throw new Error(`-netdev stream: addr.type=${t ?? ''}: expected inet or unix`);
    const port = Number(get('addr.port'));
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('-netdev stream: bad addr.port=');
    const host = get('addr.host') || '127.0.0.1';
    return server ? { kind: 'listen', host, port } : { kind: 'connect', host, port };
  }
  const listen = get('listen');
  const connect = get('connect');
  const udp = get('udp');
  if ([listen, connect, udp].filter((v) => v !== undefined).length !== 1) {
    throw new Error('-netdev socket: exactly one of listen=, connect=, udp= is required');
  }
  if (listen !== undefined) {
    const a = hostPort('listen', listen, false);
    return { kind: 'listen', host: a.host || '127.0.0.1', port: a.port };
  }
  if (connect !== undefined) return { kind: 'connect', ...hostPort('connect', connect, true) };
  const r = hostPort('udp', udp!, true);
  const local = get('localaddr');
  if (local === undefined) throw new Error('-netdev socket: udp= needs localaddr=');
  const l = hostPort('localaddr', local, false);
  return { kind: 'udp', remoteHost: r.host, remotePort: r.port, localHost: l.host || '127.0.0.1', localPort: l.port };
}

export class SocketNetdev implements NetBackend {
  readonly counters = new NetCounters();
  private readonly txq: TxQueue;
  private server: net.Server | undefined;
  private peer: net.Socket | undefined;
  private udp: dgram.Socket | undefined;
  private closed = false;

  constructor(readonly cfg: SocketNetdevConfig) {
    this.txq = new TxQueue(this.counters, () => this.peer?.resume());
  }

  /** Whether a stream peer is connected (UDP links are always "up"). */
  get connected(): boolean {
    return this.peer !== undefined || this.udp !== undefined;
  }

  /** The bound TCP port of a listening link (listen with port 0 asks the OS for one). */
  get listenPort(): number | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  async start(): Promise<void> {
    const c = this.cfg;
    const what = describe(c);
    try {
      if (c.kind === 'listen' || c.kind === 'listen-unix') {
        const server = net.createServer((s) => this.accept(s));
        this.server = server;
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          const done = (): void => {
            server.off('error', reject);
            resolve();
          };
          if (c.kind === 'listen') server.listen({ port: c.port, host: c.host, exclusive: true }, done);
          else server.listen({ path: c.path }, done);
        });
        server.on('error', () => {});
      } else if (c.kind === 'connect' || c.kind === 'connect-unix') {
        const s = c.kind === 'connect' ? net.connect({ host: c.host, port: c.port }) : net.connect({ path: c.path });
        await new Promise<void>((resolve, reject) => {
          s.once('error', reject);
          s.once('connect', () => {
            s.off('error', reject);
            resolve();
          });
        });
        this.adopt(s);
      } else {
        const sock = dgram.createSocket('udp4');
        await new Promise<void>((resolve, reject) => {
          sock.once('error', reject);
          sock.bind({ port: c.localPort, address: c.localHost, exclusive: true }, () => {
            sock.off('error', reject);
            resolve();
          });
        });
        sock.on('error', () => this.counters.inc('linkCongested'));
        sock.on('message', (msg, from) => {
          if (from.port === c.remotePort && msg.length > 0 && msg.length <= MAX_LINK_FRAME) this.fromPeer(new Uint8Array(msg));
        });
        this.udp = sock;
      }
    } catch (e) {
      await this.close();
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'EADDRINUSE' ? 'address already in use' : code === 'ECONNREFUSED' ? 'connection refused' : (e as Error).message;
      throw new Error(`-netdev socket ${what}: ${why}`);
    }
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
    const c = this.cfg;
    if (this.udp && c.kind === 'udp') {
      this.udp.send(frame, c.remotePort, c.remoteHost);
      return;
    }
    const peer = this.peer;
    if (!peer) {
      this.counters.inc('linkNoPeer');
      return;
    }
    if (peer.writableLength > LINK_MAX_BUFFERED) {
      this.counters.inc('linkCongested');
      return;
    }
    peer.write(encodeFrame(frame));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.txq.close();
    this.peer?.destroy();
    this.peer = undefined;
    this.udp?.close();
    this.udp = undefined;
    const server = this.server;
    this.server = undefined;
    if (server?.listening) await new Promise<void>((r) => server.close(() => r()));
  }

  private accept(s: net.Socket): void {
    // One peer at a time, as QEMU stops accepting while connected.
    if (this.peer || this.closed) {
      s.destroy();
      return;
    }
    this.adopt(s);
  }

  private adopt(s: net.Socket): void {
    this.peer = s;
    s.setNoDelay(true);
    const decoder = new FrameDecoder();
    s.on('data', (chunk: Buffer) => {
      if (!decoder.push(chunk, (f) => this.fromPeer(f))) {
        this.counters.inc('linkFramingError');
        s.destroy();
      }
    });
    const gone = (): void => {
      if (this.peer === s) this.peer = undefined;
    };
    s.on('error', gone);
    s.on('close', gone);
  }

  private fromPeer(frame: Uint8Array): void {
    this.txq.push(frame);
    if (!this.txq.hasRoom()) this.peer?.pause(); // resumed when the guest takes frames
  }
}

function describe(c: SocketNetdevConfig): string {
  switch (c.kind) {
    case 'listen':
      return `listen=${c.host}:${c.port}`;
    case 'connect':
      return `connect=${c.host}:${c.port}`;
    case 'listen-unix':
      return `listen on ${c.path}`;
    case 'connect-unix':
      return `connect to ${c.path}`;
    case 'udp':
      return `udp=${c.remoteHost}:${c.remotePort},localaddr=${c.localHost}:${c.localPort}`;
  }
}
