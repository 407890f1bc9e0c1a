// A simulated guest for tests: a small, separate TCP/IP endpoint (ARP, DHCP client, ICMP echo,
// UDP, TCP client and server) attached to a NetBackend the way a NIC is. Deliberately simple and
// written apart from the stack (its own packet code in packets.ts), so the two check each other:
// every frame the stack sends is verified with the reference checksum and counted if bad.
import { performance } from 'node:perf_hooks';
import type { NetBackend } from '../backend';
import {
  F,
  GUEST_MAC,
  icmpEcho,
  ip,
  ipFrame,
  parseFrame,
  parseTransport,
  tcpFrame,
  udpFrame,
  type Parsed,
} from './packets';

type Waiter<T> = { test: (v: T) => boolean; resolve: (v: T) => void };

export interface SimGuestOptions {
  mac?: Uint8Array;
  ip?: number;
  /** Our TCP receive window (bytes) and window scale shift. */
  rcvWindow?: number;
  wscale?: number;
  mss?: number;
}

export class SimGuest {
  readonly mac: Uint8Array;
  addr: number;
  gatewayMac = new Uint8Array([0x52, 0x55, 10, 0, 2, 2]);
  /** Frames whose IP header or transport checksum failed the reference check. */
  badChecksums = 0;
  framesIn = 0;
  readonly received: Parsed[] = [];
  keepFrames = false;
  private readonly waiters: Waiter<Parsed>[] = [];
  private readonly tcps = new Map<string, SimTcp>();
  private readonly listeners = new Map<number, (c: SimTcp) => void>();
  private readonly udpHandlers = new Map<number, (src: number, sport: number, data: Uint8Array) => void>();
  private readonly frags = new Map<string, { parts: { off: number; data: Uint8Array }[]; end?: number; first?: Parsed }>();
  readonly opts: Required<Omit<SimGuestOptions, 'mac' | 'ip'>>;
  private nextPort = 40000;
  /** Drop every n-th frame from the stack (0: never), to exercise retransmission. */
  dropEvery = 0;
  private dropCounter = 0;

  constructor(
    readonly net: NetBackend,
    opts: SimGuestOptions = {},
  ) {
    this.mac = opts.mac ?? GUEST_MAC;
    this.addr = opts.ip ?? ip('10.0.2.15');
    this.opts = { rcvWindow: opts.rcvWindow ?? 1 << 20, wscale: opts.wscale ?? 6, mss: opts.mss ?? 1460 };
    net.attach((f) => {
      this.onFrame(f);
      return true;
    });
  }

  send(frame: Uint8Array): void {
    this.net.send(frame);
  }

