// The network options of `viv run`, with QEMU's syntax: `-netdev user|socket|stream,id=ID,...`,
// `-device virtio-net-device,netdev=ID[,mac=MAC]` and `-nic user|socket|none[,model=][,mac=]...`
// (a netdev and its NIC in one option). The backend options themselves are parsed by the network
// library (net/options.ts, net/socket-netdev.ts), so an error there is reported here with its
// option name. Differences from QEMU, on purpose or for lack of a bus: hostfwd and listen= bind
// 127.0.0.1 unless an address is given (QEMU binds all interfaces); the only NIC model is
// virtio-net-device (virtio-mmio: this board has no PCI, where QEMU's -nic default is
// virtio-net-pci).
import { parseMac } from '../net/bytes';
import { parseUserNetOptions, splitQemuOptions, type UserNetConfig } from '../net/options';
import { parseSocketNetdevOptions, type SocketNetdevConfig } from '../net/socket-netdev';

export type NetdevConfig =
  | { id: string; kind: 'user'; user: UserNetConfig }
  | { id: string; kind: 'socket'; socket: SocketNetdevConfig };

export interface NicConfig {
  model: 'virtio-net-device';
  netdev: string;
  mac?: Uint8Array;
}

export interface NetConfig {
  netdevs: NetdevConfig[];
  nics: NicConfig[];
}

export const NIC_MODELS = ['virtio-net-device'] as const;

export class NetOptionError extends Error {
  override readonly name = 'NetOptionError';
}

export function emptyNetConfig(): NetConfig {
  return { netdevs: [], nics: [] };
}

/** -netdev TYPE,id=ID,...: a backend. */
export function addNetdev(net: NetConfig, value: string): void {
  const pairs = splitQemuOptions(value);
  const type = pairs[0]?.[0] === '' ? pairs.shift()![1] : pairs.find(([k]) => k === 'type')?.[1];
  const id = pairs.find(([k]) => k === 'id')?.[1];
  if (!type) throw new NetOptionError("-netdev: Parameter 'type' is missing");
  if (!id) throw new NetOptionError("-netdev: Parameter 'id' is missing");
  if (!/^[A-Za-z][A-Za-z0-9_.-]*$/.test(id)) throw new NetOptionError(`-netdev ${type}: Parameter 'id' expects an identifier`);
  net.netdevs.push(netdev(`-netdev ${type}`, type, id, pairs.filter(([k]) => k !== 'id' && k !== 'type')));
}

function netdev(where: string, type: string, id: string, pairs: [string, string][]): NetdevConfig {
  try {
    if (type === 'user') return { id, kind: 'user', user: parseUserNetOptions(pairs) };
    if (type === 'socket' || type === 'stream') return { id, kind: 'socket', socket: parseSocketNetdevOptions(type, pairs) };
  } catch (e) {
    throw new NetOptionError(`${where}: ${(e as Error).message.replace(/^-netdev (user|socket|stream): /, '')}`);
  }
  throw new NetOptionError(`${where}: network backend '${type}' is not supported (user, socket, stream)`);
}

/**
 * -device DRIVER,...: returns false when DRIVER is not a NIC (the caller handles other devices),
 * else records the NIC.
 */
export function addNetDevice(net: NetConfig, value: string): boolean {
  const pairs = splitQemuOptions(value);
  const driver = pairs[0]?.[0] === '' ? pairs.shift()![1] : pairs.find(([k]) => k === 'driver')?.[1];
  if (driver !== 'virtio-net-device') {
    if (driver === 'virtio-net-pci' || driver === 'virtio-net' || driver === 'e1000' || driver === 'rtl8139') {
      throw new NetOptionError(`-device ${driver}: not supported (this board has no PCI; use virtio-net-device)`);
    }
    return false;
  }
  const nic: NicConfig = { model: 'virtio-net-device', netdev: '' };
  for (const [k, v] of pairs) {
    if (k === 'driver' || k === 'id') continue;
    if (k === 'netdev') nic.netdev = v;
    else if (k === 'mac') nic.mac = mac(`-device ${driver}`, v);
    else throw new NetOptionError(`-device ${driver}: property '${k}' is not supported (netdev, mac)`);
  }
  if (!nic.netdev) throw new NetOptionError(`-device ${driver}: needs netdev=ID (a -netdev to attach to)`);
  net.nics.push(nic);
  return true;
}

/** -nic TYPE[,model=][,mac=][,backend options] or -nic none. */
export function addNic(net: NetConfig, value: string): void {
  const pairs = splitQemuOptions(value);
  const type = pairs[0]?.[0] === '' ? pairs.shift()![1] : undefined;
  if (!type) throw new NetOptionError("-nic: Parameter 'type' is missing");
  if (type === 'none') {
    if (pairs.length > 0) throw new NetOptionError('-nic none: takes no options');
    return;
  }
  const nic: NicConfig = { model: 'virtio-net-device', netdev: '' };
  const rest: [string, string][] = [];
  let id: string | undefined;
  for (const [k, v] of pairs) {
    if (k === 'model') {
      if (v === 'help') throw new NetOptionError(`-nic: available NIC models: ${NIC_MODELS.join(', ')}`);
      if (v !== 'virtio-net-device' && v !== 'virtio') {
        throw new NetOptionError(`-nic: model '${v}' is not supported (virtio-net-device; this board has no PCI)`);
      }
    } else if (k === 'mac') nic.mac = mac('-nic', v);
    else if (k === 'id') id = v;
    else rest.push([k, v]);
  }
  nic.netdev = id ?? `__nic${net.nics.length}`;
  net.netdevs.push(netdev(`-nic ${type}`, type, nic.netdev, rest));
  net.nics.push(nic);
}

function mac(where: string, v: string): Uint8Array {
  const m = parseMac(v);
  if (!m) throw new NetOptionError(`${where}: mac=${v}: expected six hex bytes like 52:54:00:12:34:56`);
  if (m[0]! & 1) throw new NetOptionError(`${where}: mac=${v} is a multicast address`);
  return m;
}

/** Checks references and fills QEMU's default MACs (52:54:00:12:34:56, then :57, ...). */
export function finishNetConfig(net: NetConfig, maxNics: number): void {
  const ids = new Set<string>();
  for (const d of net.netdevs) {
    if (ids.has(d.id)) throw new NetOptionError(`-netdev: Duplicate ID '${d.id}' for netdev`);
    ids.add(d.id);
  }
  const used = new Set<string>();
  let nextMac = 0x56;
  for (const nic of net.nics) {
    if (!ids.has(nic.netdev)) throw new NetOptionError(`-device ${nic.model}: netdev '${nic.netdev}' not found`);
    if (used.has(nic.netdev)) throw new NetOptionError(`-device ${nic.model}: netdev '${nic.netdev}' is already in use`);
    used.add(nic.netdev);
    nic.mac ??= Uint8Array.from([0x52, 0x54, 0x00, 0x12, 0x34, nextMac++ & 0xff]);
  }
  if (net.nics.length > maxNics) throw new NetOptionError(`-device: at most ${maxNics} NICs (virtio-mmio slots) on this board`);
}
