#!/usr/bin/env node
// virtio-blk: the shared guest writes then reads 256 MiB sequentially on /dev/vda (a fresh
// QCOW2 image), with O_DIRECT and through its page cache, under viv and under qemu-system-riscv64 with the same -m/-smp/kernel/initrd, in
// one run. The guest prints MARK lines; the host timestamps them as they arrive on the console.
// Prints each side's MB/s and the ratios viv/QEMU (the target is >= 0.7).
// Options: --mib N (default 256)  --smp N (default 2)  --mem SIZE (default 512M)
//          --viv PATH (the viv entry script, default bin/viv.mjs: another build can be compared)
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const repo = path.resolve(import.meta.dirname, '..');
const guest = path.resolve(repo, '../shared/guests/riscv64');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const mib = Number(arg('mib', '256'));
const smp = arg('smp', '2');
const mem = arg('mem', '512M');
const dir = mkdtempSync(path.join(tmpdir(), 'viv-bench-blk-'));

// O_DIRECT: the guest's page cache (whose copies only measure the CPU emulation) is out of the
// way, and each 1 MiB dd block is one virtio-blk request. Then the buffered path a guest normally
// takes (page cache, writeback, read-ahead), for reference.
const script = `#!/bin/sh
echo "MARK write-start"
dd if=/dev/zero of=/dev/vda bs=1M count=${mib} oflag=direct 2>/dev/null
echo "MARK write-end $?"
echo "MARK read-start"
dd if=/dev/vda of=/dev/null bs=1M count=${mib} iflag=direct 2>/dev/null
echo "MARK read-end $?"
echo "MARK bwrite-start"
dd if=/dev/zero of=/dev/vda bs=1M count=${mib} seek=${mib} conv=fsync 2>/dev/null
echo "MARK bwrite-end $?"
echo 3 > /proc/sys/vm/drop_caches
echo "MARK bread-start"
dd if=/dev/vda of=/dev/null bs=1M count=${mib} skip=${mib} 2>/dev/null
echo "MARK bread-end $?"
`;
mkdirSync(path.join(dir, 'root/etc'), { recursive: true });
writeFileSync(path.join(dir, 'root/etc/autorun.sh'), script);
chmodSync(path.join(dir, 'root/etc/autorun.sh'), 0o755);
const cpio = spawnSync('sh', ['-c', 'find . | cpio -o -H newc --quiet | gzip -9'], { cwd: path.join(dir, 'root'), maxBuffer: 1 << 26 });
const initrd = path.join(dir, 'initrd.gz');
writeFileSync(initrd, Buffer.concat([readFileSync(path.join(guest, 'initramfs.cpio.gz')), cpio.stdout]));

/** Boots with `cmd`, returns the host times (ms) of each MARK line by name. */
function boot(cmd) {
  return new Promise((resolve, reject) => {
    const marks = {};
    const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = /MARK (\S+)(?: (\d+))?/.exec(line);
        if (m) marks[m[1]] = { t: performance.now(), status: m[2] };
      }
    });
    child.on('error', reject);
    child.on('close', () => resolve(marks));
  });
}

const common = ['-M', 'virt', '-m', mem, '-smp', smp, '-nographic', '-kernel', path.join(guest, 'Image'), '-initrd', initrd, '-append', 'console=ttyS0 quiet'];
const results = {};
for (const [name, cmd] of [
  ['viv', [process.execPath, path.resolve(arg('viv', path.join(repo, 'bin/viv.mjs'))), 'run']],
  ['qemu', ['qemu-system-riscv64']],
]) {
  const img = path.join(dir, `${name}.qcow2`);
  spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', img, `${mib * 3}M`]);
  console.error(`bench: ${name} ...`);
  const m = await boot([...cmd, ...common, '-drive', `file=${img},format=qcow2,if=virtio`]);
  const mb = mib * 1.048576;
  const rate = (what) => {
    const a = m[`${what}-start`];
    const b = m[`${what}-end`];
    if (!a || !b || b.status !== '0') throw new Error(`${name}: the guest did not finish ${what}: ${JSON.stringify(m)}`);
    return mb / ((b.t - a.t) / 1000);
  };
  results[name] = { writeMBps: rate('write'), readMBps: rate('read'), bufferedWriteMBps: rate('bwrite'), bufferedReadMBps: rate('bread') };
}
rmSync(dir, { recursive: true, force: true });
for (const k of ['writeMBps', 'readMBps', 'bufferedWriteMBps', 'bufferedReadMBps']) {
  console.log(`${k.padEnd(18)} viv ${results.viv[k].toFixed(1).padStart(7)} MB/s   qemu ${results.qemu[k].toFixed(1).padStart(7)} MB/s   ratio ${(results.viv[k] / results.qemu[k]).toFixed(2)}`);
}
console.log(JSON.stringify({ mib, smp, mem, results }));
