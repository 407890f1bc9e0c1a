// The network library's public surface: backends a NIC attaches to, and their option parsers.
export type { FrameReceiver, NetBackend } from './backend';
export { COUNTERS, NetCounters, type CounterName } from './counters';
export { parseMac, macToString, parseIpv4, ipv4ToString } from './bytes';
export {
  defaultUserNetConfig,
  parseHostForward,
  parseUserNetOptions,
  splitQemuOptions,
  type HostForward,
  type UserNetConfig,
} from './options';
export { UserNetwork, type UserNetworkOptions } from './user-net';
export { SocketNetdev, parseSocketNetdevOptions, type SocketNetdevConfig } from './socket-netdev';
