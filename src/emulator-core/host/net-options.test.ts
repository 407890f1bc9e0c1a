import { describe, expect, it } from 'vitest';
import { OptionError, parseRunArgs } from './options';

const run = (line: string) => parseRunArgs(line.split(' '));
const fails = (line: string, re: RegExp) => {
  let err: unknown;
  try {
    run(line);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(OptionError);
  expect((err as Error).message).toMatch(re);
};

describe('viv run network options (QEMU syntax)', () => {
  it('-netdev user + -device virtio-net-device, with QEMU defaults and hostfwd', () => {
    const c = run('-netdev user,id=n0,hostfwd=tcp:127.0.0.1:2222-:22 -device virtio-net-device,netdev=n0');
    expect(c.net.netdevs).toHaveLength(1);
    const d = c.net.netdevs[0]!;
    expect(d.kind === 'user' && d.user.hostForwards[0]).toMatchObject({ protocol: 'tcp', hostAddr: '127.0.0.1', hostPort: 2222, guestPort: 22 });
    expect(c.net.nics[0]).toMatchObject({ model: 'virtio-net-device', netdev: 'n0' });
    expect(Array.from(c.net.nics[0]!.mac!)).toEqual([0x52, 0x54, 0, 0x12, 0x34, 0x56]);
  });

  it('-nic user makes both at once; the second NIC gets the next default MAC', () => {
    const c = run('-nic user,hostname=vm1 -nic user,model=virtio-net-device,restrict=on');
    expect(c.net.netdevs.map((d) => d.kind)).toEqual(['user', 'user']);
    expect(c.net.nics.map((n) => n.mac![5])).toEqual([0x56, 0x57]);
    const [a, b] = c.net.netdevs;
    expect(a!.kind === 'user' && a!.user.hostname).toBe('vm1');
    expect(b!.kind === 'user' && b!.user.restrict).toBe(true);
  });

  it('socket and stream netdevs, and an explicit MAC', () => {
    const c = run('-netdev socket,id=s0,listen=:4444 -device virtio-net-device,netdev=s0,mac=52:54:00:00:00:02');
    expect(c.net.netdevs[0]).toMatchObject({ kind: 'socket', socket: { kind: 'listen', host: '127.0.0.1', port: 4444 } });
    expect(Array.from(c.net.nics[0]!.mac!)).toEqual([0x52, 0x54, 0, 0, 0, 2]);
    const s = run('-netdev stream,id=u,server=off,addr.type=unix,addr.path=/tmp/l.sock -device virtio-net-device,netdev=u');
    expect(s.net.netdevs[0]).toMatchObject({ socket: { kind: 'connect-unix', path: '/tmp/l.sock' } });
    expect(run('-nic none').net.nics).toHaveLength(0);
  });

  it.each([
    ['-netdev user', /Parameter 'id' is missing/],
    ['-netdev tap,id=t0', /network backend 'tap' is not supported/],
    ['-netdev user,id=n0,hostfwd=tcp::22', /-netdev user: hostfwd=tcp::22: expected/],
    ['-netdev user,id=n0,bogus=1', /-netdev user: unknown option 'bogus'/],
    ['-netdev user,id=n0 -netdev user,id=n0', /Duplicate ID 'n0'/],
    ['-device virtio-net-device,netdev=nope', /netdev 'nope' not found/],
    ['-device virtio-net-device', /needs netdev=ID/],
    ['-netdev user,id=n0 -device virtio-net-device,netdev=n0 -device virtio-net-device,netdev=n0', /already in use/],
    ['-netdev user,id=n0 -device virtio-net-device,netdev=n0,mac=01:00:5e:00:00:01', /multicast/],
    ['-netdev user,id=n0 -device virtio-net-device,netdev=n0,mac=zz', /six hex bytes/],
    ['-netdev user,id=n0 -device virtio-net-device,netdev=n0,speed=10', /property 'speed' is not supported/],
    ['-device virtio-net-pci,netdev=n0', /no PCI/],
    ['-nic user,model=e1000', /model 'e1000' is not supported/],
    ['-device virtio-rng-device', /-device virtio-rng-device: not implemented yet/],
    ['-netdev socket,id=s,mcast=230.0.0.1:1234', /mcast= is not supported/],
  ])('refuses %s', (line, re) => fails(line, re));

  it('refuses more NICs than virtio-mmio slots', () => {
    fails(Array.from({ length: 9 }, () => '-nic user').join(' '), /at most 8 NICs/);
  });
});
