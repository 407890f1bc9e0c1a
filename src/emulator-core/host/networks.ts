// -netdev/-nic/-device (net-options.ts) -> started network backends and their virtio-net NICs.
// Backends bind their host sockets here, before the guest runs, so a hostfwd port in use or a
// socket link that cannot connect stops `viv run` with a one-line error naming it, as QEMU does.
import { VirtioNet } from '../devices/virtio/net';
import type { NetBackend } from '../net/backend';
import { capture, PcapWriter } from '../net/pcap';
import { SocketNetdev } from '../net/socket-netdev';
import { UserNetwork } from '../net/user-net';
import type { NetConfig } from './net-options';

export async function openNetworks(net: NetConfig, wake: () => void): Promise<VirtioNet[]> {
  const backends = new Map<string, NetBackend>();
  const started: NetBackend[] = [];
  try {
    for (const d of net.netdevs) {
      let b: NetBackend = d.kind === 'user' ? new UserNetwork({ config: d.user }) : new SocketNetdev(d.socket);
      // VIV_NET_PCAP=PREFIX: capture each netdev's frames to PREFIX.<id>.pcap (diagnostics).
      if (process.env.VIV_NET_PCAP) b = capture(b, new PcapWriter(`${process.env.VIV_NET_PCAP}.${d.id}.pcap`));
      await b.start();
      started.push(b);
      backends.set(d.id, b);
    }
  } catch (e) {
    await Promise.all(started.map((b) => b.close()));
    throw e;
  }
  // A netdev without a NIC is left running, as QEMU does (it warns that it has no peer).
  return net.nics.map((nic) => new VirtioNet(backends.get(nic.netdev)!, nic.mac!, wake));
}

/** Closes the backends of the machine's NICs (host sockets and listeners) at the end of a run. */
export async function closeNetworks(devices: readonly unknown[]): Promise<void> {
  const nics = devices.filter((d): d is VirtioNet => d instanceof VirtioNet);
  // VIV_NET_STATS=1: what each NIC and its backend carried and dropped, on stderr at exit.
  if (process.env.VIV_NET_STATS) {
    for (const n of nics) process.stderr.write(`viv run: net: ${JSON.stringify({ nic: n.counters, backend: n.backend.counters.snapshot() })}\n`);
  }
  await Promise.all(nics.map((d) => d.backend.close()));
}
