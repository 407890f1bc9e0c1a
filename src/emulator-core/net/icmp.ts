// ICMP (RFC 792): echo replies for the stack's own addresses, and the error messages the stack
// sends when it cannot deliver a guest's datagram.
import { internetChecksum } from './checksum';
import { IP_PAYLOAD_OFFSET, IpProto, newIpv4Frame, type Datagram } from './ipv4';
import type { Ipv4 } from './bytes';

export const IcmpType = { EchoReply: 0, Unreachable: 3, EchoRequest: 8, TimeExceeded: 11 } as const;
export const UnreachableCode = { Net: 0, Host: 1, Protocol: 2, Port: 3 } as const;
const ICMP_HEADER_LEN = 8;

export interface IcmpMessage {
  type: number;
  code: number;
  /** The bytes after the 4-byte type/code/checksum (identifier, sequence, data for echo). */
  rest: Uint8Array;
}

/** Parses an ICMP message; undefined if it is truncated or its checksum is wrong. */
export function parseIcmp(payload: Uint8Array): IcmpMessage | undefined {
  if (payload.length < ICMP_HEADER_LEN) return undefined;
  if (internetChecksum(payload, 0, payload.length) !== 0) return undefined;
  return { type: payload[0]!, code: payload[1]!, rest: payload.subarray(4) };
}

function buildIcmp(src: Ipv4, dst: Ipv4, id: number, type: number, code: number, rest: Uint8Array): Uint8Array {
  const f = newIpv4Frame({ src, dst, protocol: IpProto.ICMP, id }, 4 + rest.length);
  const o = IP_PAYLOAD_OFFSET;
  f[o] = type;
  f[o + 1] = code;
  f.set(rest, o + 4);
  const sum = internetChecksum(f, o, f.length);
  f[o + 2] = sum >>> 8;
  f[o + 3] = sum & 0xff;
  return f;
}

/** The echo reply to an echo request `d` addressed to one of the stack's addresses. */
export function buildEchoReply(d: Datagram, msg: IcmpMessage, ipId: number): Uint8Array {
  return buildIcmp(d.header.dst, d.header.src, ipId, IcmpType.EchoReply, 0, msg.rest);
}

/** An ICMP error about datagram `d` (its header and first 8 payload bytes are quoted). */
export function buildIcmpError(from: Ipv4, d: Datagram, type: number, code: number, ipId: number): Uint8Array {
  const rest = new Uint8Array(4 + d.quote.length); // 4 unused bytes, then the quote
  rest.set(d.quote, 4);
  return buildIcmp(from, d.header.src, ipId, type, code, rest);
}
