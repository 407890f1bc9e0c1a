// Test-only packet building and checking, written independently of the stack's own builders
// (DataView, a byte-at-a-time reference checksum) so that a checksum bug in the stack cannot be
// cancelled by the same bug in the tests.

export const GUEST_MAC = new Uint8Array([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
export const GATEWAY_MAC = new Uint8Array([0x52, 0x55, 10, 0, 2, 2]);

export function ip(s: string): number {
  return s.split('.').reduce((a, b) => a * 256 + Number(b), 0);
}

/** RFC 1071 checksum computed the slow, obvious way: fold after every addition. */
export function refChecksum(bytes: Uint8Array | number[]): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) {
    const word = (bytes[i]! << 8) + (i + 1 < bytes.length ? bytes[i + 1]! : 0);
    sum += word;
    if (sum > 0xffff) sum = (sum & 0xffff) + 1;
  }
  return ~sum & 0xffff;
}

function pseudo(src: number, dst: number, proto: number, len: number): number[] {
  const b = (v: number): number[] => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
  return [...b(src), ...b(dst), 0, proto, (len >>> 8) & 255, len & 255];
}

export interface IpSpec {
  src?: number;
  dst: number;
  proto: number;
  id?: number;
  ttl?: number;
  mf?: boolean;
  df?: boolean;
  /** Fragment offset in bytes (multiple of 8). */
  offset?: number;
  srcMac?: Uint8Array;
  dstMac?: Uint8Array;
  /** Bytes of IP options (padded to a multiple of 4 by the caller). */
  options?: Uint8Array;
}

/** An Ethernet frame with an IPv4 header (checksum computed) around `payload`. */
export function ipFrame(spec: IpSpec, payload: Uint8Array): Uint8Array {
  const opt = spec.options ?? new Uint8Array(0);
  const hl = 20 + opt.length;
  const f = new Uint8Array(14 + hl + payload.length);
  const v = new DataView(f.buffer);
  f.set(spec.dstMac ?? GATEWAY_MAC, 0);
  f.set(spec.srcMac ?? GUEST_MAC, 6);
  v.setUint16(12, 0x0800);
  v.setUint8(14, 0x40 | (hl / 4));
  v.setUint16(16, hl + payload.length);
  v.setUint16(18, spec.id ?? 1);
  v.setUint16(20, (spec.df ? 0x4000 : 0) | (spec.mf ? 0x2000 : 0) | ((spec.offset ?? 0) / 8));
  v.setUint8(22, spec.ttl ?? 64);
  v.setUint8(23, spec.proto);
  v.setUint32(26, spec.src ?? ip('10.0.2.15'));
  v.setUint32(30, spec.dst);
  f.set(opt, 34);
  v.setUint16(24, refChecksum(f.subarray(14, 14 + hl)));
  f.set(payload, 14 + hl);
  return f;
}

export function udpPayload(src: number, dst: number, sport: number, dport: number, data: Uint8Array): Uint8Array {
  const u = new Uint8Array(8 + data.length);
  const v = new DataView(u.buffer);
  v.setUint16(0, sport);
  v.setUint16(2, dport);
  v.setUint16(4, u.length);
  u.set(data, 8);
  const c = refChecksum([...pseudo(src, dst, 17, u.length), ...u]);
  v.setUint16(6, c === 0 ? 0xffff : c);
  return u;
}

export function udpFrame(dst: number, sport: number, dport: number, data: Uint8Array, src = ip('10.0.2.15')): Uint8Array {
  return ipFrame({ src, dst, proto: 17 }, udpPayload(src, dst, sport, dport, data));
}

export interface TcpSpec {
  src?: number;
  dst: number;
  sport: number;
  dport: number;
  seq: number;
  ack?: number;
  flags: number;
  window?: number;
  /** Raw option bytes (the caller pads to a multiple of 4). */
  options?: number[];
  data?: Uint8Array;
}

export const F = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16 } as const;

export function tcpPayload(s: TcpSpec): Uint8Array {
  const opts = s.options ?? [];
  const hl = 20 + opts.length;
  const data = s.data ?? new Uint8Array(0);
  const t = new Uint8Array(hl + data.length);
  const v = new DataView(t.buffer);
  v.setUint16(0, s.sport);
  v.setUint16(2, s.dport);
  v.setUint32(4, s.seq >>> 0);
  v.setUint32(8, (s.ack ?? 0) >>> 0);
  v.setUint8(12, (hl / 4) << 4);
  v.setUint8(13, s.flags);
  v.setUint16(14, s.window ?? 65535);
  t.set(opts, 20);
  t.set(data, hl);
  const src = s.src ?? ip('10.0.2.15');
  v.setUint16(16, refChecksum([...pseudo(src, s.dst, 6, t.length), ...t]));
  return t;
}

