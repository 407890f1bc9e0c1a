// Shared by the boot-*.test.ts files: run `viv run` as a person would (bin/viv.mjs, built by
// `npm run build`), and make initrds that carry an /etc/autorun.sh for the shared guest
// (../shared/guests/riscv64: its /init runs the script, prints AUTORUN-EXIT <status>, powers off).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const repo = path.resolve(import.meta.dirname, '../..');
export const guestDir = path.resolve(repo, '../shared/guests/riscv64');
export const kernel = path.join(guestDir, 'Image');
export const initramfs = path.join(guestDir, 'initramfs.cpio.gz');
export const openSbi = '/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin';
export const hasGuest = existsSync(kernel) && existsSync(initramfs);
export const hasCpio = spawnSync('cpio', ['--version']).status === 0;
const viv = path.join(repo, 'bin/viv.mjs');

export interface VivResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `viv run ARGS` with stdin closed; kills it after `timeoutMs`. */
export function vivRun(args: string[], timeoutMs = 480_000): Promise<VivResult> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [viv, 'run', ...args], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

/** The shared initramfs with a second gzip'd cpio appended that holds /etc/autorun.sh. */
export function initrdWithAutorun(script: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'viv-autorun-'));
  const root = path.join(dir, 'root');
  mkdirSync(path.join(root, 'etc'), { recursive: true });
  writeFileSync(path.join(root, 'etc/autorun.sh'), script);
  chmodSync(path.join(root, 'etc/autorun.sh'), 0o755);
  const r = spawnSync('sh', ['-c', 'find . | cpio -o -H newc --quiet | gzip -9'], { cwd: root, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`cpio failed: ${r.stderr.toString()}`);
  const out = path.join(dir, 'initrd.cpio.gz');
  writeFileSync(out, Buffer.concat([readFileSync(initramfs), r.stdout]));
  return out;
}

/** The autorun of the boot tests: arithmetic in the guest's shell and both harts in /proc/cpuinfo. */
export const PROBE_SCRIPT = `#!/bin/sh
echo "ANSWER $((6*7))"
echo "HARTS $(grep -c '^processor' /proc/cpuinfo)"
cat /proc/cpuinfo
`;
