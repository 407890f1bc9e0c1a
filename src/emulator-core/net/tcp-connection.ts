// One TCP connection between the guest and the stack (RFC 793 as amended by RFC 1122, RFC 5961,
// RFC 6298 and RFC 7323). The stack plays the remote endpoint: bytes the guest sends go to a host
// socket (`TcpHostSide`), bytes the host socket yields are segmented, windowed and retransmitted
// towards the guest. No sockets here: tcp-nat.ts binds connections to net.Socket, and the unit
// tests drive this state machine with built segments and a manual clock.
import type { Ipv4 } from './bytes';
import { ByteQueue } from './byte-queue';
import type { Clock, TimerHandle } from './clock';
import type { NetCounters } from './counters';
import { MTU } from './ethernet';
import { IPV4_HEADER_LEN } from './ipv4';
import {
  buildTcp,
  seqAdd,
  seqDiff,
  seqGe,
  seqGt,
  seqLe,
  seqLt,
  TCP_HEADER_LEN,
  TcpFlag,
  type TcpSegment,
} from './tcp-segment';

export const TcpState = {
  /** Guest SYN received; the host connect is in progress (no SYN-ACK until it succeeds, as slirp). */
  Connecting: 'CONNECTING',
  SynSent: 'SYN_SENT',
  SynReceived: 'SYN_RECEIVED',
  Established: 'ESTABLISHED',
  FinWait1: 'FIN_WAIT_1',
  FinWait2: 'FIN_WAIT_2',
  CloseWait: 'CLOSE_WAIT',
  Closing: 'CLOSING',
  LastAck: 'LAST_ACK',
  TimeWait: 'TIME_WAIT',
  Closed: 'CLOSED',
} as const;
export type TcpStateName = (typeof TcpState)[keyof typeof TcpState];

/** Our MSS: the link MTU minus option-less IPv4 and TCP headers. */
export const OUR_MSS = MTU - IPV4_HEADER_LEN - TCP_HEADER_LEN;
/** RFC 1122 4.2.2.6: the MSS to assume when the peer's SYN carries none. */
export const DEFAULT_PEER_MSS = 536;
/** Guest->host bytes we accept before the host socket takes them (our receive window). */
export const RCV_BUF = 1024 * 1024;
/** Our window scale shift: RCV_BUF >> 5 fits the 16-bit window field. */
export const OUR_WSCALE = 5;
/** Host->guest bytes we hold (unacknowledged + unsent) before pausing the host socket. */
export const SND_BUF = 1024 * 1024;
/**
 * RFC 6298: initial RTO 1 s, and its 1 s minimum rather than Linux's 200 ms. On a virtual link a
 * frame is lost only when a queue overflows, while an emulated guest is often descheduled for
 * longer than 200 ms: a short RTO would mostly resend whole windows to a guest that is merely slow.
 */
export const RTO_INITIAL_MS = 1000;
export const RTO_MIN_MS = 1000;
export const RTO_MAX_MS = 60_000;
/** Retransmissions of one segment before the connection is reset (Linux tcp_retries2 is 15). */
export const MAX_RETRIES = 12;
/** SYN / SYN-ACK retransmissions (Linux tcp_syn_retries / tcp_synack_retries). */
export const MAX_SYN_RETRIES = 5;
/** TIME_WAIT: long enough to re-ACK a guest FIN whose ACK was lost on the virtual link. */
export const TIME_WAIT_MS = 2000;

/** The host end of a connection (a net.Socket in production). */
export interface TcpHostSide {
  /** In-order bytes from the guest. */
  write(data: Uint8Array): void;
  /** The guest closed its sending side (FIN): half-close the host socket. */
  end(): void;
  /** Bytes written but not yet taken by the host (our receive window shrinks by this much). */
  readonly pendingBytes: number;
  /** Flow control towards the host: stop/restart reading from it. */
  pause(): void;
  resume(): void;
  /** The connection ended cleanly: let the socket finish its writes and close. */
  release(): void;
  /** The connection was reset: drop the socket at once (the host peer sees a reset). */
  abort(): void;
}

