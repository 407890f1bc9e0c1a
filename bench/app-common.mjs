// Shared by the app benchmarks: `viv serve` in a fresh library, Chromium in a fresh profile.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const root = path.resolve(import.meta.dirname, '..');
export const guestDir = path.resolve(root, '..', 'shared', 'guests', 'riscv64');
export const fakeHost = path.join(root, 'tests', 'e2e', 'fake-core-host.mjs');
export const qemuHost = path.join(root, 'tests', 'e2e', 'qemu-core-host.mjs');

/** Starts viv serve; resolves when it printed its URL. */
export function serve({ fake = false, dataHome = mkdtempSync(path.join(os.tmpdir(), 'viv-bench-')), extra = [] } = {}) {
  const t0 = performance.now();
  const args = [path.join(root, 'bin', 'viv.mjs'), 'serve', ...(fake ? ['--core-host', fakeHost] : []), ...extra];
  const child = spawn(process.execPath, args, { env: { ...process.env, XDG_DATA_HOME: dataHome }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = /http:\/\/127\.0\.0\.1:\d+\/[\w-]+\//.exec(out);
      if (m) resolve({ url: m[0], child, dataHome, urlMs: performance.now() - t0, t0, stop: () => stop(child, dataHome) });
    });
    child.once('exit', (code) => reject(new Error(`viv serve exited ${code}: ${out}`)));
  });
}

async function stop(child, dataHome) {
  if (child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  rmSync(dataHome, { recursive: true, force: true });
}

export async function browser() {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'viv-bench-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return { page, close: async () => (await context.close(), rmSync(profile, { recursive: true, force: true })) };
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export function record(name, result) {
  const dir = path.join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${name}.json`), JSON.stringify({ date: new Date().toISOString(), ...result }, null, 2) + '\n');
  console.log(JSON.stringify(result, null, 2));
}
