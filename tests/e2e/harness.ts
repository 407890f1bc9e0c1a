// The e2e harness: `viv serve` in a fresh XDG_DATA_HOME, and Debian's Chromium driven by
// playwright-core in a fresh profile. The core host is `real` (`viv run`, our emulator), `qemu`
// (Debian's qemu-system-riscv64 with the same argv: the reference) or `fake` (a stand-in that
// speaks the same serial and QMP sockets and fakes a boot).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, type Page, chromium } from 'playwright-core';

export const root = path.resolve(import.meta.dirname, '../..');
export const fakeHost = path.join(root, 'tests/e2e/fake-core-host.mjs');
export const qemuHost = path.join(root, 'tests/e2e/qemu-core-host.mjs');
export const screenshotsDir = path.join(root, 'test-results', 'e2e');
export type HostKind = 'real' | 'qemu' | 'fake';
const hostArgs = (kind: HostKind) => ({ real: [], qemu: ['--core-host', qemuHost], fake: ['--core-host', fakeHost] })[kind];

export interface Served {
  url: string;
  port: number;
  token: string;
  dataHome: string;
  process: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

export async function serve(host: HostKind, options: { dataHome?: string; args?: string[] } = {}): Promise<Served> {
  const dataHome = options.dataHome ?? mkdtempSync(path.join(os.tmpdir(), 'viv-e2e-'));
  const args = [path.join(root, 'bin/viv.mjs'), 'serve', ...hostArgs(host), ...(options.args ?? [])];
  const child = spawn(process.execPath, args, { env: { ...process.env, XDG_DATA_HOME: dataHome }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`viv serve printed no URL:\n${out}`)), 20_000);
    const check = () => {
      const m = /http:\/\/127\.0\.0\.1:\d+\/[\w-]+\//.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => reject(new Error(`viv serve exited (${code}):\n${out}`)));
  });
  const u = new URL(url);
  return {
    url,
    port: Number(u.port),
    token: u.pathname.split('/')[1]!,
    dataHome,
    process: child,
    output: () => out,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    },
  };
}

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** Errors the page logged (CSP violations, uncaught exceptions). */
  errors: string[];
  close(): Promise<void>;
}

export async function openBrowser(): Promise<BrowserSession> {
  // A fresh --user-data-dir per run (playwright passes it from the first argument).
  const profile = mkdtempSync(path.join(os.tmpdir(), 'viv-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    viewport: { width: 1180, height: 800 },
    deviceScaleFactor: 1,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  return {
    context,
    page,
    errors,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function shot(page: Page, name: string): Promise<string> {
  mkdirSync(screenshotsDir, { recursive: true });
  const file = path.join(screenshotsDir, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** The console's visible text (xterm's DOM renderer keeps one div per row). */
export async function terminalText(page: Page): Promise<string> {
  return page.locator('.xterm-rows').innerText();
}

export async function waitForTerminal(page: Page, pattern: RegExp, timeoutMs: number): Promise<string> {
  const end = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < end) {
    text = await terminalText(page).catch(() => '');
    if (pattern.test(text)) return text;
    await page.waitForTimeout(250);
  }
  throw new Error(`console never showed ${pattern}; it shows:\n${text}`);
}