/** What a connection needs from the stack. */
export interface TcpEnv {
  readonly clock: Clock;
  readonly counters: NetCounters;
  /** Sends a frame built by buildTcp towards the guest. */
  output(frame: Uint8Array): void;
  /** True while the output queue wants more frames; false also means "call my pump() when it does". */
  hasRoom(conn: TcpConnection): boolean;
  nextIpId(): number;
  /** Coalesces ACKs: `flushAck()` is called once the current batch of guest frames is processed. */
  ackLater(conn: TcpConnection): void;
  /** The connection reached CLOSED: forget it. */
  closed(conn: TcpConnection): void;
}

export interface TcpEndpoints {
  guestAddr: Ipv4;
  guestPort: number;
  /** The address and port the guest sees as the other end. */
  remoteAddr: Ipv4;
  remotePort: number;
}

export class TcpConnection {
  state: TcpStateName;
  host: TcpHostSide | undefined;

  // Send side (towards the guest), RFC 793 3.2 names.
  private iss: number;
  private sndUna: number;
  private sndNxt: number;
  /**
   * The highest sequence number sent (BSD's snd_max). A retransmission timeout moves sndNxt back
   * to sndUna; an ACK for data sent before that is still valid, up to sndMax.
   */
  private sndMax: number;
  private sndWnd = 0;
  private sndWl1 = 0;
  private sndWl2 = 0;
  private sndWscale = 0;
  private peerMss = DEFAULT_PEER_MSS;
  /** Bytes from sndUna on: unacknowledged, then unsent. */
  private readonly sendBuf = new ByteQueue();
  /** The host ended its side: a FIN follows the last byte of sendBuf. */
  private finQueued = false;
  private hostPaused = false;

  // Receive side (from the guest).
  private irs = 0;
  private rcvNxt = 0;
  private rcvWscale = 0;
  /** The right edge of the window last advertised; RFC 793 says it must not move left. */
  private rcvAdvEdge = 0;
  private ackPending = false;

  // Retransmission (RFC 6298) and timers.
  private rto = RTO_INITIAL_MS;
  private srtt = 0;
  private rttvar = 0;
  private rttSeq: number | undefined;
  private rttStart = 0;
  private retries = 0;
  private dupAcks = 0;
  private timer: TimerHandle | undefined;
  private timerKind: 'rto' | 'persist' | 'timewait' | undefined;

  constructor(
    private readonly env: TcpEnv,
    readonly ends: TcpEndpoints,
    state: TcpStateName,
  ) {
    this.state = state;
    this.iss = (Math.random() * 0x100000000) >>> 0;
    this.sndUna = this.iss;
    this.sndNxt = this.iss;
    this.sndMax = this.iss;
  }

  /** A connection the guest opened: its SYN arrived, the host connect is starting. */
  static fromGuestSyn(env: TcpEnv, ends: TcpEndpoints, syn: TcpSegment): TcpConnection {
    const c = new TcpConnection(env, ends, TcpState.Connecting);
    c.irs = syn.seq;
    c.rcvNxt = seqAdd(syn.seq, 1);
    c.takePeerOptions(syn);
    c.sndWnd = syn.window; // never scaled in a SYN (RFC 7323 2.2)
    return c;
  }

  /** A connection the host opened (hostfwd): sends our SYN to the guest. */
  static toGuest(env: TcpEnv, ends: TcpEndpoints, host: TcpHostSide): TcpConnection {
    const c = new TcpConnection(env, ends, TcpState.SynSent);
    c.host = host;
    c.pauseHost();
    c.sendSyn();
    return c;
  }

  get isClosed(): boolean {
    return this.state === TcpState.Closed;
  }

  /** Bytes from the host not yet acknowledged by the guest (tests, diagnostics). */
  get unacknowledged(): number {
    return this.sendBuf.length;
  }

