// The VNC server of one display: listens where `-vnc` says (TCP, a unix socket, WebSocket for
// noVNC), or takes byte streams from elsewhere (the app's MessagePort), and applies the auth and
// share policies QEMU has. The framebuffer and the input sink belong to the display device.

import { EventEmitter } from 'node:events';
import { existsSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { Framebuffer } from '../framebuffer';
import { nullInputSink, type InputSink } from '../input';
import type { SharePolicy, VncConfig } from '../vnc-options';
import { RfbConnection, type ConnectionHost } from './connection';

export interface VncServerOptions {
  framebuffer: Framebuffer;
  input?: InputSink;
  /** The desktop name in ServerInit (QEMU sends -name, else "QEMU"). */
  name?: string;
  /** VNC Authentication on (`-vnc ...,password=on`); clients fail until `setPassword`. */
  password?: boolean;
  share?: SharePolicy;
  connections?: number;
  onCutText?: (text: string) => void;
  /** How long a client may take over the handshake (default 30 s). */
  handshakeTimeoutMs?: number;
  /**
   * Pages allowed to open the WebSocket listener (exact `Origin` values). Absent: any client, as
   * QEMU's websocket. Given (the app sets it for its display window): the handshake must carry one
   * of these origins and a loopback Host naming our port, so another site open in the same
   * browser, or a DNS-rebinding page, cannot reach the guest's screen even if it found the port.
   */
  websocketOrigins?: readonly string[];
}

export interface VncAddresses {
  tcp?: { host: string; port: number };
  unix?: string;
  websocket?: { host: string; port: number };
}

/** Events: 'client' (RfbConnection), 'client-closed' (RfbConnection, reason: string | null). */
export class VncServer extends EventEmitter implements ConnectionHost {
  readonly framebuffer: Framebuffer;
  readonly input: InputSink;
  readonly desktopName: string;
  private passwordOn: boolean;
  private password: string | null = null;
  private share: SharePolicy;
  private maxConnections: number;
  private readonly connections = new Set<RfbConnection>();
  private readonly exclusive = new Set<RfbConnection>();
  private readonly servers: net.Server[] = [];
  private wss: WebSocketServer | null = null;
  private unixPath: string | null = null;
  private readonly onCutText?: (text: string) => void;
  readonly handshakeTimeoutMs?: number;
  private readonly websocketOrigins?: readonly string[];

  constructor(opts: VncServerOptions) {
    super();
    this.handshakeTimeoutMs = opts.handshakeTimeoutMs;
    this.framebuffer = opts.framebuffer;
    this.input = opts.input ?? nullInputSink;
    this.desktopName = opts.name ?? 'QEMU';
    this.passwordOn = opts.password ?? false;
    this.share = opts.share ?? 'allow-exclusive';
    this.maxConnections = opts.connections ?? 32;
    this.onCutText = opts.onCutText;
    this.websocketOrigins = opts.websocketOrigins;
  }

  get clients(): readonly RfbConnection[] {
    return [...this.connections];
  }

  /** QMP `set_password protocol=vnc`; null clears it (then every login fails, as in QEMU). */
  setPassword(password: string | null): void {
    this.password = password;
  }

  // ---- ConnectionHost ----

  authRequired(): boolean {
    return this.passwordOn;
  }
  authPassword(): string | null {
    return this.passwordOn ? this.password : null;
  }
  cutText(text: string): void {
    this.onCutText?.(text);
  }

  admit(conn: RfbConnection, shared: boolean): string | null {
    // As QEMU's ui/vnc.c: `ignore` treats everyone as shared; `force-shared` refuses exclusive
    // requests; `allow-exclusive` lets an exclusive client disconnect the others (rfbproto
    // 7.3.1) and refuses shared clients while it is there.
    if (this.share === 'ignore') return null;
    if (shared) return this.exclusive.size === 0 ? null : 'another client has exclusive access';
    if (this.share === 'force-shared') return 'exclusive access is refused (share=force-shared)';
    for (const other of this.connections) if (other !== conn) other.close('another client asked for exclusive access');
    this.exclusive.add(conn);
    return null;
  }

  closed(conn: RfbConnection, reason: string | null): void {
    this.connections.delete(conn);
    this.exclusive.delete(conn);
    this.emit('client-closed', conn, reason);
  }

  // ---- transports ----

  /** Serves RFB on any byte stream (a TCP socket, a WebSocket stream, the app's MessagePort). */
  attach(stream: Duplex, peer = 'stream'): RfbConnection | null {
    if (this.connections.size >= this.maxConnections) {
      stream.destroy();
      return null;
    }
    const conn = new RfbConnection(this, stream, peer);
    this.connections.add(conn);
    this.emit('client', conn);
    return conn;
  }

  /** Opens the listeners of a parsed `-vnc` option; resolves with the addresses actually bound. */
  async listen(cfg: VncConfig): Promise<VncAddresses> {
    this.passwordOn = cfg.password;
    this.share = cfg.share;
    this.maxConnections = cfg.connections;
    const out: VncAddresses = {};
    const l = cfg.listen;
    if (l?.kind === 'tcp') {
      // `to=L`: try each port up to 5900+L, as QEMU does, taking the first free one.
      let lastError: unknown;
      for (let port = l.port; port <= l.lastPort; port++) {
        try {
          out.tcp = await this.listenTcp(l.host, port);
          break;
        } catch (e) {
          lastError = e;
          if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') break;
        }
      }
      if (!out.tcp) throw lastError;
    } else if (l?.kind === 'unix') {
      // A stale socket file from a previous run would make listen fail with EADDRINUSE.
      if (existsSync(l.path)) unlinkSync(l.path);
      await this.listenServer(l.path);
      this.unixPath = l.path;
      out.unix = l.path;
    }
    if (cfg.websocket) out.websocket = await this.listenWebSocket(cfg.websocket.host, cfg.websocket.port);
    return out;
  }

  private async listenTcp(host: string, port: number): Promise<{ host: string; port: number }> {
    const server = await this.listenServer({ host, port });
    const a = server.address() as net.AddressInfo;
    return { host: a.address, port: a.port };
  }

  private listenServer(where: string | { host: string; port: number }): Promise<net.Server> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((socket) => {
        socket.setNoDelay(true);
        this.attach(socket, socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : 'unix');
      });
      server.once('error', reject);
      const onListening = () => {
        server.off('error', reject);
        this.servers.push(server);
        resolve(server);
      };
      if (typeof where === 'string') server.listen(where, onListening);
      else server.listen(where.port, where.host, onListening);
    });
  }

  private listenWebSocket(host: string, port: number): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const wss = new WebSocketServer({
        host,
        port,
        // noVNC and websockify speak RFB in binary frames under the 'binary' subprotocol (or none).
        handleProtocols: (protocols) => (protocols.has('binary') ? 'binary' : false),
        perMessageDeflate: false,
        verifyClient: (info, done) => {
          const refusal = this.refuseWebSocket(info.origin, info.req.headers.host, port);
          if (refusal) {
            this.emit('websocket-refused', refusal);
            done(false, 403, refusal);
          } else done(true);
        },
      });
      wss.once('error', reject);
      wss.on('listening', () => {
        wss.off('error', reject);
        this.wss = wss;
        const a = wss.address() as net.AddressInfo;
        resolve({ host: a.address, port: a.port });
      });
      wss.on('connection', (ws, req) => {
        const stream = createWebSocketStream(ws);
        stream.on('error', () => stream.destroy());
        this.attach(stream, `ws:${req.socket.remoteAddress}:${req.socket.remotePort}`);
      });
    });
  }

  /** Why a WebSocket handshake is refused (see `websocketOrigins`), or null to accept it. */
  private refuseWebSocket(origin: string | undefined, host: string | undefined, listenPort: number): string | null {
    const allowed = this.websocketOrigins;
    if (!allowed) return null;
    if (!origin) return 'no Origin';
    if (!allowed.includes(origin)) return `foreign Origin ${origin}`;
    const port = listenPort || (this.wss?.address() as net.AddressInfo | undefined)?.port;
    if (!host || !['127.0.0.1', 'localhost', '[::1]'].some((h) => host === `${h}:${port}`)) return `bad Host ${host ?? ''}`;
    return null;
  }

  /** Closes the listeners and every client. */
  async close(): Promise<void> {
    for (const c of [...this.connections]) c.close(null);
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.servers.length = 0;
    if (this.wss) {
      const wss = this.wss;
      this.wss = null;
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
    }
    if (this.unixPath && existsSync(this.unixPath)) unlinkSync(this.unixPath);
    this.unixPath = null;
  }
}
