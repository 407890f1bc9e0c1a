// Named counters of a network backend: what it carried and, for every frame it refused, why.
// A hostile or broken guest shows up here instead of as a host exception; tests assert on the
// exact reason a crafted frame was dropped.

/** Every counter, with what it counts. Names are stable: tests, QMP and docs/net.md use them. */
export const COUNTERS = {
  rxFrames: 'frames received from the guest',
  rxBytes: 'bytes received from the guest',
  txFrames: 'frames delivered to the guest',
  txBytes: 'bytes delivered to the guest',
  txQueueFull: 'frames for the guest dropped because the output queue was full',

  ethShort: 'frames shorter than an Ethernet header',
  ethUnknownType: 'frames of an EtherType the stack does not handle',
  ipv6Dropped: 'IPv6 frames (not routed; see docs/net.md)',

  arpMalformed: 'ARP packets that are truncated or not Ethernet/IPv4',
  arpReplies: 'ARP replies sent for the virtual addresses',
  arpPendingDropped: 'packets for an unresolved guest address dropped (pending queue full or timeout)',

  ipv4Malformed: 'IPv4 headers that are truncated or have bad version/length fields',
  ipv4Checksum: 'IPv4 headers with a bad checksum',
  ipv4BadAddress: 'IPv4 packets with a source or destination the stack will not route',
  ipv4Ttl: 'IPv4 packets that arrived with TTL 0',
  ipv4UnknownProtocol: 'IPv4 packets of a protocol other than ICMP, UDP, TCP',
  ipv4Restricted: 'IPv4 packets dropped by restrict=on',

  fragReassembled: 'datagrams rebuilt from fragments',
  fragOverlap: 'fragmented datagrams dropped because two fragments overlapped',
  fragInvalid: 'fragments with an impossible offset or length',
  fragLimit: 'fragments dropped because the reassembly memory or datagram limit was reached',
  fragTimeout: 'partial datagrams dropped after the reassembly timeout',

  icmpMalformed: 'ICMP messages that are truncated or have a bad checksum',
  icmpEchoReplies: 'echo replies sent for the gateway and DNS addresses',
  icmpUnsupported: 'ICMP messages other than echo requests to the virtual addresses',
  icmpNoRoute: 'echo requests to outside hosts (no unprivileged ICMP socket in Node; see docs/net.md)',

  udpMalformed: 'UDP datagrams that are truncated or have a bad length',
  udpChecksum: 'UDP datagrams with a bad checksum',
  udpNoRoute: 'UDP datagrams to an address the stack does not route',
  udpSessionLimit: 'UDP sessions evicted because the socket limit was reached',
  udpSendError: 'UDP datagrams the host socket refused to send',
  udpSessions: 'UDP NAT sessions opened',

  tcpMalformed: 'TCP segments that are truncated or have a bad data offset',
  tcpChecksum: 'TCP segments with a bad checksum',
  tcpBadOptions: 'TCP segments whose options run past the header',
  tcpNoConnection: 'TCP segments for no connection (answered with RST where RFC 793 says so)',
  tcpNoRoute: 'TCP connections to an address the stack does not route',
  tcpSynLimit: 'SYNs dropped because too many host connects were pending (SYN flood)',
  tcpConnectionLimit: 'SYNs dropped because the connection limit was reached',
  tcpConnectFailed: 'guest connections refused because the host connect failed',
  tcpOutOfOrder: 'TCP segments beyond the next expected byte (dropped, duplicate ACK sent)',
  tcpOutOfWindow: 'TCP segments outside the receive window',
  tcpRetransmits: 'segments retransmitted to the guest',
  tcpConnections: 'TCP connections opened (both directions)',
  tcpResets: 'RSTs sent to the guest',

  dhcpMalformed: 'DHCP/BOOTP messages that could not be parsed',
  dhcpReplies: 'DHCP offers, acks and naks sent',
  dhcpPoolExhausted: 'DHCP requests refused because all 16 addresses were leased',

  dnsMalformed: 'DNS queries that could not be parsed',
  dnsQueries: 'DNS queries answered',
  dnsLimit: 'DNS queries dropped because too many were pending',
  dnsFailures: 'DNS queries answered with SERVFAIL (resolver error or timeout)',

  internalError: 'frames whose processing hit a bug of ours (caught, never thrown at the NIC)',

  linkFramingError: 'socket netdev streams closed for an impossible frame length',
  linkNoPeer: 'frames dropped because the socket netdev had no peer',
  linkCongested: 'frames dropped because the socket netdev peer was not reading',
} as const;

export type CounterName = keyof typeof COUNTERS;

export class NetCounters {
  private readonly values = new Map<CounterName, number>();

  inc(name: CounterName, by = 1): void {
    this.values.set(name, (this.values.get(name) ?? 0) + by);
  }

  get(name: CounterName): number {
    return this.values.get(name) ?? 0;
  }

  /** Counters that are non-zero, by name. */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.values);
  }
}
