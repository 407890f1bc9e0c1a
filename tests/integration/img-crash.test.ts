// Crash safety: a writer doing random I/O through our driver, and `viv img convert`, are killed
// with SIGKILL at random moments, many times. Every image must pass `qemu-img check` (leaks
// allowed, never corruption), and every sector must hold what the last completed flush left
// there or what an operation started after that flush wrote (flush means durable).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQcow2 } from '../../src/emulator-core/block';
import { pattern, prng, randInt } from '../../src/emulator-core/block/testing/model';
import { decodeSector } from './img-crash-pattern';
import { ensureBuilt, hasQemuTools, qemuImg, removeDir, root, scratch, vivBin } from './img-lib';

const qemu = hasQemuTools();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function killAfter(child: ChildProcess, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(); // already gone
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Resolves when `file` exists or the child has exited (polling: no portable file-creation event). */
async function untilExists(file: string, child: ChildProcess): Promise<void> {
  while (!existsSync(file) && child.exitCode === null && child.signalCode === null) await sleep(2);
}

/** qemu-img check must find no corruption: exit 0 (clean) or 3 (leaks only), and only leak lines. */
function expectConsistent(file: string, what: string): { leaks: number } {
  const r = qemuImg(['check', file]);
  const bad = r.stderr.split('\n').filter((l) => l && !/^Leaked cluster \d+ refcount=\d+ reference=\d+$/.test(l));
  expect(bad, `${what}: qemu-img check stderr`).toEqual([]);
  expect([0, 3], `${what}: qemu-img check exit ${r.status}\n${r.stdout}`).toContain(r.status);
  return { leaks: r.status === 3 ? Number(/(\d+) leaked clusters/.exec(r.stdout)?.[1] ?? 0) : 0 };
}

function sectorsOf(file: string, dir: string): Int32Array {
  const raw = path.join(dir, 'view.raw');
  const r = qemuImg(['convert', '-O', 'raw', file, raw]);
  expect(r.status, r.stderr).toBe(0);
  const data = readFileSync(raw);
  const out = new Int32Array(data.length / 512);
  for (let s = 0; s < out.length; s++) out[s] = decodeSector(data.subarray(s * 512, s * 512 + 512), s);
  return out;
}

describe.skipIf(!qemu)('crash safety (kill -9)', () => {
  let dir: string;
  let writer: string;
  beforeAll(async () => {
    ensureBuilt();
    dir = scratch('crash');
    writer = path.join(dir, 'writer.mjs');
    await build({
      entryPoints: [path.join(root, 'tests/integration/img-crash-writer.ts')],
      bundle: true, platform: 'node', format: 'esm', outfile: writer, logLevel: 'warning',
      absWorkingDir: root,
    });
  });
  afterAll(() => removeDir(dir));

  for (const clusterSize of [4096, 65536]) {
    it(`random writer (cluster ${clusterSize}) killed 20 times: consistent, flushed data kept`, async () => {
      const img = path.join(dir, `w${clusterSize}.qcow2`);
      await createQcow2(img, { size: 24 << 20, clusterSize });
      let durable = sectorsOf(img, dir);
      const rnd = prng(clusterSize);
      let leaks = 0;
      let worked = 0;
      for (let iter = 1; iter <= 20; iter++) {
        const log = path.join(dir, 'ops.log');
        writeFileSync(log, '');
        const child = spawn(process.execPath, [writer, img, log, String(iter + (clusterSize === 4096 ? 0 : 1000))], { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr!.on('data', (d) => (stderr += d));
        await killAfter(child, randInt(rnd, 300, 1500));
        expect(stderr, 'the writer failed by itself').toBe('');
        leaks += expectConsistent(img, `iteration ${iter}`).leaks;
        // Replay the log: per sector, what the last flush made durable, and what came after.
        const after = new Map<number, Set<number>>();
        const durableNow = Int32Array.from(durable);
        const pending = new Map<number, number>();
        let ops = 0;
        for (const line of readFileSync(log, 'utf8').split('\n')) {
          const parts = line.split(' ');
          if (parts[0] === 'B' && parts.length === 5) {
            ops++;
            const [, k, type, s, n] = parts;
            if (type === 'S' || type === 'X') continue;
            const value = type === 'W' || type === 'C' ? Number(k) : 0;
            for (let i = Number(s); i < Number(s) + Number(n); i++) {
              pending.set(i, value);
              if (!after.has(i)) after.set(i, new Set());
              after.get(i)!.add(value);
            }
          } else if (parts[0] === 'F') {
            for (const [sec, v] of pending) durableNow[sec] = v;
            pending.clear();
            after.clear();
          }
        }
        if (ops > 0) worked++;
        const now = sectorsOf(img, dir);
        for (let s = 0; s < now.length; s++) {
          const ok = now[s] === durableNow[s] || after.get(s)?.has(now[s]!);
          if (!ok) {
            throw new Error(`iteration ${iter}: sector ${s} holds ${now[s]}, expected ${durableNow[s]} or one of ${[...(after.get(s) ?? [])]}`);
          }
        }
        durable = now;
      }
      expect(worked, 'kills landed while the writer was working').toBeGreaterThanOrEqual(15);
      // Leaks are allowed after a crash; a repair removes them and leaves a clean image.
      if (leaks) expect(qemuImg(['check', '-r', 'leaks', img]).status).toBe(0);
      expect(qemuImg(['check', img]).status).toBe(0);
    }, 300_000);
  }

  it('viv img convert killed at random moments: the target passes qemu-img check', async () => {
    const src = path.join(dir, 'src.raw');
    const size = 96 << 20;
    const buf = Buffer.alloc(size);
    const rnd = prng(77);
    for (let off = 0; off < size; off += 1 << 20) {
      const r = rnd();
      if (r < 0.4) pattern(buf.subarray(off, off + (1 << 20)), off);
      else if (r < 0.7) buf.fill(`block ${off}`, off, off + (1 << 20));
    }
    writeFileSync(src, buf);
    const variants = [['-O', 'qcow2'], ['-O', 'qcow2', '-c'], ['-O', 'qcow2', '-o', 'cluster_size=4k'], ['-O', 'qcow2', '-o', 'cluster_size=2M']];
    // How long does a whole convert take (so kills land during the copy)?
    const durations = variants.map((v) => {
      const t0 = Date.now();
      const dst = path.join(dir, 'timing.qcow2');
      const r = spawnSyncViv(['convert', '-f', 'raw', ...v, src, dst]);
      expect(r, 'a full convert works').toBe(0);
      rmSync(dst);
      return Date.now() - t0;
    });
    let midCopy = 0;
    for (let iter = 0; iter < 24; iter++) {
      const vi = iter % variants.length;
      const dst = path.join(dir, `conv-${iter}.qcow2`);
      const child = spawn(process.execPath, [vivBin, 'img', 'convert', '-f', 'raw', ...variants[vi]!, src, dst], { stdio: 'ignore' });
      // The kill clock starts when the target exists: node's start-up alone can take longer
      // than a whole copy on a loaded machine.
      await untilExists(dst, child);
      await killAfter(child, randInt(rnd, 0, Math.max(50, durations[vi]! - 150)));
      await sleep(10);
      if (!existsSync(dst) || statSync(dst).size < 512 || readFileSync(dst).subarray(0, 4).toString('latin1') !== 'QFI\xfb') continue;
      midCopy++;
      expectConsistent(dst, `convert ${variants[vi]!.join(' ')} killed`);
      rmSync(dst);
    }
    expect(midCopy, 'most kills hit a convert in progress').toBeGreaterThanOrEqual(12);
  }, 300_000);
});

function spawnSyncViv(args: string[]): number {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  return spawnSync(process.execPath, [vivBin, 'img', ...args], { stdio: 'ignore' }).status ?? -1;
}
