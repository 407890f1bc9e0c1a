// What the protocol handlers of the user-mode stack (tcp-nat, udp-nat) need from the stack
// itself, so that each of them can be read, and tested, without the rest.
import { ipv4ToString, IPV4_BROADCAST, isLoopback, isMulticast, type Ipv4 } from './bytes';
import type { Clock } from './clock';
import type { NetCounters } from './counters';
import type { UserNetConfig } from './options';

export interface StackContext {
  readonly cfg: UserNetConfig;
  readonly clock: Clock;
  readonly counters: NetCounters;
  /** Sends a frame built with newIpv4Frame towards the guest (ARP, fragmentation, queueing). */
  sendIp(frame: Uint8Array): void;
  /** True while producers that can wait (TCP) should keep producing. */
  hasRoom(): boolean;
  nextIpId(): number;
  /** The host address for a guest-visible destination (hostAddressFor unless overridden). */
  hostAddressFor(dst: Ipv4): string | undefined;
}

/**
 * The host address a guest-visible destination maps to, or undefined when the stack does not
 * route it: the host alias (10.0.2.2) is the host's loopback, as slirp maps it; other addresses
 * of the virtual network, broadcast, multicast, loopback and "this network" are not routed.
 */
export function hostAddressFor(cfg: UserNetConfig, dst: Ipv4): string | undefined {
  if (dst === cfg.host) return '127.0.0.1';
  if (((dst & cfg.netmask) >>> 0) === cfg.network) return undefined;
  if (dst === IPV4_BROADCAST || isMulticast(dst) || isLoopback(dst) || dst >>> 24 === 0 || dst >>> 28 === 0xf) {
    return undefined;
  }
  return ipv4ToString(dst);
}

/** The address the guest sees for a host peer: the host alias for the host's own addresses. */
export function guestVisibleAddress(cfg: UserNetConfig, hostAddr: string): Ipv4 | undefined {
  if (hostAddr.startsWith('::ffff:')) hostAddr = hostAddr.slice(7);
  const parts = hostAddr.split('.');
  if (parts.length !== 4) return undefined; // IPv6 peers cannot be shown to an IPv4 guest
  const a = parts.reduce((v, p) => v * 256 + Number(p), 0) >>> 0;
  return isLoopback(a) ? cfg.host : a;
}