  /** Resolves with the first frame (from now on) that `test` accepts. */
  waitFor(test: (p: Parsed) => boolean, timeoutMs = 5000): Promise<Parsed> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('SimGuest: timed out waiting for a frame')), timeoutMs);
      this.waiters.push({
        test,
        resolve: (p) => {
          clearTimeout(t);
          resolve(p);
        },
      });
    });
  }

  private onFrame(raw: Uint8Array): void {
    this.framesIn++;
    if (this.dropEvery > 0 && ++this.dropCounter % this.dropEvery === 0) return;
    let p = parseFrame(raw);
    if (p.ip && !p.ip.headerOk) this.badChecksums++;
    if (p.ip && (p.ip.mf || p.ip.offset)) {
      const whole = this.reassemble(p);
      if (!whole) return;
      p = whole;
    }
    if (p.transportOk === false) this.badChecksums++;
    if (this.keepFrames) this.received.push(p);
    for (let i = 0; i < this.waiters.length; i++) {
      if (this.waiters[i]!.test(p)) {
        this.waiters.splice(i, 1)[0]!.resolve(p);
        break;
      }
    }
    if (p.type === 0x0806) this.onArp(raw);
    if (p.tcp && p.ip) this.onTcp(p);
    if (p.udp && p.ip) this.udpHandlers.get(p.udp.dport)?.(p.ip.src, p.udp.sport, p.udp.data);
  }

  private reassemble(p: Parsed): Parsed | undefined {
    const key = `${p.ip!.src}/${p.ip!.id}/${p.ip!.proto}`;
    const e = this.frags.get(key) ?? { parts: [] };
    this.frags.set(key, e);
    e.parts.push({ off: p.ip!.offset, data: p.ip!.payload });
    if (!p.ip!.mf) e.end = p.ip!.offset + p.ip!.payload.length;
    if (p.ip!.offset === 0) e.first = p;
    const have = e.parts.reduce((n, x) => n + x.data.length, 0);
    if (e.end === undefined || !e.first || have !== e.end) return undefined;
    this.frags.delete(key);
    const payload = new Uint8Array(e.end);
    for (const x of e.parts) payload.set(x.data, x.off);
    const ipInfo = { ...e.first.ip!, mf: false, offset: 0, payload };
    return { ...e.first, ip: ipInfo, ...parseTransport(ipInfo.src, ipInfo.dst, ipInfo.proto, payload) };
  }

  private onArp(raw: Uint8Array): void {
    const v = new DataView(raw.buffer, raw.byteOffset);
    if (v.getUint16(20) === 1 && v.getUint32(38) === this.addr) {
      const r = new Uint8Array(42);
      const w = new DataView(r.buffer);
      r.set(raw.subarray(22, 28), 0);
      r.set(this.mac, 6);
      w.setUint16(12, 0x0806);
      w.setUint16(14, 1);
      w.setUint16(16, 0x0800);
      r[18] = 6;
      r[19] = 4;
      w.setUint16(20, 2);
      r.set(this.mac, 22);
      w.setUint32(28, this.addr);
      r.set(raw.subarray(22, 32), 32);
      this.send(r);
    }
  }

  // ---- DHCP client (RFC 2131 DISCOVER / REQUEST) ----

  async dhcp(): Promise<{ addr: number; router?: number; dns?: number; options: Map<number, Uint8Array> }> {
    const xid = 0x1234abcd;
    const discover = this.bootp(xid, [53, 1, 1]);
    const offerP = this.waitFor((p) => p.udp?.dport === 68 && dhcpType(p.udp.data) === 2);
    this.send(udpFrame(0xffffffff, 68, 67, discover, 0));
    const offer = await offerP;
    const yiaddr = new DataView(offer.udp!.data.buffer, offer.udp!.data.byteOffset).getUint32(16);
    const req = this.bootp(xid, [53, 1, 3, 50, 4, ...be32(yiaddr), 54, 4, ...be32(ip('10.0.2.2'))]);
    const ackP = this.waitFor((p) => p.udp?.dport === 68 && (dhcpType(p.udp.data) === 5 || dhcpType(p.udp.data) === 6));
    this.send(udpFrame(0xffffffff, 68, 67, req, 0));
    const ack = await ackP;
    if (dhcpType(ack.udp!.data) !== 5) throw new Error('DHCP NAK');
    const options = dhcpOptions(ack.udp!.data);
    this.addr = yiaddr;
    const u32 = (b?: Uint8Array): number | undefined => (b ? new DataView(b.buffer, b.byteOffset).getUint32(0) : undefined);
    return { addr: yiaddr, router: u32(options.get(3)), dns: u32(options.get(6)), options };
  }

  bootp(xid: number, options: number[]): Uint8Array {
    const b = new Uint8Array(300);
    const v = new DataView(b.buffer);
    b[0] = 1;
    b[1] = 1;
    b[2] = 6;
    v.setUint32(4, xid);
    b.set(this.mac, 28);
    v.setUint32(236, 0x63825363);
    b.set([...options, 255], 240);
    return b;
  }

  // ---- ICMP ----

  async ping(dst: number, data: Uint8Array, seq = 1): Promise<Parsed> {
    const r = this.waitFor((p) => p.icmp?.type === 0 && p.icmp.seq === seq && p.ip?.src === dst);
    const msg = icmpEcho(0x77, seq, data);
    this.sendIp(dst, 1, msg);
    return r;
  }

  /** Sends an IP datagram, fragmenting it at `mtu` like a guest kernel would. */
  sendIp(dst: number, proto: number, payload: Uint8Array, mtu = 1500, id = (Math.random() * 65535) | 0): void {
    const chunk = Math.floor((mtu - 20) / 8) * 8;
    if (payload.length + 20 <= mtu) {
      this.send(ipFrame({ src: this.addr, dst, proto, id, srcMac: this.mac }, payload));
      return;
    }
    for (let off = 0; off < payload.length; off += chunk) {
      const part = payload.subarray(off, off + chunk);
      this.send(
        ipFrame({ src: this.addr, dst, proto, id, offset: off, mf: off + chunk < payload.length, srcMac: this.mac }, part),
      );
    }
  }

  // ---- UDP ----

  udpBind(port: number, handler: (src: number, sport: number, data: Uint8Array) => void): void {
    this.udpHandlers.set(port, handler);
  }

  udpSend(dst: number, sport: number, dport: number, data: Uint8Array): void {
    this.send(udpFrame(dst, sport, dport, data, this.addr));
  }

  // ---- TCP ----

  connect(dst: number, dport: number): Promise<SimTcp> {
    const c = new SimTcp(this, this.nextPort++, dst, dport);
    this.tcps.set(c.key, c);
    return c.open();
  }

  listen(port: number, onAccept: (c: SimTcp) => void): void {
    this.listeners.set(port, onAccept);
  }

  sendTcp(spec: Parameters<typeof tcpFrame>[0]): void {
    this.send(tcpFrame({ ...spec, src: this.addr }));
  }

  forget(c: SimTcp): void {
    if (this.tcps.get(c.key) === c) this.tcps.delete(c.key);
  }

  private onTcp(p: Parsed): void {
    const t = p.tcp!;
    const key = `${t.dport}>${p.ip!.src}:${t.sport}`;
    const c = this.tcps.get(key);
    if (c) return c.segment(p);
    const accept = this.listeners.get(t.dport);
    if (accept && t.flags === F.SYN) {
      const n = new SimTcp(this, t.dport, p.ip!.src, t.sport);
      this.tcps.set(n.key, n);
      n.acceptSyn(p);
      accept(n);
      return;
    }
    if (!(t.flags & F.RST)) {
      // Closed port: RST, as a real stack does.
      this.sendTcp({
        dst: p.ip!.src,
        sport: t.dport,
        dport: t.sport,
        seq: t.flags & F.ACK ? t.ack : 0,
        ack: (t.seq + t.data.length + (t.flags & F.SYN ? 1 : 0) + (t.flags & F.FIN ? 1 : 0)) >>> 0,
        flags: t.flags & F.ACK ? F.RST : F.RST | F.ACK,
      });
    }
  }
}

