// TCP segments (RFC 793 section 3.1, options from RFC 7323 and RFC 2018): parse and check what
// the guest sent, build what the stack sends. The connection logic is in tcp-connection.ts.
import { get16, get32, put16, put32, type Ipv4 } from './bytes';
import { finishChecksum, pseudoHeaderSum, sumWords } from './checksum';
import { IP_PAYLOAD_OFFSET, IpProto, newIpv4Frame } from './ipv4';

export const TCP_HEADER_LEN = 20;
export const TcpFlag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20 } as const;

const OPT_EOL = 0;
const OPT_NOP = 1;
const OPT_MSS = 2;
const OPT_WSCALE = 3;
/** RFC 7323 2.3: a shift above 14 is treated as 14. */
export const MAX_WSCALE = 14;

export interface TcpSegment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  /** MSS option (SYN only), if present and well-formed. */
  mss?: number;
  /** Window scale option (SYN only), clamped to 14. */
  wscale?: number;
  data: Uint8Array;
}

export type TcpError = 'tcpMalformed' | 'tcpChecksum' | 'tcpBadOptions';

export function parseTcp(payload: Uint8Array, src: Ipv4, dst: Ipv4): TcpSegment | TcpError {
  if (payload.length < TCP_HEADER_LEN) return 'tcpMalformed';
  const hlen = (payload[12]! >>> 4) * 4;
  if (hlen < TCP_HEADER_LEN || hlen > payload.length) return 'tcpMalformed';
  const sum = sumWords(payload, 0, payload.length, pseudoHeaderSum(src, dst, IpProto.TCP, payload.length));
  if (finishChecksum(sum) !== 0) return 'tcpChecksum';
  const seg: TcpSegment = {
    srcPort: get16(payload, 0),
    dstPort: get16(payload, 2),
    seq: get32(payload, 4),
    ack: get32(payload, 8),
    flags: payload[13]!,
    window: get16(payload, 14),
    data: payload.subarray(hlen),
  };
  // Options: kind, length, value. A length that is < 2 or runs past the header is garbage and
  // the whole segment goes (a length of 0 would otherwise loop forever).
  let i = TCP_HEADER_LEN;
  while (i < hlen) {
    const kind = payload[i]!;
    if (kind === OPT_EOL) break;
    if (kind === OPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= hlen) return 'tcpBadOptions';
    const len = payload[i + 1]!;
    if (len < 2 || i + len > hlen) return 'tcpBadOptions';
    // Options with the wrong length for their kind are ignored, as Linux does.
    if (kind === OPT_MSS && len === 4) seg.mss = get16(payload, i + 2);
    else if (kind === OPT_WSCALE && len === 3) seg.wscale = Math.min(payload[i + 2]!, MAX_WSCALE);
    i += len;
  }
  return seg;
}

export interface TcpOut {
  src: Ipv4;
  dst: Ipv4;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  mss?: number;
  wscale?: number;
  ipId: number;
}

/**
 * A frame carrying one TCP segment with `dataLength` bytes that `writeData` copies in at
 * `offset`; the checksum is computed after.
 */
export function buildTcp(
  h: TcpOut,
  dataLength = 0,
  writeData?: (frame: Uint8Array, offset: number) => void,
): Uint8Array {
  let optLen = 0;
  if (h.mss !== undefined) optLen += 4;
  if (h.wscale !== undefined) optLen += 4; // NOP + 3-byte option keeps the header 32-bit aligned
  const hlen = TCP_HEADER_LEN + optLen;
  const len = hlen + dataLength;
  const f = newIpv4Frame({ src: h.src, dst: h.dst, protocol: IpProto.TCP, id: h.ipId, dontFragment: true }, len);
  const o = IP_PAYLOAD_OFFSET;
  put16(f, o, h.srcPort);
  put16(f, o + 2, h.dstPort);
  put32(f, o + 4, h.seq);
  put32(f, o + 8, h.ack);
  f[o + 12] = (hlen / 4) << 4;
  f[o + 13] = h.flags;
  put16(f, o + 14, h.window);
  let p = o + TCP_HEADER_LEN;
  if (h.mss !== undefined) {
    f[p] = OPT_MSS;
    f[p + 1] = 4;
    put16(f, p + 2, h.mss);
    p += 4;
  }
  if (h.wscale !== undefined) {
    f[p] = OPT_NOP;
    f[p + 1] = OPT_WSCALE;
    f[p + 2] = 3;
    f[p + 3] = h.wscale;
    p += 4;
  }
  if (dataLength > 0) writeData!(f, o + hlen);
  put16(f, o + 16, finishChecksum(sumWords(f, o, o + len, pseudoHeaderSum(h.src, h.dst, IpProto.TCP, len))));
  return f;
}

/** Sequence-number comparisons modulo 2^32 (RFC 793 3.3). */
export const seqLt = (a: number, b: number): boolean => ((a - b) | 0) < 0;
export const seqLe = (a: number, b: number): boolean => ((a - b) | 0) <= 0;
export const seqGt = (a: number, b: number): boolean => ((a - b) | 0) > 0;
export const seqGe = (a: number, b: number): boolean => ((a - b) | 0) >= 0;
export const seqAdd = (a: number, n: number): number => (a + n) >>> 0;
export const seqDiff = (a: number, b: number): number => (a - b) | 0;
