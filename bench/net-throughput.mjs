#!/usr/bin/env node
// User-mode networking, side by side in one run: TCP throughput host->guest and guest->host over
// hostfwd, and the rate of host->guest connection setups (HTTP GETs to the guest's busybox httpd),
// with the shared guest under
//   viv        viv run -netdev user,hostfwd=... -device virtio-net-device (our CPU, our stack)
//   qemu       qemu-system-riscv64 -netdev user (QEMU's CPU, QEMU's slirp)
//   qemu+ours  qemu-system-riscv64 -netdev socket linked to our UserNetwork (QEMU's CPU, our stack:
//              isolates the stack from the CPU)
// A configuration that cannot run (viv before it boots the guest with a NIC) is reported, not hidden.
//   node bench/net-throughput.mjs [--mib 16] [--conns 100] [--only viv,qemu,qemu+ours]
// VIV_BIN overrides the viv entry (default bin/viv.mjs, built by `npm run build`).
// Results: printed, and written to bench/results/net-throughput-<date>.json (gitignored).
import { build } from 'esbuild';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const root = path.resolve(import.meta.dirname, '..');
const guest = path.resolve(root, '../shared/guests/riscv64');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const MIB = Number(arg('mib', '16'));
const CONNS = Number(arg('conns', '100'));
const only = new Set(arg('only', 'viv,qemu,qemu+ours').split(','));
const GUEST_PORTS = { rx: 7000, tx: 7001, done: 7002, http: 8080 };

const UDHCPC = `#!/bin/sh
case "$1" in bound|renew)
  ip addr flush dev "$interface"; ip addr add "$ip/\${mask:-24}" dev "$interface"
  [ -n "$router" ] && ip route add default via "\${router%% *}" dev "$interface";;
esac
exit 0
`;

// The guest's side. Markers go to the console; the host times between its own actions and them.
const AUTORUN = `#!/bin/sh
ip link set eth0 up
udhcpc -i eth0 -s /etc/udhcpc.script -q -n -t 10 -T 2 >/dev/null 2>&1 || exit 10
mkdir -p /www && echo hello > /www/index.html && httpd -p ${GUEST_PORTS.http} -h /www
(sleep 1; echo "RX-LISTEN") &
nc -l -p ${GUEST_PORTS.rx} < /dev/null | wc -c | sed 's/^/RX-DONE /'
(sleep 1; echo "TX-LISTEN") &
dd if=/dev/zero bs=64k count=$((${MIB} * 16)) 2>/dev/null | nc -l -p ${GUEST_PORTS.tx} > /dev/null
(sleep 1; echo "CONN-LISTEN") &
nc -l -p ${GUEST_PORTS.done} < /dev/null > /dev/null
echo "BENCH-END"
`;

function initrd() {
  const dir = mkdtempSync(path.join(tmpdir(), 'viv-net-bench-'));
  for (const [name, text] of [['etc/autorun.sh', AUTORUN], ['etc/udhcpc.script', UDHCPC]]) {
    mkdirSync(path.dirname(path.join(dir, 'root', name)), { recursive: true });
    writeFileSync(path.join(dir, 'root', name), text);
    chmodSync(path.join(dir, 'root', name), 0o755);
  }
  const r = spawnSync('sh', ['-c', 'find . | cpio -o -H newc --quiet | gzip -1'], { cwd: path.join(dir, 'root'), maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`cpio failed: ${r.stderr}`);
  const out = path.join(dir, 'initrd.cpio.gz');
  writeFileSync(out, Buffer.concat([readFileSync(path.join(guest, 'initramfs.cpio.gz')), r.stdout]));
  return { dir, path: out };
}

async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const p = s.address().port;
  await new Promise((r) => s.close(r));
  return p;
}