const lt = (a: number, b: number): boolean => ((a - b) | 0) < 0;

/** One simulated-guest TCP connection: go-back-N sender, in-order receiver. */
export class SimTcp {
  readonly key: string;
  state: 'syn-sent' | 'syn-rcvd' | 'open' | 'closed' | 'reset' = 'syn-sent';
  private iss = (Math.random() * 2 ** 32) >>> 0;
  private sndUna = this.iss;
  private sndNxt = this.iss;
  private rcvNxt = 0;
  private peerWnd = 0;
  private peerShift = 0;
  private peerMss = 536;
  private scaling = false;
  private out: Uint8Array[] = [];
  private outBytes = 0;
  private finQueued = false;
  private finSent = false;
  finAcked = false;
  peerFin = false;
  readonly chunks: Uint8Array[] = [];
  receivedBytes = 0;
  /** While true the app does not read: the advertised window shrinks to zero. */
  paused = false;
  private unread = 0;
  onData?: (data: Uint8Array) => void;
  private openWaiter?: { resolve: (c: SimTcp) => void; reject: (e: Error) => void };
  private closeWaiters: (() => void)[] = [];
  private timer?: NodeJS.Timeout;
  private ackScheduled = false;
  /** Segments seen from the stack (for tests of the stack's behaviour). */
  readonly segments: NonNullable<Parsed['tcp']>[] = [];
  keepSegments = false;
  lastSeen = performance.now();

  constructor(
    private readonly g: SimGuest,
    readonly lport: number,
    readonly raddr: number,
    readonly rport: number,
  ) {
    this.key = `${lport}>${raddr}:${rport}`;
  }

  get window(): number {
    return Math.max(0, this.g.opts.rcvWindow - this.unread);
  }

  open(): Promise<SimTcp> {
    const p = new Promise<SimTcp>((resolve, reject) => (this.openWaiter = { resolve, reject }));
    this.sendSyn(F.SYN);
    this.sndNxt = (this.iss + 1) >>> 0;
    this.arm();
    return p;
  }

  private sendSyn(flags: number): void {
    const o = this.g.opts;
    this.g.sendTcp({
      dst: this.raddr,
      sport: this.lport,
      dport: this.rport,
      seq: this.iss,
      ack: flags & F.ACK ? this.rcvNxt : 0,
      flags,
      window: Math.min(65535, this.window),
      options: [2, 4, o.mss >> 8, o.mss & 255, 1, 3, 3, o.wscale],
    });
  }

