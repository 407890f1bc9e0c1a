// Ethernet II framing (IEEE 802.3 with EtherType). The NIC strips the FCS, so a frame here is
// destination MAC, source MAC, EtherType, payload.
import { get16, put16, type Mac } from './bytes';

export const ETH_HEADER_LEN = 14;
export const EtherType = { IPv4: 0x0800, ARP: 0x0806, IPv6: 0x86dd } as const;

/** The link MTU the stack assumes (QEMU's slirp default, and virtio-net's without negotiation). */
export const MTU = 1500;

export function etherType(frame: Uint8Array): number {
  return get16(frame, 12);
}

/** Writes the Ethernet header into the first 14 bytes of `frame`. */
export function writeEthernetHeader(frame: Uint8Array, dst: Mac, src: Mac, type: number): void {
  frame.set(dst, 0);
  frame.set(src, 6);
  put16(frame, 12, type);
}
