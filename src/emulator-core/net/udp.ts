// UDP datagrams (RFC 768): parse and check what the guest sent, build what goes back.
import { get16, put16, type Ipv4 } from './bytes';
import { finishChecksum, pseudoHeaderSum, sumWords } from './checksum';
import { IP_PAYLOAD_OFFSET, IpProto, newIpv4Frame } from './ipv4';

export const UDP_HEADER_LEN = 8;
/** The largest UDP payload one IPv4 datagram carries (65535 - 20 - 8). */
export const UDP_MAX_PAYLOAD = 65507;

export interface UdpDatagram {
  srcPort: number;
  dstPort: number;
  data: Uint8Array;
}

export type UdpError = 'udpMalformed' | 'udpChecksum';

/** Parses the UDP payload of an IPv4 datagram from src to dst. */
export function parseUdp(payload: Uint8Array, src: Ipv4, dst: Ipv4): UdpDatagram | UdpError {
  if (payload.length < UDP_HEADER_LEN) return 'udpMalformed';
  const len = get16(payload, 4);
  // The UDP length may be shorter than the IP payload (trailing bytes are ignored), never longer.
  if (len < UDP_HEADER_LEN || len > payload.length) return 'udpMalformed';
  const sum = get16(payload, 6);
  // A zero checksum means the sender did not compute one (allowed for IPv4, RFC 768).
  if (sum !== 0 && finishChecksum(sumWords(payload, 0, len, pseudoHeaderSum(src, dst, IpProto.UDP, len))) !== 0) {
    return 'udpChecksum';
  }
  return { srcPort: get16(payload, 0), dstPort: get16(payload, 2), data: payload.subarray(UDP_HEADER_LEN, len) };
}

export interface UdpOut {
  src: Ipv4;
  dst: Ipv4;
  srcPort: number;
  dstPort: number;
  ipId: number;
}

/** A frame carrying one UDP datagram (it may exceed the MTU; the sender fragments it). */
export function buildUdp(h: UdpOut, data: Uint8Array): Uint8Array {
  const len = UDP_HEADER_LEN + data.length;
  const f = newIpv4Frame({ src: h.src, dst: h.dst, protocol: IpProto.UDP, id: h.ipId }, len);
  const o = IP_PAYLOAD_OFFSET;
  put16(f, o, h.srcPort);
  put16(f, o + 2, h.dstPort);
  put16(f, o + 4, len);
  f.set(data, o + UDP_HEADER_LEN);
  let sum = finishChecksum(sumWords(f, o, o + len, pseudoHeaderSum(h.src, h.dst, IpProto.UDP, len)));
  if (sum === 0) sum = 0xffff; // zero would mean "no checksum"
  put16(f, o + 6, sum);
  return f;
}
