// The Electron shell's lock-down, checked with a recording `electron` (the binary cannot be
// downloaded here): window preferences, CSP on every response, navigation and window-open rules.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

type Listener = (...args: unknown[]) => unknown;
interface FakeWindow {
  options: { webPreferences: Record<string, unknown> };
  handlers: Map<string, Listener>;
  openHandler?: (d: { url: string; frameName: string }) => { action: string; overrideBrowserWindowOptions?: unknown };
  loaded?: string;
}
const windows: FakeWindow[] = [];
const headerHooks: Listener[] = [];
const permissionHooks: Listener[] = [];

vi.mock('electron', () => {
  class BrowserWindow {
    static getAllWindows = () => [];
    webContents: Record<string, unknown>;
    constructor(options: FakeWindow['options']) {
      const w: FakeWindow = { options, handlers: new Map() };
      windows.push(w);
      this.webContents = {
        on: (name: string, fn: Listener) => w.handlers.set(name, fn),
        once: () => undefined,
        setWindowOpenHandler: (fn: FakeWindow['openHandler']) => (w.openHandler = fn),
        isDestroyed: () => false,
        send: () => undefined,
        id: windows.length,
      };
      (this as unknown as { loadFile: (f: string) => Promise<void> }).loadFile = async (f: string) => void (w.loaded = f);
    }
    once() {}
  }
  const noop = () => undefined;
  return {
    app: { requestSingleInstanceLock: () => true, whenReady: async () => undefined, getVersion: () => '0.0.0-test', on: noop, quit: noop, exit: noop },
    BrowserWindow,
    dialog: { showErrorBox: noop },
    session: {
      defaultSession: {
        webRequest: { onHeadersReceived: (fn: Listener) => headerHooks.push(fn) },
        setPermissionRequestHandler: (fn: Listener) => permissionHooks.push(fn),
      },
    },
    shell: { openExternal: async () => undefined },
    ipcMain: { handle: noop, on: noop },
    utilityProcess: { fork: noop },
  };
});

const data = mkdtempSync(path.join(os.tmpdir(), 'viv-electron-'));
process.env.XDG_DATA_HOME = data;
afterAll(() => rmSync(data, { recursive: true, force: true }));
await import('./main');
for (let i = 0; i < 100 && windows.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
const win = windows[0]!;
const ourUrl = `file://${win?.loaded}`;

describe('Electron shell', () => {
  it('opens one window on the built renderer with isolation, sandbox and no Node', () => {
    expect(windows).toHaveLength(1);
    // Paths are relative to the bundle's folder (out/main -> out/renderer, out/preload).
    expect(win.loaded).toMatch(/\/renderer\/index\.html$/);
    expect(win.options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webviewTag: false });
    expect(win.options.webPreferences.preload).toMatch(/\/preload\/index\.cjs$/);
  });

  it('puts a strict CSP on every response and grants only clipboard writes', () => {
    let headers: Record<string, string[]> = {};
    headerHooks[0]!({ responseHeaders: {} }, (r: { responseHeaders: Record<string, string[]> }) => (headers = r.responseHeaders));
    expect(headers['Content-Security-Policy']![0]).toMatch(/default-src 'none'; script-src 'self';/);
    const answers: boolean[] = [];
    permissionHooks[0]!({}, 'clipboard-sanitized-write', (ok: boolean) => answers.push(ok));
    permissionHooks[0]!({}, 'media', (ok: boolean) => answers.push(ok));
    expect(answers).toEqual([true, false]);
  });

  it('blocks navigation away from our page', () => {
    const nav = win.handlers.get('will-navigate')!;
    let prevented = 0;
    const e = { preventDefault: () => prevented++ };
    nav(e, `${ourUrl}#/settings`);
    expect(prevented).toBe(0);
    nav(e, 'https://evil.example/');
    nav(e, 'file:///etc/passwd');
    expect(prevented).toBe(2);
  });

  it('allows only our console windows, with the same locked-down preferences', () => {
    const open = win.openHandler!;
    const console = open({ url: `${ourUrl}#/vm/demo/console`, frameName: 'vivarium-console-demo' });
    expect(console.action).toBe('allow');
    expect(console.overrideBrowserWindowOptions).toMatchObject({ webPreferences: { sandbox: true, contextIsolation: true, nodeIntegration: false } });
    expect(open({ url: 'https://example.com/', frameName: '' }).action).toBe('deny');
    expect(open({ url: `${ourUrl}#/`, frameName: 'other' }).action).toBe('deny');
    expect(open({ url: 'file:///tmp/x.html', frameName: 'vivarium-console-demo' }).action).toBe('deny');
  });
});
