// The shared Linux guest on OUR user-mode network, with qemu-system-riscv64 as the CPU: QEMU's
// virtio-net is linked by `-netdev socket,connect=` (QEMU's framing) to our SocketNetdev, which
// is wired to our UserNetwork. So the stack meets a real Linux TCP/IP (udhcpc, ping, wget,
// nslookup, nc) before our own CPU boots the guest; net-guest-viv.test.ts runs the same script
// under viv once it does.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseUserNetOptions, splitQemuOptions } from '../../src/emulator-core/net/options';
import { SocketNetdev } from '../../src/emulator-core/net/socket-netdev';
import { UserNetwork } from '../../src/emulator-core/net/user-net';
import { Console, exchange, guestScript, hasGuest, hasQemu, initrdWith, kernel, MiB, sha, UDHCPC_SCRIPT } from './net-guest';

const runnable = hasGuest && hasQemu;

describe.skipIf(!runnable)('the shared guest on our user-mode network (qemu-system-riscv64 as the CPU)', () => {
  const fileData = randomBytes(4 * MiB);
  const toGuest = randomBytes(10 * MiB);
  let httpServer: http.Server;
  let stack: UserNetwork;
  let link: SocketNetdev;
  let vm: ChildProcess | undefined;
  let initrd: { path: string; dir: string };
  const con = new Console();
  let exchanged: { got: Buffer; ms: number };

  beforeAll(async () => {
    httpServer = http.createServer((req, res) => {
      if (req.url !== '/file') return res.writeHead(404).end();
      res.writeHead(200, { 'Content-Length': fileData.length }).end(fileData);
    });
    await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', () => r()));
    const httpPort = (httpServer.address() as net.AddressInfo).port;

    stack = new UserNetwork({ config: parseUserNetOptions(splitQemuOptions('hostfwd=tcp:127.0.0.1:0-:7000')) });
    await stack.start();
    link = new SocketNetdev({ kind: 'listen', host: '127.0.0.1', port: 0 });
    await link.start();
    // The wire: what QEMU's NIC sends goes into our stack, and back.
    link.attach((f) => (stack.send(f), true));
    stack.attach((f) => (link.send(f), true));

    initrd = initrdWith({ 'etc/autorun.sh': guestScript(httpPort, 10), 'etc/udhcpc.script': UDHCPC_SCRIPT });
    vm = spawn(
      'qemu-system-riscv64',
      ['-M', 'virt', '-m', '512M', '-smp', '2', '-nographic', '-no-reboot', '-kernel', kernel, '-initrd', initrd.path,
        '-append', 'console=ttyS0 quiet', '-global', 'virtio-mmio.force-legacy=false',
        '-netdev', `socket,id=n0,connect=127.0.0.1:${link.listenPort}`, '-device', 'virtio-net-device,netdev=n0'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    vm.stdout!.on('data', (d: Buffer) => con.feed(d.toString()));
    vm.stderr!.on('data', (d: Buffer) => con.feed(d.toString()));
    await con.wait(/NC-READY/, 300_000);
    const port = stack.boundPorts()[0]!.port;
    exchanged = await exchange(port, toGuest);
    await con.wait(/AUTORUN-EXIT \d+/, 120_000);
  }, 480_000);

  afterAll(async () => {
    vm?.kill('SIGKILL');
    await stack?.close();
    await link?.close();
    httpServer?.close();
    if (initrd) rmSync(initrd.dir, { recursive: true, force: true });
  });

  it('gets 10.0.2.15 by DHCP, with gateway 10.0.2.2 and DNS 10.0.2.3', () => {
    expect(con.line('GUEST-IP')).toBe('10.0.2.15/24');
    expect(con.line('GUEST-GW')).toBe('10.0.2.2');
    expect(con.line('GUEST-DNS')).toBe('10.0.2.3');
  });

  it('pings 10.0.2.2', () => {
    expect(con.line('PING-EXIT')).toBe('0');
    expect(con.line('PING-3 packets')).toBe('received');
  });

  it('fetches a file from a host HTTP server through 10.0.2.2 (sha256 matches)', () => {
    expect(con.line('WGET-EXIT')).toBe('0');
    expect(con.line('WGET-SHA')).toBe(sha(fileData));
  });

  it('resolves localhost through 10.0.2.3', () => {
    expect(con.line('NSLOOKUP-EXIT')).toBe('0');
    expect(con.text).toMatch(/NS: .*127\.0\.0\.1/);
  });

  it('hostfwd: 10 MiB each way between a host client and the guest nc (sha256 matches)', () => {
    expect(con.line('IN-SHA')).toBe(`${sha(toGuest)} ${toGuest.length}`);
    expect(sha(exchanged.got)).toBe(con.line('OUT-SHA'));
    console.log(`hostfwd 10 MiB each way (simultaneously): ${exchanged.ms.toFixed(0)} ms`);
  });

  it('the guest exited its script cleanly and the stack stayed healthy', () => {
    expect(con.line('AUTORUN-EXIT')).toBe('0');
    expect(stack.counters.get('internalError')).toBe(0);
    console.log('stack counters', stack.counters.snapshot());
  });
});