  // ---- Events from the host socket ----

  /** The host connect succeeded: answer the guest's SYN. */
  hostConnected(host: TcpHostSide): void {
    if (this.state !== TcpState.Connecting) return;
    this.host = host;
    this.state = TcpState.SynReceived;
    this.pauseHost(); // nothing goes to the guest before the handshake completes
    this.sendSynAck();
  }

  /** The host connect failed: refuse the guest's SYN with RST (what a closed port answers). */
  hostConnectFailed(): void {
    if (this.state !== TcpState.Connecting) return;
    this.env.counters.inc('tcpConnectFailed');
    this.sendReset(0, this.rcvNxt, true);
    this.finish();
  }

  hostData(chunk: Uint8Array): void {
    if (this.finQueued || this.isClosed) return;
    this.sendBuf.push(chunk);
    if (this.sendBuf.length >= SND_BUF) this.pauseHost();
    this.pump();
  }

  hostEnd(): void {
    if (this.finQueued || this.isClosed) return;
    this.finQueued = true;
    this.pump();
  }

  /** The host socket failed or was reset: reset the guest's side. */
  hostError(): void {
    if (this.isClosed) return;
    if (this.state === TcpState.Connecting) return this.hostConnectFailed();
    if (this.state !== TcpState.SynSent && this.state !== TcpState.TimeWait) {
      this.sendReset(this.sndNxt, this.rcvNxt, true);
    }
    this.host = undefined;
    this.finish();
  }

  /** The host took buffered bytes: the window may open (RFC 1122 4.2.3.3 update rule). */
  hostDrained(): void {
    if (!this.synchronized()) return;
    const before = seqDiff(this.rcvAdvEdge, this.rcvNxt);
    this.updateWindowEdge();
    if (seqDiff(this.rcvAdvEdge, this.rcvNxt) > before) this.sendAck();
  }

  /** Closes from our side at shutdown: RST to the guest, abort the host socket. */
  reset(): void {
    if (this.isClosed) return;
    if (this.synchronized()) this.sendReset(this.sndNxt, this.rcvNxt, true);
    this.host?.abort();
    this.host = undefined;
    this.finish();
  }

  // ---- Segments from the guest (RFC 793 3.9 "SEGMENT ARRIVES") ----

  segment(seg: TcpSegment): void {
    switch (this.state) {
      case TcpState.Closed:
        return;
      case TcpState.Connecting:
        // The guest may retransmit its SYN while we wait for the host; a RST cancels.
        if (seg.flags & TcpFlag.RST) this.abortByGuest();
        return;
      case TcpState.SynSent:
        return this.segmentInSynSent(seg);
      default:
        return this.segmentSynchronized(seg);
    }
  }

  private segmentInSynSent(seg: TcpSegment): void {
    const f = seg.flags;
    const ackOk = (f & TcpFlag.ACK) !== 0 && seg.ack === this.sndNxt;
    if (f & TcpFlag.ACK && !ackOk) {
      if (!(f & TcpFlag.RST)) this.sendReset(seg.ack, 0, false);
      return;
    }
    if (f & TcpFlag.RST) {
      if (ackOk) this.abortByGuest(); // the guest port is closed
      return;
    }
    if (!(f & TcpFlag.SYN) || !ackOk) return; // simultaneous open is not something a guest does to us
    this.irs = seg.seq;
    this.rcvNxt = seqAdd(seg.seq, 1);
    this.takePeerOptions(seg);
    if (seg.wscale === undefined) this.rcvWscale = 0;
    this.sndUna = seg.ack;
    this.sndWnd = seg.window; // unscaled in a SYN
    this.sndWl1 = seg.seq;
    this.sndWl2 = seg.ack;
    this.rttSample();
    this.stopTimer();
    this.retries = 0;
    this.state = TcpState.Established;
    this.env.counters.inc('tcpConnections');
    this.rcvAdvEdge = this.rcvNxt;
    this.updateWindowEdge();
    this.sendAck();
    this.resumeHost();
    this.pump();
  }