/** Our UserNetwork and SocketNetdev, bundled from the TypeScript sources. */
async function ourStack() {
  const tmp = mkdtempSync(path.join(tmpdir(), 'viv-net-bundle-'));
  const out = path.join(tmp, 'net.mjs');
  await build({
    absWorkingDir: root,
    stdin: { contents: "export * from './src/emulator-core/net/index';", resolveDir: root, loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: out,
    logLevel: 'warning',
  });
  const mod = await import(pathToFileURL(out).href);
  rmSync(tmp, { recursive: true, force: true });
  return mod;
}

class Console {
  text = '';
  waiters = [];
  feed(s) {
    this.text += s;
    for (const w of [...this.waiters]) if (w.re.test(this.text)) {
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve(performance.now());
    }
  }
  wait(re, ms) {
    if (re.test(this.text)) return Promise.resolve(performance.now());
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no ${re} within ${ms} ms:\n${this.text.slice(-2000)}`)), ms);
      this.waiters.push({ re, resolve: (v) => (clearTimeout(t), resolve(v)) });
    });
  }
}

/** Connects until the guest accepts: a forwarded connection to a closed guest port is closed at once. */
async function connectAccepted(port, onSocket) {
  for (let i = 0; i < 40; i++) {
    const ok = await onSocket(port);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`guest never accepted on forwarded port ${port}`);
}

async function measure(name, con, ports) {
  const bytes = MIB * 1024 * 1024;
  const chunk = Buffer.alloc(256 * 1024, 0x5a);
  await con.wait(/RX-LISTEN/, 300_000);
  // host -> guest: from connect to the guest's byte count on the console.
  let t0 = 0;
  await connectAccepted(ports.rx, (port) => new Promise((resolve) => {
    // Half-open: the guest's nc (stdin /dev/null) sends its FIN at once; we go on writing.
    const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let sent = 0;
    let failed = false;
    s.on('error', () => { failed = true; resolve(false); });
    s.on('close', () => { if (!failed) resolve(true); });
    s.on('connect', () => {
      t0 = performance.now();
      const pump = () => {
        while (sent < bytes) {
          sent += chunk.length;
          if (!s.write(chunk)) return void s.once('drain', pump);
        }
        s.end();
      };
      pump();
    });
  }));
  const t1 = await con.wait(/RX-DONE \d+\s*\n/, 600_000);
  const rxCount = Number(con.text.match(/RX-DONE (\d+)/)[1]);
  if (rxCount !== bytes) throw new Error(`${name}: guest received ${rxCount} of ${bytes} bytes`);
  const hostToGuest = MIB / ((t1 - t0) / 1000);

  // guest -> host: from connect to EOF with every byte received.
  await con.wait(/TX-LISTEN/, 120_000);
  let guestToHost = 0;
  await connectAccepted(ports.tx, (port) => new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = 0;
    let start = 0;
    s.on('connect', () => (start = performance.now()));
    s.on('data', (d) => (got += d.length));
    s.on('error', () => resolve(false));
    s.on('end', () => {
      s.end();
      if (got === 0) return resolve(false);
      if (got !== bytes) throw new Error(`${name}: host received ${got} of ${bytes} bytes`);
      guestToHost = MIB / ((performance.now() - start) / 1000);
      resolve(true);
    });
  }));

  // Connection setup: sequential HTTP/1.0 GETs to the guest's httpd through hostfwd.
  await con.wait(/CONN-LISTEN/, 120_000);
  const c0 = performance.now();
  for (let i = 0; i < CONNS; i++) {
    await new Promise((resolve, reject) => {
      const s = net.connect(ports.http, '127.0.0.1');
      let body = '';
      s.on('data', (d) => (body += d));
      s.on('error', reject);
      s.on('end', () => (body.includes('hello') ? resolve() : reject(new Error(`${name}: bad HTTP answer: ${body.slice(0, 80)}`))));
      s.end('GET /index.html HTTP/1.0\r\n\r\n');
    });
  }
  const connsPerSec = CONNS / ((performance.now() - c0) / 1000);
  await connectAccepted(ports.done, (port) => new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => resolve(false));
    s.on('connect', () => { s.end(); resolve(true); });
  }));
  await con.wait(/BENCH-END/, 60_000);
  return { hostToGuestMiBps: hostToGuest, guestToHostMiBps: guestToHost, connectionsPerSec: connsPerSec };
}

async function runVm(name, cmd, args, ports, extra = {}) {
  console.error(`bench: ${name} ...`);
  const con = new Console();
  const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => con.feed(d.toString()));
  child.stderr.on('data', (d) => con.feed(d.toString()));
  const exited = new Promise((r) => child.on('close', (code) => r(code)));
  try {
    const result = await Promise.race([
      measure(name, con, ports),
      exited.then((code) => {
        throw new Error(`exited with ${code} before the benchmark ended: ${con.text.trim().split('\n').slice(-3).join(' | ')}`);
      }),
    ]);
    return { ...result, ...extra };
  } catch (e) {
    return { skipped: String(e.message ?? e).slice(0, 400) };
  } finally {
    child.kill('SIGKILL');
  }
}

const img = initrd();
const kernel = path.join(guest, 'Image');
const common = ['-M', 'virt', '-m', '512M', '-smp', '2', '-nographic', '-kernel', kernel, '-initrd', img.path, '-append', 'console=ttyS0 quiet'];
async function forwards() {
  const ports = {};
  for (const k of Object.keys(GUEST_PORTS)) ports[k] = await freePort();
  const rules = Object.entries(GUEST_PORTS).map(([k, g]) => `hostfwd=tcp:127.0.0.1:${ports[k]}-:${g}`).join(',');
  return { ports, rules };
}

const results = {};
const hasQemu = spawnSync('qemu-system-riscv64', ['--version']).status === 0;
if (only.has('viv')) {
  const { ports, rules } = await forwards();
  results.viv = await runVm('viv', process.execPath, [process.env.VIV_BIN ?? path.join(root, 'bin/viv.mjs'), 'run', ...common,
    '-netdev', `user,id=n0,${rules}`, '-device', 'virtio-net-device,netdev=n0'], ports);
}
if (only.has('qemu') && hasQemu) {
  const { ports, rules } = await forwards();
  results.qemu = await runVm('qemu', 'qemu-system-riscv64', [...common, '-global', 'virtio-mmio.force-legacy=false',
    '-netdev', `user,id=n0,${rules}`, '-device', 'virtio-net-device,netdev=n0'], ports);
}
if (only.has('qemu+ours') && hasQemu) {
  const { UserNetwork, SocketNetdev, parseUserNetOptions, splitQemuOptions } = await ourStack();
  const { ports, rules } = await forwards();
  const stack = new UserNetwork({ config: parseUserNetOptions(splitQemuOptions(rules)) });
  await stack.start();
  const link = new SocketNetdev({ kind: 'listen', host: '127.0.0.1', port: 0 });
  await link.start();
  link.attach((f) => (stack.send(f), true));
  stack.attach((f) => (link.send(f), true));
  results['qemu+ours'] = await runVm('qemu+ours', 'qemu-system-riscv64', [...common, '-global', 'virtio-mmio.force-legacy=false',
    '-netdev', `socket,id=n0,connect=127.0.0.1:${link.listenPort}`, '-device', 'virtio-net-device,netdev=n0'], ports);
  results['qemu+ours'].counters = stack.counters.snapshot();
  await stack.close();
  await link.close();
}
rmSync(img.dir, { recursive: true, force: true });

const fmt = (v) => (typeof v === 'number' ? v.toFixed(2).padStart(12) : '          NA');
console.log(`${'config'.padEnd(11)}${'h->g MiB/s'.padStart(12)}${'g->h MiB/s'.padStart(12)}${'conn/s'.padStart(12)}`);
for (const [name, r] of Object.entries(results)) {
  if (r.skipped) console.log(`${name.padEnd(11)} skipped: ${r.skipped}`);
  else console.log(`${name.padEnd(11)}${fmt(r.hostToGuestMiBps)}${fmt(r.guestToHostMiBps)}${fmt(r.connectionsPerSec)}`);
}
const ratio = (a, b, k) => (results[a]?.[k] && results[b]?.[k] ? results[a][k] / results[b][k] : undefined);
for (const [a, b] of [['viv', 'qemu'], ['qemu+ours', 'qemu']]) {
  const rs = ['hostToGuestMiBps', 'guestToHostMiBps', 'connectionsPerSec'].map((k) => ratio(a, b, k));
  if (rs.some((x) => x !== undefined)) console.log(`${`${a}/${b}`.padEnd(11)}${rs.map((x) => (x === undefined ? '          NA' : `${x.toFixed(2)}x`.padStart(12))).join('')}`);
}
mkdirSync(path.join(root, 'bench/results'), { recursive: true });
const file = path.join(root, `bench/results/net-throughput-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.json`);
writeFileSync(file, JSON.stringify({ mib: MIB, conns: CONNS, results }, null, 2));
console.error(`bench: wrote ${path.relative(root, file)}`);