export function tcpFrame(s: TcpSpec): Uint8Array {
  return ipFrame({ src: s.src ?? ip('10.0.2.15'), dst: s.dst, proto: 6 }, tcpPayload(s));
}

export function icmpEcho(id: number, seq: number, data: Uint8Array, type = 8): Uint8Array {
  const m = new Uint8Array(8 + data.length);
  const v = new DataView(m.buffer);
  v.setUint8(0, type);
  v.setUint16(4, id);
  v.setUint16(6, seq);
  m.set(data, 8);
  v.setUint16(2, refChecksum(m));
  return m;
}

export function arpRequest(targetIp: number, senderIp = ip('10.0.2.15'), senderMac = GUEST_MAC): Uint8Array {
  const f = new Uint8Array(42);
  const v = new DataView(f.buffer);
  f.fill(0xff, 0, 6);
  f.set(senderMac, 6);
  v.setUint16(12, 0x0806);
  v.setUint16(14, 1);
  v.setUint16(16, 0x0800);
  f[18] = 6;
  f[19] = 4;
  v.setUint16(20, 1);
  f.set(senderMac, 22);
  v.setUint32(28, senderIp);
  v.setUint32(38, targetIp);
  return f;
}

/** A frame the stack sent, taken apart and checked with the reference checksum. */
export interface Parsed {
  dstMac: Uint8Array;
  srcMac: Uint8Array;
  type: number;
  ip?: {
    src: number;
    dst: number;
    proto: number;
    id: number;
    mf: boolean;
    df: boolean;
    offset: number;
    ttl: number;
    headerOk: boolean;
    payload: Uint8Array;
  };
  /** Transport checksum verified (undefined for fragments, where it cannot be checked alone). */
  transportOk?: boolean;
  udp?: { sport: number; dport: number; data: Uint8Array };
  tcp?: {
    sport: number;
    dport: number;
    seq: number;
    ack: number;
    flags: number;
    window: number;
    mss?: number;
    wscale?: number;
    data: Uint8Array;
  };
  icmp?: { type: number; code: number; id: number; seq: number; data: Uint8Array };
}

export function parseFrame(f: Uint8Array): Parsed {
  const v = new DataView(f.buffer, f.byteOffset, f.byteLength);
  const out: Parsed = { dstMac: f.slice(0, 6), srcMac: f.slice(6, 12), type: v.getUint16(12) };
  if (out.type !== 0x0800) return out;
  const hl = (f[14]! & 15) * 4;
  const total = v.getUint16(16);
  const fl = v.getUint16(20);
  const payload = f.slice(14 + hl, 14 + total);
  out.ip = {
    src: v.getUint32(26),
    dst: v.getUint32(30),
    proto: f[23]!,
    id: v.getUint16(18),
    mf: (fl & 0x2000) !== 0,
    df: (fl & 0x4000) !== 0,
    offset: (fl & 0x1fff) * 8,
    ttl: f[22]!,
    headerOk: refChecksum(f.subarray(14, 14 + hl)) === 0,
    payload,
  };
  if (out.ip.mf || out.ip.offset) return out;
  return { ...out, ...parseTransport(out.ip.src, out.ip.dst, out.ip.proto, payload) };
}

export function parseTransport(src: number, dst: number, proto: number, p: Uint8Array): Partial<Parsed> {
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  if (proto === 17) {
    const ok = v.getUint16(6) === 0 || refChecksum([...pseudo(src, dst, 17, p.length), ...p]) === 0;
    return { transportOk: ok, udp: { sport: v.getUint16(0), dport: v.getUint16(2), data: p.slice(8, v.getUint16(4)) } };
  }
  if (proto === 6) {
    const hl = (p[12]! >> 4) * 4;
    const tcp: NonNullable<Parsed['tcp']> = {
      sport: v.getUint16(0),
      dport: v.getUint16(2),
      seq: v.getUint32(4),
      ack: v.getUint32(8),
      flags: p[13]!,
      window: v.getUint16(14),
      data: p.slice(hl),
    };
    for (let i = 20; i < hl; ) {
      const k = p[i]!;
      if (k === 0) break;
      if (k === 1) {
        i++;
        continue;
      }
      if (k === 2) tcp.mss = v.getUint16(i + 2);
      if (k === 3) tcp.wscale = p[i + 2];
      i += p[i + 1]!;
    }
    return { transportOk: refChecksum([...pseudo(src, dst, 6, p.length), ...p]) === 0, tcp };
  }
  if (proto === 1) {
    return {
      transportOk: refChecksum(p) === 0,
      icmp: { type: p[0]!, code: p[1]!, id: v.getUint16(4), seq: v.getUint16(6), data: p.slice(8) },
    };
  }
  return {};
}
