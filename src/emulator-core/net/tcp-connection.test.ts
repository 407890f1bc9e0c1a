import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock';
import { NetCounters } from './counters';
import {
  MAX_RETRIES,
  MAX_SYN_RETRIES,
  OUR_WSCALE,
  RCV_BUF,
  TcpConnection,
  TcpState,
  TIME_WAIT_MS,
  type TcpEnv,
  type TcpHostSide,
} from './tcp-connection';
import { parseTcp, type TcpSegment } from './tcp-segment';
import { F, ip, parseFrame, tcpPayload } from './testing/packets';

const GUEST = ip('10.0.2.15');
const REMOTE = ip('10.0.2.2');
const ends = { guestAddr: GUEST, guestPort: 40000, remoteAddr: REMOTE, remotePort: 80 };

class FakeHost implements TcpHostSide {
  written: number[] = [];
  ended = false;
  paused = false;
  released = false;
  aborted = false;
  pendingBytes = 0;
  write(d: Uint8Array): void {
    this.written.push(...d);
  }
  end(): void {
    this.ended = true;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  release(): void {
    this.released = true;
  }
  abort(): void {
    this.aborted = true;
  }
}

type Seg = NonNullable<ReturnType<typeof parseFrame>['tcp']>;

class Harness {
  clock = new ManualClock();
  counters = new NetCounters();
  out: Seg[] = [];
  room = true;
  closed = false;
  pendingAck: TcpConnection[] = [];
  env: TcpEnv = {
    clock: this.clock,
    counters: this.counters,
    output: (f) => {
      const g = f.slice();
      g[12] = 8;
      const p = parseFrame(g);
      if (!p.ip!.headerOk || !p.transportOk) throw new Error('stack sent a bad checksum');
      this.out.push(p.tcp!);
    },
    hasRoom: () => this.room,
    nextIpId: () => 1,
    ackLater: (c) => this.pendingAck.push(c),
    closed: () => (this.closed = true),
  };