  private segmentSynchronized(seg: TcpSegment): void {
    const f = seg.flags;
    const syn = f & TcpFlag.SYN ? 1 : 0;
    const fin = f & TcpFlag.FIN ? 1 : 0;
    const segLen = seg.data.length + syn + fin;

    // 1. Is the segment in the window we advertised?
    if (!this.acceptable(seg.seq, segLen)) {
      // A retransmitted SYN in SYN-RECEIVED means our SYN-ACK was lost.
      if (this.state === TcpState.SynReceived && syn && seg.seq === this.irs) {
        this.sendSynAck();
        return;
      }
      if (!(f & TcpFlag.RST)) {
        if (segLen > 0) this.env.counters.inc('tcpOutOfWindow');
        this.sendAck(); // also the answer to keepalives and zero-window probes
      }
      return;
    }

    // 2. RST: RFC 5961 3.2, only an exact match resets; in-window gets a challenge ACK.
    if (f & TcpFlag.RST) {
      if (seg.seq === this.rcvNxt) this.abortByGuest();
      else this.sendAck();
      return;
    }

    // 3. SYN in a synchronized state: RFC 5961 4.2 challenge ACK.
    if (syn) {
      this.sendAck();
      return;
    }

    // 4. ACK.
    if (!(f & TcpFlag.ACK)) return;
    if (this.state === TcpState.SynReceived) {
      if (!(seqLt(this.sndUna, seg.ack) && seqLe(seg.ack, this.sndNxt))) {
        this.sendReset(seg.ack, 0, false);
        return;
      }
      this.state = TcpState.Established;
      this.env.counters.inc('tcpConnections');
      this.sndUna = this.sndNxt; // our SYN is acknowledged; data starts after it
      this.rttSample();
      this.stopTimer();
      this.sndWl1 = seg.seq;
      this.sndWl2 = seg.ack;
      this.sndWnd = seg.window << this.sndWscale;
      this.retries = 0;
      this.resumeHost();
    }
    if (seqGt(seg.ack, this.sndMax)) {
      this.sendAck(); // it acknowledges something we never sent
      return;
    }
    this.processAck(seg);
    if (this.isClosed) return;

    // 5. Data, in order only: a virtual link does not reorder, so anything beyond rcvNxt means
    // a frame of the guest's was lost; a duplicate ACK makes the guest retransmit.
    let data = seg.data;
    let seq = seg.seq;
    let finHere = fin === 1;
    if (data.length > 0 || finHere) {
      if (seqLt(seq, this.rcvNxt)) {
        const dup = seqDiff(this.rcvNxt, seq);
        data = data.subarray(Math.min(dup, data.length));
        seq = this.rcvNxt;
      }
      if (seq !== this.rcvNxt) {
        this.env.counters.inc('tcpOutOfOrder');
        this.sendAck();
        return;
      }
      const room = seqDiff(this.rcvAdvEdge, this.rcvNxt);
      if (data.length > room) {
        data = data.subarray(0, Math.max(0, room));
        finHere = false; // the FIN lies beyond what we accept
      }
    }
    if (data.length > 0) {
      if (this.receivingData()) {
        this.rcvNxt = seqAdd(this.rcvNxt, data.length);
        this.host?.write(data);
        this.ackPending = true;
        this.env.ackLater(this);
      }
      // After the guest's FIN it has no more data; such bytes are dropped.
    }

    // 6. FIN.
    if (finHere) this.guestFin();
  }

