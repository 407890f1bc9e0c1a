// Shared by the net-guest-*.test.ts files: the shared Linux guest's script for the network tests
// (udhcpc, ping, wget, nslookup, nc behind hostfwd), an initrd that carries it, a console watcher,
// and the host side of the hostfwd exchange.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const repo = path.resolve(import.meta.dirname, '../..');
export const guestDir = path.resolve(repo, '../shared/guests/riscv64');
export const kernel = path.join(guestDir, 'Image');
export const initramfs = path.join(guestDir, 'initramfs.cpio.gz');
export const hasGuest = existsSync(kernel) && existsSync(initramfs) && spawnSync('cpio', ['--version']).status === 0;
export const hasQemu = spawnSync('qemu-system-riscv64', ['--version']).status === 0;
export const MiB = 1024 * 1024;
export const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Configures eth0 from udhcpc's environment (busybox passes ip, mask, router, dns). */
export const UDHCPC_SCRIPT = `#!/bin/sh
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

/** The network test in the guest; each result is a console line the host checks. */
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

/** The shared initramfs plus a second archive with the given files (all executable). */
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
      const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
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