  /** Output since the last call. */
  take(): Seg[] {
    return this.out.splice(0);
  }
  /** Runs the end-of-batch ACK flush, as the stack's microtask does. */
  flush(): void {
    for (const c of this.pendingAck.splice(0)) c.flushAck();
  }
}

function seg(s: Partial<TcpSegment> & { seq: number; flags: number }, opts: number[] = []): TcpSegment {
  const p = tcpPayload({
    src: GUEST,
    dst: REMOTE,
    sport: ends.guestPort,
    dport: ends.remotePort,
    seq: s.seq,
    ack: s.ack ?? 0,
    flags: s.flags,
    window: s.window ?? 65535,
    data: s.data,
    options: opts,
  });
  const r = parseTcp(p, GUEST, REMOTE);
  if (typeof r === 'string') throw new Error(r);
  return r;
}

const SYN_OPTS = (mss: number, wscale?: number): number[] =>
  wscale === undefined ? [2, 4, mss >> 8, mss & 255] : [2, 4, mss >> 8, mss & 255, 1, 3, 3, wscale];

/** A connection the guest opened and that is ESTABLISHED; the guest's ISN is 1000. */
function established(opts: { mss?: number; wscale?: number; window?: number } = {}) {
  const h = new Harness();
  const host = new FakeHost();
  const syn = seg({ seq: 1000, flags: F.SYN, window: opts.window ?? 65535 }, SYN_OPTS(opts.mss ?? 1000, opts.wscale));
  const c = TcpConnection.fromGuestSyn(h.env, ends, syn);
  expect(c.state).toBe(TcpState.Connecting);
  expect(h.take()).toHaveLength(0); // slirp behaviour: no SYN-ACK before the host connect succeeds
  c.hostConnected(host);
  const [synAck] = h.take();
  const iss = synAck!.seq;
  const guestWindow = opts.window ?? 65535;
  c.segment(seg({ seq: 1001, ack: iss + 1, flags: F.ACK, window: guestWindow }));
  expect(c.state).toBe(TcpState.Established);
  return { h, host, c, synAck: synAck!, iss, gseq: 1001, sseq: (iss + 1) >>> 0 };
}

describe('TCP: opening', () => {
  it('answers a guest SYN with SYN-ACK carrying MSS and window scale once the host connects', () => {
    const { synAck, host } = established({ wscale: 7 });
    expect(synAck.flags).toBe(F.SYN | F.ACK);
    expect(synAck.ack).toBe(1001);
    expect(synAck.mss).toBe(1460);
    expect(synAck.wscale).toBe(OUR_WSCALE);
    expect(synAck.window).toBe(65535); // never scaled in a SYN
    expect(host.paused).toBe(false); // resumed once established
  });

  it('does not offer window scaling when the guest did not', () => {
    const { synAck, h, c, gseq, sseq } = established();
    expect(synAck.wscale).toBeUndefined();
    c.hostData(new Uint8Array(10));
    c.segment(seg({ seq: gseq, ack: sseq + 10, flags: F.ACK }));
    c.segment(seg({ seq: gseq, ack: sseq + 10, flags: F.ACK | F.PSH, data: new Uint8Array(5) }));
    h.flush();
    const ack = h.take().at(-1)!;
    expect(ack.window).toBeLessThanOrEqual(65535);
    expect(ack.window).toBeGreaterThan(60000); // unscaled bytes
  });

  it('refuses the guest with RST|ACK when the host connect fails', () => {
    const h = new Harness();
    const c = TcpConnection.fromGuestSyn(h.env, ends, seg({ seq: 5, flags: F.SYN }));
    c.hostConnectFailed();
    const [rst] = h.take();
    expect(rst!.flags).toBe(F.RST | F.ACK);
    expect(rst!.ack).toBe(6);
    expect(c.state).toBe(TcpState.Closed);
    expect(h.closed).toBe(true);
  });

  it('retransmits a lost SYN-ACK when the guest repeats its SYN, and on timeout', () => {
    const h = new Harness();
    const c = TcpConnection.fromGuestSyn(h.env, ends, seg({ seq: 5, flags: F.SYN }));
    c.hostConnected(new FakeHost());
    h.take();
    c.segment(seg({ seq: 5, flags: F.SYN }));
    expect(h.take()[0]!.flags).toBe(F.SYN | F.ACK);
    h.clock.advance(1000);
    expect(h.take()[0]!.flags).toBe(F.SYN | F.ACK);
  });

  it('opens towards the guest for hostfwd, retrying the SYN and giving up after the retries', () => {
    const h = new Harness();
    const host = new FakeHost();
    const c = TcpConnection.toGuest(h.env, ends, host);
    const [syn] = h.take();
    expect(syn).toMatchObject({ flags: F.SYN, mss: 1460, wscale: OUR_WSCALE });
    expect(host.paused).toBe(true);
    let sent = 0;
    for (let i = 0; i < 20 && !c.isClosed; i++) {
      h.clock.advance(120_000);
      sent += h.take().filter((s) => s.flags === F.SYN).length;
    }
    expect(sent).toBe(MAX_SYN_RETRIES);
    expect(host.aborted).toBe(true);
  });

  it('hostfwd: completes on the guest SYN-ACK and resumes the host socket', () => {
    const h = new Harness();
    const host = new FakeHost();
    const c = TcpConnection.toGuest(h.env, ends, host);
    const [syn] = h.take();
    c.segment(seg({ seq: 777, ack: syn!.seq + 1, flags: F.SYN | F.ACK, window: 100 }, SYN_OPTS(1460, 2)));
    expect(c.state).toBe(TcpState.Established);
    expect(h.take()[0]).toMatchObject({ flags: F.ACK, ack: 778 });
    expect(host.paused).toBe(false);
  });

  it('hostfwd: a guest RST (closed port) aborts the host socket', () => {
    const h = new Harness();
    const host = new FakeHost();
    const c = TcpConnection.toGuest(h.env, ends, host);
    const [syn] = h.take();
    c.segment(seg({ seq: 0, ack: syn!.seq + 1, flags: F.RST | F.ACK }));
    expect(c.state).toBe(TcpState.Closed);
    expect(host.aborted).toBe(true);
  });
});

describe('TCP: data and windows', () => {
  it('segments host data by the guest MSS and stays inside the guest window', () => {
    const { h, c, gseq, sseq } = established({ mss: 1000, wscale: 3, window: 375 }); // 3000 bytes
    c.hostData(new Uint8Array(10_000));
    let segs = h.take();
    expect(segs.map((s) => s.data.length)).toEqual([1000, 1000, 1000]);
    expect(segs[0]!.seq).toBe(sseq);
    c.segment(seg({ seq: gseq, ack: sseq + 2000, flags: F.ACK, window: 375 }));
    segs = h.take();
    expect(segs.map((s) => s.data.length)).toEqual([1000, 1000]);
    expect(segs[0]!.seq).toBe((sseq + 3000) >>> 0);
    expect(c.unacknowledged).toBe(8000);
  });

  it('delivers in-order guest data to the host and acknowledges it once per batch', () => {
    const { h, c, host, gseq, sseq } = established();
    c.segment(seg({ seq: gseq, flags: F.ACK | F.PSH, ack: sseq, data: Uint8Array.from([1, 2, 3]) }));
    c.segment(seg({ seq: gseq + 3, flags: F.ACK | F.PSH, ack: sseq, data: Uint8Array.from([4, 5]) }));
    expect(host.written).toEqual([1, 2, 3, 4, 5]);
    expect(h.take()).toHaveLength(0);
    h.flush();
    const acks = h.take();
    expect(acks).toHaveLength(1);
    expect(acks[0]!.ack).toBe(gseq + 5);
  });

  it('drops out-of-order data and answers with a duplicate ACK at once', () => {
    const { h, c, host, gseq, sseq } = established();
    c.segment(seg({ seq: gseq + 100, ack: sseq, flags: F.ACK, data: new Uint8Array(10) }));
    expect(host.written).toHaveLength(0);
    expect(h.take()[0]!.ack).toBe(gseq);
    expect(h.counters.get('tcpOutOfOrder')).toBe(1);
  });

  it('trims a retransmission that overlaps data already received', () => {
    const { c, host, gseq, sseq } = established();
    c.segment(seg({ seq: gseq, ack: sseq, flags: F.ACK, data: Uint8Array.from([1, 2, 3]) }));
    c.segment(seg({ seq: gseq + 1, ack: sseq, flags: F.ACK, data: Uint8Array.from([2, 3, 4, 5]) }));
    expect(host.written).toEqual([1, 2, 3, 4, 5]);
  });

  it('shrinks the advertised window while the host is slow, never moving its right edge left', () => {
    const { h, c, host, gseq, sseq } = established({ wscale: 0 });
    let seq = gseq;
    let lastEdge = 0;
    for (let i = 0; i < 40; i++) {
      c.segment(seg({ seq, ack: sseq, flags: F.ACK, data: new Uint8Array(1000) }));
      seq += 1000;
      host.pendingBytes += 1000; // the host reads nothing
      h.flush();
      const a = h.take().at(-1)!;
      const edge = a.ack + (a.window << OUR_WSCALE);
      expect(edge).toBeGreaterThanOrEqual(lastEdge);
      lastEdge = edge;
    }
    const before = h.take();
    expect(before).toHaveLength(0);
    // Data past the window is not accepted.
    const written = host.written.length;
    for (let i = 0; i < 20; i++) {
      c.segment(seg({ seq: seq + i * 60000, ack: sseq, flags: F.ACK, data: new Uint8Array(60000) }));
    }
    expect(host.written.length - written).toBeLessThan(RCV_BUF);
    expect(host.written.length).toBeLessThanOrEqual(RCV_BUF + 1000);
    h.flush();
    h.take();
    // The host catches up: a window update goes out.
    host.pendingBytes = 0;
    c.hostDrained();
    const upd = h.take();
    expect(upd).toHaveLength(1);
    expect(upd[0]!.window << OUR_WSCALE).toBeGreaterThan(RCV_BUF / 2);
  });

  it('pauses the host socket when the guest does not read and resumes as it acknowledges', () => {
    const { h, c, host, gseq, sseq } = established({ wscale: 0, window: 0 });
    c.hostData(new Uint8Array(2 * 1024 * 1024));
    expect(host.paused).toBe(true);
    expect(h.take()).toHaveLength(0); // zero window: nothing goes
    h.clock.advance(1000);
    const probe = h.take();
    expect(probe).toHaveLength(1);
    expect(probe[0]!.data.length).toBe(1); // RFC 1122 zero-window probe
    c.segment(seg({ seq: gseq, ack: sseq, flags: F.ACK, window: 65535 }));
    const burst = h.take();
    expect(burst.length).toBeGreaterThan(10);
    const end = burst.at(-1)!;
    c.segment(seg({ seq: gseq, ack: end.seq + end.data.length, flags: F.ACK, window: 65535 }));
    expect(c.unacknowledged).toBeLessThan(2 * 1024 * 1024);
  });
});

describe('TCP: retransmission', () => {
  it('retransmits on RTO with exponential back-off, then resets after the retry limit', () => {
    const { h, c, host, sseq } = established();
    c.hostData(Uint8Array.from([9, 9, 9]));
    expect(h.take()[0]!.seq).toBe(sseq);
    h.clock.advance(999);
    expect(h.take()).toHaveLength(0);
    h.clock.advance(1);
    const r1 = h.take();
    expect(r1).toHaveLength(1);
    expect(r1[0]).toMatchObject({ seq: sseq });
    expect(Array.from(r1[0]!.data)).toEqual([9, 9, 9]);
    h.clock.advance(1999);
    expect(h.take()).toHaveLength(0); // backed off to 2 s
    h.clock.advance(1);
    expect(h.take()).toHaveLength(1);
    for (let i = 0; i < 40 && !c.isClosed; i++) h.clock.advance(60_000);
    expect(c.isClosed).toBe(true);
    expect(host.aborted).toBe(true);
    expect(h.counters.get('tcpRetransmits')).toBe(MAX_RETRIES);
  });

  it('fast-retransmits the first segment on the third duplicate ACK', () => {
    const { h, c, gseq, sseq } = established();
    c.hostData(new Uint8Array(5000));
    expect(h.take()).toHaveLength(5);
    for (let i = 0; i < 2; i++) c.segment(seg({ seq: gseq, ack: sseq, flags: F.ACK }));
    expect(h.take()).toHaveLength(0);
    c.segment(seg({ seq: gseq, ack: sseq, flags: F.ACK }));
    const r = h.take();
    expect(r).toHaveLength(1);
    expect(r[0]!.seq).toBe(sseq);
    expect(r[0]!.data.length).toBe(1000);
  });

  it('accepts an ACK for data sent before a retransmission timeout rewound SND.NXT (snd_max)', () => {
    const { h, c, host, gseq, sseq } = established();
    c.hostData(new Uint8Array(3000));
    expect(h.take()).toHaveLength(3);
    h.room = false; // the output queue is full when the timer fires: only the first segment goes
    h.clock.advance(1000);
    expect(h.take()).toHaveLength(1);
    h.room = true;
    // The guest had all 3000 bytes: its next data segment acknowledges them.
    c.segment(seg({ seq: gseq, ack: sseq + 3000, flags: F.ACK | F.PSH, data: Uint8Array.from([7, 8]) }));
    expect(host.written).toEqual([7, 8]);
    expect(c.unacknowledged).toBe(0);
    c.hostData(Uint8Array.from([1]));
    expect(h.take().at(-1)).toMatchObject({ seq: sseq + 3000 });
  });

  it('answers an ACK for data never sent with an ACK and ignores it', () => {
    const { h, c, gseq, sseq } = established();
    c.segment(seg({ seq: gseq, ack: sseq + 5000, flags: F.ACK }));
    expect(h.take()[0]).toMatchObject({ flags: F.ACK, seq: sseq });
    expect(c.state).toBe(TcpState.Established);
  });
});

describe('TCP: closing', () => {
  it('host closes first: FIN after the data, FIN_WAIT_2, TIME_WAIT, then CLOSED', () => {
    const { h, c, host, gseq, sseq } = established();
    c.hostData(Uint8Array.from([1, 2]));
    c.hostEnd();
    const [d, fin] = h.take();
    expect(d!.data.length).toBe(2);
    expect(fin).toMatchObject({ flags: F.FIN | F.ACK, seq: sseq + 2 });
    expect(c.state).toBe(TcpState.FinWait1);
    c.segment(seg({ seq: gseq, ack: sseq + 3, flags: F.ACK }));
    expect(c.state).toBe(TcpState.FinWait2);
    // Half-close: the guest can still send.
    c.segment(seg({ seq: gseq, ack: sseq + 3, flags: F.ACK, data: Uint8Array.from([7]) }));
    expect(host.written).toEqual([7]);
    c.segment(seg({ seq: gseq + 1, ack: sseq + 3, flags: F.FIN | F.ACK }));
    expect(c.state).toBe(TcpState.TimeWait);
    expect(host.ended).toBe(true);
    expect(h.take().at(-1)).toMatchObject({ flags: F.ACK, ack: gseq + 2 });
    // A retransmitted FIN is acknowledged again.
    c.segment(seg({ seq: gseq + 1, ack: sseq + 3, flags: F.FIN | F.ACK }));
    expect(h.take().at(-1)).toMatchObject({ flags: F.ACK, ack: gseq + 2 });
    h.clock.advance(TIME_WAIT_MS);
    expect(c.state).toBe(TcpState.Closed);
    expect(host.released).toBe(true);
  });

  it('guest closes first: CLOSE_WAIT while the host still sends, then LAST_ACK and CLOSED', () => {
    const { h, c, host, gseq, sseq } = established();
    c.segment(seg({ seq: gseq, ack: sseq, flags: F.FIN | F.ACK }));
    expect(c.state).toBe(TcpState.CloseWait);
    expect(host.ended).toBe(true);
    expect(h.take()[0]).toMatchObject({ ack: gseq + 1 });
    c.hostData(Uint8Array.from([5, 6, 7]));
    expect(h.take()[0]!.data.length).toBe(3);
    c.hostEnd();
    expect(h.take()[0]).toMatchObject({ flags: F.FIN | F.ACK, seq: sseq + 3 });
    expect(c.state).toBe(TcpState.LastAck);
    c.segment(seg({ seq: gseq + 1, ack: sseq + 4, flags: F.ACK }));
    expect(c.state).toBe(TcpState.Closed);
    expect(host.released).toBe(true);
  });

  it('simultaneous close goes through CLOSING', () => {
    const { c, gseq, sseq } = established();
    c.hostEnd();
    c.segment(seg({ seq: gseq, ack: sseq, flags: F.FIN | F.ACK }));
    expect(c.state).toBe(TcpState.Closing);
    c.segment(seg({ seq: gseq + 1, ack: sseq + 1, flags: F.ACK }));
    expect(c.state).toBe(TcpState.TimeWait);
  });

  it('retransmits an unacknowledged FIN', () => {
    const { h, c, sseq } = established();
    c.hostEnd();
    expect(h.take()[0]!.flags).toBe(F.FIN | F.ACK);
    h.clock.advance(1000);
    expect(h.take()[0]).toMatchObject({ flags: F.FIN | F.ACK, seq: sseq });
  });
});

describe('TCP: resets and hostile segments', () => {
  it('a guest RST at exactly RCV.NXT aborts the host socket', () => {
    const { c, host, gseq } = established();
    c.segment(seg({ seq: gseq, flags: F.RST }));
    expect(c.state).toBe(TcpState.Closed);
    expect(host.aborted).toBe(true);
  });

  it('a RST inside the window but not exact gets a challenge ACK (RFC 5961 3.2)', () => {
    const { h, c, host, gseq } = established();
    c.segment(seg({ seq: gseq + 10, flags: F.RST }));
    expect(c.state).toBe(TcpState.Established);
    expect(host.aborted).toBe(false);
    expect(h.take()[0]).toMatchObject({ flags: F.ACK, ack: gseq });
  });

  it('a RST outside the window is ignored silently', () => {
    const { h, c, gseq } = established();
    c.segment(seg({ seq: gseq + 0x40000000, flags: F.RST }));
    expect(c.state).toBe(TcpState.Established);
    expect(h.take()).toHaveLength(0);
  });

  it('a SYN on an established connection gets a challenge ACK (RFC 5961 4.2)', () => {
    const { h, c, gseq } = established();
    c.segment(seg({ seq: gseq + 5, flags: F.SYN }));
    expect(c.state).toBe(TcpState.Established);
    expect(h.take()[0]).toMatchObject({ flags: F.ACK, ack: gseq });
  });

  it('a tiny guest MSS does not make the stack send tiny segments', () => {
    const { h, c } = established({ mss: 1 });
    c.hostData(new Uint8Array(640));
    expect(h.take().map((s) => s.data.length)).toEqual(Array(10).fill(64));
  });

  it('a segment outside the window is acknowledged, not delivered', () => {
    const { h, c, host, gseq, sseq } = established();
    c.segment(seg({ seq: gseq - 5000, ack: sseq, flags: F.ACK, data: new Uint8Array(100) }));
    expect(host.written).toHaveLength(0);
    expect(h.take()[0]).toMatchObject({ ack: gseq });
  });

  it('reset() at shutdown sends RST and aborts the host', () => {
    const { h, c, host } = established();
    c.reset();
    expect(h.take()[0]!.flags & F.RST).toBeTruthy();
    expect(host.aborted).toBe(true);
  });
});