  private guestFin(): void {
    switch (this.state) {
      case TcpState.SynReceived:
      case TcpState.Established:
        this.rcvNxt = seqAdd(this.rcvNxt, 1);
        this.state = TcpState.CloseWait;
        this.host?.end();
        break;
      case TcpState.FinWait1:
        this.rcvNxt = seqAdd(this.rcvNxt, 1);
        this.state = TcpState.Closing;
        this.host?.end();
        break;
      case TcpState.FinWait2:
        this.rcvNxt = seqAdd(this.rcvNxt, 1);
        this.host?.end();
        this.enterTimeWait();
        break;
      case TcpState.TimeWait:
        this.enterTimeWait(); // a retransmitted FIN restarts the wait (RFC 793)
        break;
      default:
        break; // CLOSE_WAIT, CLOSING, LAST_ACK: a retransmission, re-acknowledged below
    }
    this.sendAck();
    this.pump();
  }

  private processAck(seg: TcpSegment): void {
    const ack = seg.ack;
    if (seqLt(ack, this.sndUna)) return; // an old duplicate
    if (seg.window === 0) this.retries = 0; // a live guest answering our zero-window probes
    const finSeq = this.finQueued ? seqAdd(this.sndUna, this.sendBuf.length) : undefined;
    const inflight = seqDiff(this.sndMax, this.sndUna);
    if (seqGt(ack, this.sndUna)) {
      let acked = seqDiff(ack, this.sndUna);
      const finAcked = finSeq !== undefined && seqGt(ack, finSeq);
      if (finAcked) acked -= 1;
      this.sendBuf.consume(Math.min(acked, this.sendBuf.length));
      this.sndUna = ack;
      // After a go-back, the guest may acknowledge past where we resumed sending.
      if (seqLt(this.sndNxt, ack)) this.sndNxt = ack;
      this.dupAcks = 0;
      this.retries = 0;
      if (this.rttSeq !== undefined && seqGe(ack, this.rttSeq)) this.rttSample();
      if (this.sndUna === this.sndMax) this.stopTimer();
      else this.startTimer('rto', this.rto);
      if (this.hostPaused && this.sendBuf.length < SND_BUF / 2 && !this.finQueued) this.resumeHost();
      if (finAcked) this.ourFinAcked();
      if (this.isClosed) return;
    } else if (
      ack === this.sndUna &&
      inflight > 0 &&
      seg.data.length === 0 &&
      !(seg.flags & (TcpFlag.SYN | TcpFlag.FIN)) &&
      seg.window << this.sndWscale === this.sndWnd
    ) {
      // RFC 5681 3.2: the third duplicate ACK triggers a fast retransmit of the first segment.
      if (++this.dupAcks === 3) {
        this.env.counters.inc('tcpRetransmits');
        this.retransmitFirst();
      }
    }
    // RFC 793 window update rule (SND.WL1/SND.WL2 guard against old segments).
    if (seqLt(this.sndWl1, seg.seq) || (this.sndWl1 === seg.seq && seqLe(this.sndWl2, ack))) {
      this.sndWnd = seg.window << this.sndWscale;
      this.sndWl1 = seg.seq;
      this.sndWl2 = ack;
    }
    this.pump();
  }

  private ourFinAcked(): void {
    switch (this.state) {
      case TcpState.FinWait1:
        this.state = TcpState.FinWait2;
        break;
      case TcpState.Closing:
        this.enterTimeWait();
        break;
      case TcpState.LastAck:
        this.host?.release();
        this.host = undefined;
        this.finish();
        break;
      default:
        break;
    }
  }

  // ---- Sending towards the guest ----

  /** Sends what the guest's window and the output queue allow. */
  pump(): void {
    if (!this.sending()) return;
    const mss = this.effectiveMss();
    while (this.env.hasRoom(this)) {
      const offset = seqDiff(this.sndNxt, this.sndUna);
      const inflight = offset;
      const unsent = this.sendBuf.length - offset;
      const usable = this.sndWnd - inflight;
      if (unsent > 0 && usable > 0) {
        // Sender-side silly window avoidance (RFC 1122 4.2.3.4): with data in flight, wait for
        // a window that takes a full segment rather than dribbling small ones.
        if (usable < mss && unsent > usable && inflight > 0) break;
        const len = Math.min(unsent, usable, mss);
        this.sendData(this.sndNxt, offset, len, len === unsent);
        this.setSndNxt(seqAdd(this.sndNxt, len));
        continue;
      }
      if (unsent === 0 && this.finQueued && offset === this.sendBuf.length) {
        this.sendFin();
      }
      break;
    }
    if (seqDiff(this.sndMax, this.sndUna) > 0) {
      if (this.timerKind !== 'rto') this.startTimer('rto', this.rto);
    } else if (this.sendBuf.length > 0 && this.sndWnd === 0) {
      if (this.timerKind !== 'persist') this.startTimer('persist', this.rto);
    }
  }

