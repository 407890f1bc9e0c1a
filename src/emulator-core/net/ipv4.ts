// IPv4 headers (RFC 791): parse and check what the guest sent, build what the stack sends, and
// split the stack's own datagrams that exceed the link MTU into fragments.
import { get16, get32, put16, put32, type Ipv4 } from './bytes';
import { internetChecksum } from './checksum';
import { ETH_HEADER_LEN } from './ethernet';

export const IpProto = { ICMP: 1, TCP: 6, UDP: 17 } as const;
export const IPV4_HEADER_LEN = 20;
/** Offset of the transport header in a frame the stack builds (Ethernet + option-less IPv4). */
export const IP_PAYLOAD_OFFSET = ETH_HEADER_LEN + IPV4_HEADER_LEN;
export const IPV4_MAX_LEN = 65535;
/** Default TTL of datagrams the stack originates (Linux's ip_default_ttl). */
export const DEFAULT_TTL = 64;

const FLAG_DF = 0x4000;
const FLAG_MF = 0x2000;

export interface Ipv4Header {
  /** Header length in bytes (20..60). */
  headerLength: number;
  /** Total length from the header (header + payload), already checked against the frame. */
  totalLength: number;
  tos: number;
  id: number;
  dontFragment: boolean;
  moreFragments: boolean;
  /** Fragment offset in bytes. */
  fragmentOffset: number;
  ttl: number;
  protocol: number;
  src: Ipv4;
  dst: Ipv4;
}

/** A whole datagram as the transport layer sees it (after reassembly when it was fragmented). */
export interface Datagram {
  header: Ipv4Header;
  /** The transport header and data (exactly totalLength - headerLength bytes). */
  payload: Uint8Array;
  /** The original IP header plus the first 8 payload bytes, for ICMP error messages (RFC 792). */
  quote: Uint8Array;
}

export type Ipv4Error = 'ipv4Malformed' | 'ipv4Checksum';

/**
 * Parses and checks the IPv4 header at `off`. Ethernet padding beyond totalLength is ignored; a
 * frame shorter than totalLength is malformed.
 */
export function parseIpv4(frame: Uint8Array, off = ETH_HEADER_LEN): Ipv4Header | Ipv4Error {
  const avail = frame.length - off;
  if (avail < IPV4_HEADER_LEN) return 'ipv4Malformed';
  const vihl = frame[off]!;
  const headerLength = (vihl & 0xf) * 4;
  if (vihl >>> 4 !== 4 || headerLength < IPV4_HEADER_LEN || headerLength > avail) return 'ipv4Malformed';
  const totalLength = get16(frame, off + 2);
  if (totalLength < headerLength || totalLength > avail) return 'ipv4Malformed';
  if (internetChecksum(frame, off, off + headerLength) !== 0) return 'ipv4Checksum';
  const flagsFrag = get16(frame, off + 6);
  if (flagsFrag & 0x8000) return 'ipv4Malformed'; // the reserved ("evil") bit must be zero
  return {
    headerLength,
    totalLength,
    tos: frame[off + 1]!,
    id: get16(frame, off + 4),
    dontFragment: (flagsFrag & FLAG_DF) !== 0,
    moreFragments: (flagsFrag & FLAG_MF) !== 0,
    fragmentOffset: (flagsFrag & 0x1fff) * 8,
    ttl: frame[off + 8]!,
    protocol: frame[off + 9]!,
    src: get32(frame, off + 12),
    dst: get32(frame, off + 16),
  };
}

export interface Ipv4Out {
  src: Ipv4;
  dst: Ipv4;
  protocol: number;
  id: number;
  ttl?: number;
  dontFragment?: boolean;
}

/**
 * Allocates a frame for a datagram with `payloadLength` bytes of payload and fills the IPv4
 * header (checksum included); the caller writes the payload at IP_PAYLOAD_OFFSET and the
 * Ethernet header is written when the frame is sent.
 */
export function newIpv4Frame(h: Ipv4Out, payloadLength: number): Uint8Array {
  const total = IPV4_HEADER_LEN + payloadLength;
  if (total > IPV4_MAX_LEN) throw new RangeError(`IPv4 datagram of ${total} bytes exceeds 65535`);
  const f = new Uint8Array(ETH_HEADER_LEN + total);
  writeIpv4Header(f, ETH_HEADER_LEN, {
    ...h,
    totalLength: total,
    moreFragments: false,
    fragmentOffset: 0,
  });
  return f;
}

interface HeaderFields extends Ipv4Out {
  totalLength: number;
  moreFragments: boolean;
  fragmentOffset: number;
}

function writeIpv4Header(f: Uint8Array, o: number, h: HeaderFields): void {
  f[o] = 0x45;
  f[o + 1] = 0;
  put16(f, o + 2, h.totalLength);
  put16(f, o + 4, h.id);
  put16(f, o + 6, (h.dontFragment ? FLAG_DF : 0) | (h.moreFragments ? FLAG_MF : 0) | (h.fragmentOffset >>> 3));
  f[o + 8] = h.ttl ?? DEFAULT_TTL;
  f[o + 9] = h.protocol;
  put16(f, o + 10, 0);
  put32(f, o + 12, h.src);
  put32(f, o + 16, h.dst);
  put16(f, o + 10, internetChecksum(f, o, o + IPV4_HEADER_LEN));
}

/**
 * Splits a frame built by newIpv4Frame whose datagram exceeds `mtu` into fragment frames
 * (RFC 791 section 3.2); returns [frame] when it fits.
 */
export function fragmentIpv4Frame(frame: Uint8Array, mtu: number): Uint8Array[] {
  const o = ETH_HEADER_LEN;
  const total = get16(frame, o + 2);
  if (total <= mtu) return [frame];
  const chunk = Math.floor((mtu - IPV4_HEADER_LEN) / 8) * 8;
  const payload = frame.subarray(o + IPV4_HEADER_LEN, o + total);
  const base: Ipv4Out = {
    src: get32(frame, o + 12),
    dst: get32(frame, o + 16),
    protocol: frame[o + 9]!,
    id: get16(frame, o + 4),
    ttl: frame[o + 8]!,
  };
  const out: Uint8Array[] = [];
  for (let at = 0; at < payload.length; at += chunk) {
    const len = Math.min(chunk, payload.length - at);
    const f = new Uint8Array(ETH_HEADER_LEN + IPV4_HEADER_LEN + len);
    writeIpv4Header(f, o, {
      ...base,
      totalLength: IPV4_HEADER_LEN + len,
      moreFragments: at + len < payload.length,
      fragmentOffset: at,
    });
    f.set(payload.subarray(at, at + len), IP_PAYLOAD_OFFSET);
    out.push(f);
  }
  return out;
}