  acceptSyn(p: Parsed): void {
    const t = p.tcp!;
    this.rcvNxt = (t.seq + 1) >>> 0;
    this.takeOptions(t);
    this.peerWnd = t.window;
    this.state = 'syn-rcvd';
    this.sendSyn(F.SYN | F.ACK);
    this.sndNxt = (this.iss + 1) >>> 0;
    this.arm();
  }

  private takeOptions(t: NonNullable<Parsed['tcp']>): void {
    if (t.mss) this.peerMss = t.mss;
    this.scaling = t.wscale !== undefined;
    this.peerShift = t.wscale ?? 0;
  }

  write(data: Uint8Array): void {
    if (data.length === 0) return;
    this.out.push(data);
    this.outBytes += data.length;
    this.pump();
  }

  end(): void {
    this.finQueued = true;
    this.pump();
  }

  /** Reads resume: the window opens again. */
  resume(): void {
    this.paused = false;
    this.unread = 0;
    this.ack();
  }

  /** RST the connection. */
  abort(): void {
    this.g.sendTcp({ dst: this.raddr, sport: this.lport, dport: this.rport, seq: this.sndNxt, ack: this.rcvNxt, flags: F.RST | F.ACK });
    this.finish('reset');
  }

  closed(): Promise<void> {
    if (this.state === 'closed' || this.state === 'reset') return Promise.resolve();
    return new Promise((r) => this.closeWaiters.push(r));
  }

  /** All bytes received so far, concatenated. */
  data(): Uint8Array {
    const out = new Uint8Array(this.receivedBytes);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }

  segment(p: Parsed): void {
    const t = p.tcp!;
    this.lastSeen = performance.now();
    if (this.keepSegments) this.segments.push(t);
    if (t.flags & F.RST) {
      this.openWaiter?.reject(new Error('connection refused'));
      this.openWaiter = undefined;
      this.finish('reset');
      return;
    }
    if (this.state === 'syn-sent') {
      if ((t.flags & (F.SYN | F.ACK)) !== (F.SYN | F.ACK) || t.ack !== this.sndNxt) return;
      this.rcvNxt = (t.seq + 1) >>> 0;
      this.takeOptions(t);
      this.sndUna = t.ack;
      this.peerWnd = t.window; // unscaled in SYN
      this.state = 'open';
      this.disarm();
      this.ack();
      this.openWaiter?.resolve(this);
      this.openWaiter = undefined;
      return;
    }
    if (this.state === 'syn-rcvd') {
      if (!(t.flags & F.ACK) || t.ack !== this.sndNxt) return;
      this.state = 'open';
      this.sndUna = t.ack;
      this.disarm();
    }
    if (this.state !== 'open') return;
    if (t.flags & F.ACK) {
      const acked = (t.ack - this.sndUna) | 0;
      if (acked > 0 && !lt(this.sndNxt, t.ack)) {
        this.consume(acked, t.ack);
        this.sndUna = t.ack;
        if (this.sndUna === this.sndNxt) this.disarm();
        else this.arm();
      }
      this.peerWnd = t.window << (this.scaling ? this.peerShift : 0);
    }
    if (t.data.length > 0 || t.flags & F.FIN) {
      if (t.seq !== this.rcvNxt) {
        this.ack(); // out of order or duplicate: re-ACK what we have
      } else {
        if (t.data.length > 0) {
          const room = this.window;
          const take = t.data.subarray(0, Math.min(room, t.data.length));
          if (take.length > 0) {
            this.rcvNxt = (this.rcvNxt + take.length) >>> 0;
            this.chunks.push(take);
            this.receivedBytes += take.length;
            if (this.paused) this.unread += take.length;
            this.onData?.(take);
          }
          if (take.length < t.data.length) {
            this.ack();
            return;
          }
        }
        if (t.flags & F.FIN && !this.peerFin) {
          this.peerFin = true;
          this.rcvNxt = (this.rcvNxt + 1) >>> 0;
          this.ack(); // now: the connection may finish before a scheduled ACK would go
        } else this.scheduleAck();
      }
    }
    this.pump();
    if (this.peerFin && this.finAcked) this.finish('closed');
  }

  private consume(n: number, ack: number): void {
    // The FIN occupies one sequence number after the data.
    let dataAcked = Math.min(n, this.outBytes);
    const finSeq = (this.sndUna + this.outBytes) >>> 0;
    if (this.finSent && lt(finSeq, ack)) {
      this.finAcked = true;
      dataAcked = this.outBytes;
    }
    let left = dataAcked;
    while (left > 0 && this.out.length) {
      const c = this.out[0]!;
      if (c.length <= left) {
        left -= c.length;
        this.outBytes -= c.length;
        this.out.shift();
      } else {
        this.out[0] = c.subarray(left);
        this.outBytes -= left;
        left = 0;
      }
    }
  }

