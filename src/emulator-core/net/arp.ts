// ARP for Ethernet/IPv4 (RFC 826): answers requests for the stack's virtual addresses and keeps
// the guest-side table the stack needs to address frames to the guest.
import { get16, get32, put16, put32, type Ipv4, type Mac } from './bytes';
import { ETH_HEADER_LEN, EtherType, writeEthernetHeader } from './ethernet';

export const ARP_LEN = 28;
export const ArpOp = { Request: 1, Reply: 2 } as const;

export interface ArpPacket {
  op: number;
  senderMac: Mac;
  senderIp: Ipv4;
  targetMac: Mac;
  targetIp: Ipv4;
}

/** Parses the ARP payload of a frame; undefined if truncated or not Ethernet/IPv4 ARP. */
export function parseArp(frame: Uint8Array): ArpPacket | undefined {
  const o = ETH_HEADER_LEN;
  if (frame.length < o + ARP_LEN) return undefined;
  // htype 1 (Ethernet), ptype 0x0800, hlen 6, plen 4.
  if (get16(frame, o) !== 1 || get16(frame, o + 2) !== EtherType.IPv4) return undefined;
  if (frame[o + 4] !== 6 || frame[o + 5] !== 4) return undefined;
  return {
    op: get16(frame, o + 6),
    senderMac: frame.slice(o + 8, o + 14),
    senderIp: get32(frame, o + 14),
    targetMac: frame.slice(o + 18, o + 24),
    targetIp: get32(frame, o + 24),
  };
}

export function buildArp(ethDst: Mac, p: ArpPacket): Uint8Array {
  // Padded to the 60-byte Ethernet minimum, as a real NIC would send it.
  const f = new Uint8Array(60);
  writeEthernetHeader(f, ethDst, p.senderMac, EtherType.ARP);
  const o = ETH_HEADER_LEN;
  put16(f, o, 1);
  put16(f, o + 2, EtherType.IPv4);
  f[o + 4] = 6;
  f[o + 5] = 4;
  put16(f, o + 6, p.op);
  f.set(p.senderMac, o + 8);
  put32(f, o + 14, p.senderIp);
  f.set(p.targetMac, o + 18);
  put32(f, o + 24, p.targetIp);
  return f;
}

/** Bounded IPv4 -> MAC table of the guest side; the oldest entry goes when it is full. */
export class ArpTable {
  private readonly entries = new Map<Ipv4, Mac>();

  constructor(private readonly capacity = 64) {}

  learn(ip: Ipv4, mac: Mac): void {
    if (mac[0]! & 1) return; // a multicast/broadcast MAC is never a host's address
    const cur = this.entries.get(ip);
    if (cur && cur.every((b, i) => b === mac[i])) return;
    this.entries.delete(ip);
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(ip, mac.slice());
  }

  lookup(ip: Ipv4): Mac | undefined {
    return this.entries.get(ip);
  }
}
