// The shared Linux guest under viv with `-netdev user` + virtio-net-device: the guest side of
// issue 6 (DHCP, ping, wget through 10.0.2.2, DNS through 10.0.2.3, hostfwd 10 MiB each way), and
// two viv VMs linked by `-netdev socket,listen=/connect=` with static addresses.
// VIV_BIN overrides the viv entry (default bin/viv.mjs, built by `npm run build`).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Console, exchange, guestScript, hasGuest, initrdWith, kernel, MiB, repo, sha, UDHCPC_SCRIPT } from './net-guest';

const viv = process.env.VIV_BIN ?? path.join(repo, 'bin/viv.mjs');

function startViv(args: string[], con: Console): ChildProcess {
  const child = spawn(process.execPath, [viv, 'run', '-M', 'virt', '-m', '512M', '-smp', '2', '-nographic', '-kernel', kernel, ...args], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => con.feed(d.toString()));
  child.stderr!.on('data', (d: Buffer) => con.feed(d.toString()));
  return child;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

describe.skipIf(!hasGuest)('the shared guest under viv on -netdev user', () => {
  const fileData = randomBytes(4 * MiB);
  const toGuest = randomBytes(10 * MiB);
  let httpServer: http.Server;
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
    const fwdPort = await freePort();
    initrd = initrdWith({ 'etc/autorun.sh': guestScript(httpPort, 10), 'etc/udhcpc.script': UDHCPC_SCRIPT });
    vm = startViv(
      ['-initrd', initrd.path, '-append', 'console=ttyS0 quiet', '-netdev', `user,id=n0,hostfwd=tcp:127.0.0.1:${fwdPort}-:7000`, '-device', 'virtio-net-device,netdev=n0'],
      con,
    );
    await con.wait(/NC-READY/, 900_000);
    exchanged = await exchange(fwdPort, toGuest);
    await con.wait(/AUTORUN-EXIT \d+/, 600_000);
  }, 1_800_000);

  afterAll(() => {
    vm?.kill('SIGKILL');
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
    console.log(`viv hostfwd 10 MiB each way (simultaneously): ${exchanged.ms.toFixed(0)} ms`);
  });

  it('the guest finished its script', () => {
    expect(con.line('AUTORUN-EXIT')).toBe('0');
  });
});

/**
 * Two VMs on a socket link: static addresses, ping, and a file from B to A. A answers with the
 * hash it computed over a second connection, so B does not power off (dropping what its kernel
 * still had to send) before A has everything. Busybox's nc exits as soon as the network side
 * reaches EOF, so each listener keeps its stdin open (a FIFO held by the shell) instead of
 * half-closing at once, which would make the sender stop early.
 */
const HOLD_OPEN = `listen() { # port file
  rm -f /tmp/hold.$1; mkfifo /tmp/hold.$1
  nc -l -p $1 < /tmp/hold.$1 > $2 &
  eval "exec 3> /tmp/hold.$1"
}
`;
const LINK_A = `#!/bin/sh
${HOLD_OPEN}
ip addr add 192.168.76.1/24 dev eth0 && ip link set eth0 up
listen 5000 /tmp/got
wait $!
exec 3>&-
echo "A-GOT $(sha256sum /tmp/got | cut -d' ' -f1) $(wc -c < /tmp/got)"
sha256sum /tmp/got | cut -d' ' -f1 | nc 192.168.76.2 5001
`;
const LINK_B = `#!/bin/sh
${HOLD_OPEN}
ip addr add 192.168.76.2/24 dev eth0 && ip link set eth0 up
listen 5001 /tmp/ack
ACK=$!
i=0; until ping -c 1 -W 2 192.168.76.1 >/dev/null 2>&1; do i=$((i+1)); [ $i -gt 120 ] && exit 11; done
ping -c 3 192.168.76.1 > /tmp/ping.txt; echo "B-PING-EXIT $?"
dd if=/dev/urandom of=/tmp/f bs=1M count=4 2>/dev/null
echo "B-SENT $(sha256sum /tmp/f | cut -d' ' -f1) $(wc -c < /tmp/f)"
sleep 2
nc 192.168.76.1 5000 < /tmp/f
echo "B-NC-EXIT $?"
wait $ACK
exec 3>&-
echo "B-ACK $(cat /tmp/ack)"
`;

describe.skipIf(!hasGuest)('two viv VMs linked by -netdev socket', () => {
  const conA = new Console();
  const conB = new Console();
  let a: ChildProcess | undefined;
  let b: ChildProcess | undefined;
  const initrds: { path: string; dir: string }[] = [];

  beforeAll(async () => {
    const port = await freePort();
    const ia = initrdWith({ 'etc/autorun.sh': LINK_A });
    const ib = initrdWith({ 'etc/autorun.sh': LINK_B });
    initrds.push(ia, ib);
    a = startViv(['-initrd', ia.path, '-append', 'console=ttyS0 quiet', '-netdev', `socket,id=s0,listen=127.0.0.1:${port}`, '-device', 'virtio-net-device,netdev=s0'], conA);
    // B connects once A listens (QEMU's socket connect= fails at start if nobody listens).
    await new Promise((r) => setTimeout(r, 3000));
    b = startViv(
      ['-initrd', ib.path, '-append', 'console=ttyS0 quiet', '-netdev', `socket,id=s0,connect=127.0.0.1:${port}`, '-device', 'virtio-net-device,netdev=s0,mac=52:54:00:12:34:57'],
      conB,
    );
    await Promise.all([conA.wait(/AUTORUN-EXIT \d+/, 1_500_000), conB.wait(/AUTORUN-EXIT \d+/, 1_500_000)]);
  }, 1_800_000);

  afterAll(() => {
    a?.kill('SIGKILL');
    b?.kill('SIGKILL');
    for (const i of initrds) rmSync(i.dir, { recursive: true, force: true });
  });

  it('ping each other and move a file from B to A (sha256 matches)', () => {
    expect(conB.line('B-PING-EXIT')).toBe('0');
    expect(conB.line('B-NC-EXIT')).toBe('0');
    const sent = conB.line('B-SENT');
    expect(sent).toMatch(/^[0-9a-f]{64} 4194304$/);
    expect(conA.line('A-GOT')).toBe(sent);
    expect(conB.line('B-ACK')).toBe(sent!.split(' ')[0]);
    expect(conA.line('AUTORUN-EXIT')).toBe('0');
    expect(conB.line('AUTORUN-EXIT')).toBe('0');
  });
});
