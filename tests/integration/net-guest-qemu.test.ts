// The shared Linux guest on OUR user-mode network, with qemu-system-riscv64 as the CPU: QEMU's
// virtio-net is linked by `-netdev socket,connect=` (QEMU's framing) to our SocketNetdev, which
// is wired to our UserNetwork. So the stack meets a real Linux TCP/IP (udhcpc, ping, wget,
// nslookup, nc) before our own CPU boots the guest; net-guest-viv.test.ts runs the same script
// under viv once it does.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseUserNetOptions, splitQemuOptions } from '../../src/emulator-core/net/options';
import { SocketNetdev } from '../../src/emulator-core/net/socket-netdev';
import { UserNetwork } from '../../src/emulator-core/net/user-net';

const guestDir = path.resolve(import.meta.dirname, '../../../shared/guests/riscv64');
const kernel = path.join(guestDir, 'Image');
const initramfs = path.join(guestDir, 'initramfs.cpio.gz');
const qemu = spawnSync('qemu-system-riscv64', ['--version']).status === 0;
const runnable = qemu && existsSync(kernel) && spawnSync('cpio', ['--version']).status === 0;
const MiB = 1024 * 1024;
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Configures eth0 from udhcpc's environment (busybox passes ip, mask, router, dns). */
const UDHCPC_SCRIPT = `#!/bin/sh
case "$1" in
  bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/\${mask:-24}" dev "$interface"
    [ -n "$router" ] && ip route add default via "\${router%% *}" dev "$interface"
    : > /etc/resolv.conf
    for d in $dns; do echo "nameserver $d" >> /etc/resolv.conf; done
    ;;
esac
exit 0
`;

/** What the guest does; each result is a line the host checks. */
export function guestScript(httpPort: number, fwdMiB: number): string {
  return `#!/bin/sh
ip link set eth0 up
udhcpc -i eth0 -s /etc/udhcpc.script -q -n -t 10 -T 2 >/dev/null 2>&1 || { echo "DHCP-FAILED"; exit 10; }
echo "GUEST-IP $(ip -4 -o addr show eth0 | awk '{print $4}')"
echo "GUEST-GW $(ip route | awk '/^default/ {print $3}')"
echo "GUEST-DNS $(awk '/nameserver/ {print $2}' /etc/resolv.conf)"
ping -c 3 -W 5 10.0.2.2 > /tmp/ping.txt 2>&1; echo "PING-EXIT $?"
grep -o '[0-9]* packets received' /tmp/ping.txt | sed 's/^/PING-/'
wget -q -O /tmp/file http://10.0.2.2:${httpPort}/file; echo "WGET-EXIT $?"
echo "WGET-SHA $(sha256sum /tmp/file | cut -d' ' -f1)"
nslookup localhost 10.0.2.3 > /tmp/ns.txt 2>&1; echo "NSLOOKUP-EXIT $?"
sed 's/^/NS: /' /tmp/ns.txt
dd if=/dev/urandom of=/tmp/out bs=1M count=${fwdMiB} 2>/dev/null
echo "OUT-SHA $(sha256sum /tmp/out | cut -d' ' -f1)"
nc -l -p 7000 < /tmp/out > /tmp/in &
sleep 1
echo "NC-READY"
wait
echo "IN-SHA $(sha256sum /tmp/in | cut -d' ' -f1) $(wc -c < /tmp/in)"
`;
}

/** The shared initramfs plus a second archive with the autorun and udhcpc scripts. */
export function initrdWith(files: Record<string, string>): { path: string; dir: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'viv-net-'));
  const root = path.join(dir, 'root');
  for (const [name, text] of Object.entries(files)) {
    const p = path.join(root, name);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, text);
    chmodSync(p, 0o755);
  }
  const r = spawnSync('sh', ['-c', 'find . | cpio -o -H newc --quiet | gzip -1'], { cwd: root, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`cpio failed: ${r.stderr.toString()}`);
  const out = path.join(dir, 'initrd.cpio.gz');
  writeFileSync(out, Buffer.concat([readFileSync(initramfs), r.stdout]));
  return { path: out, dir };
}

/** Watches a console stream for lines. */
export class Console {
  text = '';
  private waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  feed(s: string): void {
    this.text += s;
    for (const w of [...this.waiters]) {
      const m = this.text.match(w.re);
      if (m) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  }
  wait(re: RegExp, ms: number): Promise<RegExpMatchArray> {
    const m = this.text.match(re);
    if (m) return Promise.resolve(m);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`console: no ${re} within ${ms} ms; got:\n${this.text.slice(-3000)}`)), ms);
      this.waiters.push({ re, resolve: (x) => (clearTimeout(t), resolve(x)) });
    });
  }
  line(tag: string): string | undefined {
    return this.text.match(new RegExp(`^${tag} (.*)$`, 'm'))?.[1]?.trim();
  }
}

/** Connects to a hostfwd port until the guest's listener answers; sends `data`, returns what came back. */
export async function exchange(port: number, data: Uint8Array): Promise<{ got: Buffer; ms: number }> {
  for (let attempt = 0; ; attempt++) {
    const t0 = performance.now();
    const r = await new Promise<{ got: Buffer; ok: boolean }>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      const chunks: Buffer[] = [];
      s.on('data', (d) => chunks.push(d));
      s.on('error', () => resolve({ got: Buffer.concat(chunks), ok: false }));
      s.on('end', () => {
        resolve({ got: Buffer.concat(chunks), ok: true });
        s.destroy();
      });
      s.end(data);
    });
    if (r.ok || r.got.length > 0 || attempt >= 20) return { got: r.got, ms: performance.now() - t0 };
    await new Promise((res) => setTimeout(res, 500)); // the guest's nc was not listening yet
  }
}

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
