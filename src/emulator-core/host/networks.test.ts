import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { VirtioNet } from '../devices/virtio/net';
import { closeNetworks, openNetworks } from './networks';
import { parseRunArgs } from './options';

describe('viv run networks: backends started before the guest runs', () => {
  it('makes one started virtio-net per NIC, in command-line order, with its MAC', async () => {
    const c = parseRunArgs(['-nic', 'user,hostfwd=tcp:127.0.0.1:0-:22', '-netdev', 'socket,id=s,listen=127.0.0.1:0', '-device', 'virtio-net-device,netdev=s']);
    const nics = await openNetworks(c.net, () => {});
    try {
      expect(nics).toHaveLength(2);
      expect(nics.every((n) => n instanceof VirtioNet)).toBe(true);
      expect(Array.from(nics[1]!.macAddress)).toEqual([0x52, 0x54, 0, 0x12, 0x34, 0x57]);
    } finally {
      await closeNetworks(nics);
    }
  });

  it('fails with a message naming the hostfwd rule whose port is taken, and closes what it opened', async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const port = (taken.address() as net.AddressInfo).port;
    const free = net.createServer();
    await new Promise<void>((r) => free.listen(0, '127.0.0.1', () => r()));
    const freePort = (free.address() as net.AddressInfo).port;
    await new Promise<void>((r) => free.close(() => r()));
    const c = parseRunArgs(['-nic', `user,hostfwd=tcp::${freePort}-:80`, '-nic', `user,hostfwd=tcp::${port}-:22`]);
    await expect(openNetworks(c.net, () => {})).rejects.toThrow(`hostfwd=tcp::${port}-:22: host tcp port ${port} on 127.0.0.1 is already in use`);
    // The first NIC's listener was closed again: its port is free.
    const again = net.createServer();
    await new Promise<void>((r, j) => again.once('error', j).listen(freePort, '127.0.0.1', () => r()));
    await new Promise<void>((r) => again.close(() => r()));
    await new Promise<void>((r) => taken.close(() => r()));
  });
});