  /** Sends the pure ACK held back by ackLater, unless a data segment already carried it. */
  flushAck(): void {
    if (this.ackPending && !this.isClosed) this.sendAck();
  }

  private setSndNxt(v: number): void {
    this.sndNxt = v;
    if (seqGt(v, this.sndMax)) this.sndMax = v;
  }

  private sendFin(): void {
    this.emit(this.sndNxt, TcpFlag.FIN | TcpFlag.ACK);
    this.setSndNxt(seqAdd(this.sndNxt, 1));
    if (this.state === TcpState.Established || this.state === TcpState.SynReceived) {
      this.state = TcpState.FinWait1;
    } else if (this.state === TcpState.CloseWait) {
      this.state = TcpState.LastAck;
    }
  }

  private sendData(seq: number, bufOffset: number, len: number, push: boolean): void {
    if (this.rttSeq === undefined) {
      this.rttSeq = seqAdd(seq, len);
      this.rttStart = this.env.clock.now();
    }
    const flags = TcpFlag.ACK | (push ? TcpFlag.PSH : 0);
    this.emit(seq, flags, len, bufOffset);
  }

  private retransmitFirst(): void {
    const len = Math.min(this.sendBuf.length, this.effectiveMss());
    this.rttSeq = undefined; // Karn: never time a retransmitted segment
    if (len > 0) this.sendData(this.sndUna, 0, len, len === this.sendBuf.length);
    else if (this.finQueued) this.emit(this.sndUna, TcpFlag.FIN | TcpFlag.ACK);
  }

  private sendSyn(): void {
    this.rcvWscale = OUR_WSCALE; // offered; dropped if the guest's SYN-ACK has no wscale
    this.rttSeq = seqAdd(this.iss, 1);
    this.rttStart = this.env.clock.now();
    this.emit(this.iss, TcpFlag.SYN, 0, 0, { mss: OUR_MSS, wscale: OUR_WSCALE, window: 65535 });
    this.setSndNxt(seqAdd(this.iss, 1));
    this.startTimer('rto', this.rto);
  }

  private sendSynAck(): void {
    this.rcvAdvEdge = this.rcvNxt;
    this.updateWindowEdge();
    const window = Math.min(seqDiff(this.rcvAdvEdge, this.rcvNxt), 65535);
    const wscale = this.rcvWscale > 0 ? this.rcvWscale : undefined; // only if the guest offered one
    this.emit(this.iss, TcpFlag.SYN | TcpFlag.ACK, 0, 0, { mss: OUR_MSS, wscale, window });
    this.setSndNxt(seqAdd(this.iss, 1));
    this.startTimer('rto', this.rto);
  }

  private sendAck(): void {
    this.emit(this.sndNxt, TcpFlag.ACK);
  }

  /** RST per RFC 793 "Reset Generation". */
  private sendReset(seq: number, ack: number, withAck: boolean): void {
    this.env.counters.inc('tcpResets');
    this.emit(seq, TcpFlag.RST | (withAck ? TcpFlag.ACK : 0), 0, 0, { window: 0, ack });
  }