  private pump(): void {
    if (this.state !== 'open') return;
    const mss = Math.min(this.peerMss, this.g.opts.mss);
    for (;;) {
      const inflight = (this.sndNxt - this.sndUna) | 0;
      const unsent = this.outBytes - inflight;
      const usable = this.peerWnd - inflight;
      if (unsent > 0 && usable > 0) {
        const n = Math.min(unsent, usable, mss);
        this.g.sendTcp({
          dst: this.raddr,
          sport: this.lport,
          dport: this.rport,
          seq: this.sndNxt,
          ack: this.rcvNxt,
          flags: F.ACK | F.PSH,
          window: this.advertised(),
          data: this.slice(inflight, n),
        });
        this.sndNxt = (this.sndNxt + n) >>> 0;
        this.arm();
        continue;
      }
      if (unsent === 0 && this.finQueued && !this.finSent) {
        this.finSent = true;
        this.g.sendTcp({ dst: this.raddr, sport: this.lport, dport: this.rport, seq: this.sndNxt, ack: this.rcvNxt, flags: F.FIN | F.ACK, window: this.advertised() });
        this.sndNxt = (this.sndNxt + 1) >>> 0;
        this.arm();
      }
      break;
    }
  }

  private slice(offset: number, n: number): Uint8Array {
    const out = new Uint8Array(n);
    let o = 0;
    for (const c of this.out) {
      if (offset >= c.length) {
        offset -= c.length;
        continue;
      }
      const take = Math.min(c.length - offset, n - o);
      out.set(c.subarray(offset, offset + take), o);
      o += take;
      offset = 0;
      if (o === n) break;
    }
    return out;
  }

  private advertised(): number {
    return Math.min(65535, this.window >>> (this.scaling ? this.g.opts.wscale : 0));
  }

  private scheduleAck(): void {
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    queueMicrotask(() => {
      this.ackScheduled = false;
      this.ack();
    });
  }

  ack(): void {
    if (this.state === 'closed' || this.state === 'reset') return;
    this.g.sendTcp({ dst: this.raddr, sport: this.lport, dport: this.rport, seq: this.sndNxt, ack: this.rcvNxt, flags: F.ACK, window: this.advertised() });
  }

  private arm(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.onTimeout();
    }, 300);
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private onTimeout(): void {
    if (this.state === 'syn-sent') {
      this.sendSyn(F.SYN);
      this.arm();
      return;
    }
    if (this.state === 'syn-rcvd') {
      this.sendSyn(F.SYN | F.ACK);
      this.arm();
      return;
    }
    if (this.state !== 'open' || this.sndUna === this.sndNxt) return;
    // Go back N.
    this.sndNxt = this.sndUna;
    if (this.finSent && !this.finAcked) this.finSent = false;
    if (this.peerWnd === 0 && this.outBytes > 0) {
      // Zero-window probe: one byte.
      this.g.sendTcp({ dst: this.raddr, sport: this.lport, dport: this.rport, seq: this.sndNxt, ack: this.rcvNxt, flags: F.ACK, window: this.advertised(), data: this.slice(0, 1) });
      this.sndNxt = (this.sndNxt + 1) >>> 0;
      this.arm();
      return;
    }
    this.pump();
    this.arm();
  }

  private finish(state: 'closed' | 'reset'): void {
    this.state = state;
    this.disarm();
    this.g.forget(this);
    for (const w of this.closeWaiters.splice(0)) w();
  }
}

function be32(v: number): number[] {
  return [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
}

export function dhcpOptions(b: Uint8Array): Map<number, Uint8Array> {
  const m = new Map<number, Uint8Array>();
  for (let i = 240; i < b.length; ) {
    const code = b[i]!;
    if (code === 0) {
      i++;
      continue;
    }
    if (code === 255) break;
    const len = b[i + 1]!;
    const prev = m.get(code);
    const val = b.slice(i + 2, i + 2 + len);
    m.set(code, prev ? new Uint8Array([...prev, ...val]) : val);
    i += 2 + len;
  }
  return m;
}

function dhcpType(b: Uint8Array): number | undefined {
  return dhcpOptions(b).get(53)?.[0];
}