  private emit(
    seq: number,
    flags: number,
    dataLen = 0,
    bufOffset = 0,
    opt: { mss?: number; wscale?: number; window?: number; ack?: number } = {},
  ): void {
    const e = this.ends;
    let window: number;
    if (opt.window !== undefined) window = opt.window;
    else {
      this.updateWindowEdge();
      // Round up, as Linux's tcp_select_window does, so scaling never makes the advertised right
      // edge appear to move left; the few bytes rounded up are then ours to accept.
      const unit = 1 << this.rcvWscale;
      window = Math.min(Math.ceil(Math.max(0, seqDiff(this.rcvAdvEdge, this.rcvNxt)) / unit), 65535);
      const edge = seqAdd(this.rcvNxt, window * unit);
      if (seqGt(edge, this.rcvAdvEdge)) this.rcvAdvEdge = edge;
    }
    if (flags & TcpFlag.ACK) this.ackPending = false;
    const frame = buildTcp(
      {
        src: e.remoteAddr,
        dst: e.guestAddr,
        srcPort: e.remotePort,
        dstPort: e.guestPort,
        seq,
        ack: opt.ack ?? (flags & TcpFlag.ACK ? this.rcvNxt : 0),
        flags,
        window,
        mss: opt.mss,
        wscale: opt.wscale,
        ipId: this.env.nextIpId(),
      },
      dataLen,
      dataLen > 0 ? (f, at) => this.sendBuf.copyOut(bufOffset, dataLen, f, at) : undefined,
    );
    this.env.output(frame);
  }

  // ---- Windows, options, timers ----

  private takePeerOptions(syn: TcpSegment): void {
    if (syn.mss !== undefined && syn.mss > 0) this.peerMss = syn.mss;
    if (syn.wscale !== undefined) {
      this.sndWscale = syn.wscale;
      if (this.state === TcpState.Connecting) this.rcvWscale = OUR_WSCALE;
    } else {
      this.sndWscale = 0;
      this.rcvWscale = 0;
    }
  }

  private effectiveMss(): number {
    // A guest MSS below 64 is treated as 64 so a hostile guest cannot make us emit a frame per byte.
    return Math.max(64, Math.min(this.peerMss, OUR_MSS));
  }

  /** Moves the advertised right edge right when the host freed enough room (receiver SWS avoidance). */
  private updateWindowEdge(): void {
    const cap = this.rcvWscale > 0 ? RCV_BUF : Math.min(RCV_BUF, 65535);
    const avail = Math.max(0, cap - (this.host?.pendingBytes ?? 0));
    const edge = seqAdd(this.rcvNxt, avail);
    const grow = seqDiff(edge, this.rcvAdvEdge);
    const threshold = Math.min(cap / 2, this.effectiveMss());
    if (grow >= threshold || (grow > 0 && seqDiff(this.rcvAdvEdge, this.rcvNxt) <= 0 && avail >= threshold)) {
      this.rcvAdvEdge = edge;
    }
  }

  private acceptable(seq: number, segLen: number): boolean {
    const wnd = Math.max(0, seqDiff(this.rcvAdvEdge, this.rcvNxt));
    if (segLen === 0) {
      return wnd === 0 ? seq === this.rcvNxt : seqLe(this.rcvNxt, seq) && seqLt(seq, seqAdd(this.rcvNxt, wnd + 1));
    }
    if (wnd === 0) return false;
    const end = seqAdd(this.rcvNxt, wnd);
    const last = seqAdd(seq, segLen - 1);
    return (seqLe(this.rcvNxt, seq) && seqLt(seq, end)) || (seqLe(this.rcvNxt, last) && seqLt(last, end));
  }

  private rttSample(): void {
    if (this.rttSeq === undefined) return;
    const r = Math.max(1, this.env.clock.now() - this.rttStart);
    this.rttSeq = undefined;
    if (this.srtt === 0) {
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    this.rto = Math.min(RTO_MAX_MS, Math.max(RTO_MIN_MS, this.srtt + Math.max(10, 4 * this.rttvar)));
  }

  private startTimer(kind: 'rto' | 'persist' | 'timewait', ms: number): void {
    this.timer?.cancel();
    this.timerKind = kind;
    this.timer = this.env.clock.setTimer(ms, () => {
      this.timer = undefined;
      this.timerKind = undefined;
      this.onTimer(kind);
    });
  }

  private stopTimer(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.timerKind = undefined;
  }

  private onTimer(kind: 'rto' | 'persist' | 'timewait'): void {
    if (this.isClosed) return;
    if (kind === 'timewait') {
      this.finish();
      return;
    }
    const synPhase = this.state === TcpState.SynSent || this.state === TcpState.SynReceived;
    if (++this.retries > (synPhase ? MAX_SYN_RETRIES : MAX_RETRIES)) {
      // The guest stopped answering: give up as a real stack would (ETIMEDOUT).
      if (!synPhase) this.sendReset(this.sndNxt, this.rcvNxt, true);
      this.host?.abort();
      this.host = undefined;
      this.finish();
      return;
    }
    this.rto = Math.min(RTO_MAX_MS, this.rto * 2); // RFC 6298 5.5 back off
    this.rttSeq = undefined;
    if (this.state === TcpState.SynSent) {
      this.env.counters.inc('tcpRetransmits');
      this.emit(this.iss, TcpFlag.SYN, 0, 0, { mss: OUR_MSS, wscale: OUR_WSCALE, window: 65535 });
      this.startTimer('rto', this.rto);
      return;
    }
    if (this.state === TcpState.SynReceived) {
      this.env.counters.inc('tcpRetransmits');
      this.sendSynAck();
      return;
    }
    if (kind === 'rto') this.env.counters.inc('tcpRetransmits');
    // Go back to the first unacknowledged byte (RFC 6298 5.4) and resend from there.
    this.sndNxt = this.sndUna;
    this.dupAcks = 0;
    if (this.sndWnd === 0) {
      // RFC 1122 4.2.2.17 zero-window probe: one byte (or the FIN) past the closed window.
      if (this.sendBuf.length > 0) this.sendData(this.sndUna, 0, 1, false);
      else if (this.finQueued) this.emit(this.sndUna, TcpFlag.FIN | TcpFlag.ACK);
      this.setSndNxt(seqAdd(this.sndUna, this.sendBuf.length > 0 || this.finQueued ? 1 : 0));
    } else {
      this.pump();
      if (this.sndNxt === this.sndUna) {
        // Nothing fit in the output queue: force the first segment out anyway.
        this.retransmitFirst();
        const len = Math.min(this.sendBuf.length, this.effectiveMss());
        this.setSndNxt(seqAdd(this.sndUna, len > 0 ? len : this.finQueued ? 1 : 0));
      }
    }
    if (this.sndMax !== this.sndUna) this.startTimer('rto', this.rto);
  }

  private enterTimeWait(): void {
    this.state = TcpState.TimeWait;
    this.host?.release();
    this.host = undefined;
    this.startTimer('timewait', TIME_WAIT_MS);
  }

  private abortByGuest(): void {
    this.host?.abort();
    this.host = undefined;
    this.finish();
  }

  private finish(): void {
    if (this.isClosed) return;
    this.stopTimer();
    this.state = TcpState.Closed;
    this.env.closed(this);
  }

  private pauseHost(): void {
    if (!this.hostPaused) {
      this.hostPaused = true;
      this.host?.pause();
    }
  }

  private resumeHost(): void {
    if (this.hostPaused) {
      this.hostPaused = false;
      this.host?.resume();
    }
  }

  private synchronized(): boolean {
    return this.state !== TcpState.Connecting && this.state !== TcpState.SynSent && this.state !== TcpState.Closed;
  }

  private sending(): boolean {
    return (
      this.state === TcpState.Established ||
      this.state === TcpState.CloseWait ||
      this.state === TcpState.FinWait1 ||
      this.state === TcpState.Closing ||
      this.state === TcpState.LastAck
    );
  }

  private receivingData(): boolean {
    return (
      this.state === TcpState.Established || this.state === TcpState.FinWait1 || this.state === TcpState.FinWait2
    );
  }
}
