// The Electron shell: one window on the renderer, locked down (contextIsolation, sandbox, no
// Node, a strict CSP, no navigation, no new windows), over the same services as web mode.
// The Electron binary cannot be downloaded on offline machines: this file is type-checked and
// built, and everything behind it is tested through web mode (docs/app-packaging.md).
import { app, BrowserWindow, dialog, session, shell } from 'electron';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { AppServices } from '../services/app-services';
import { ensureDemoVm } from '../services/demo-vm';
import { UserError } from '../services/errors';
import { dataRoot } from '../services/paths';
import { type IpcHub, installIpc } from './ipc';
import { UtilityProcessLauncher } from './utility-launcher';

const outDir = path.resolve(import.meta.dirname, '..'); // out/
const rendererIndex = path.join(outDir, 'renderer', 'index.html');
const rendererUrl = pathToFileURL(rendererIndex).href;
const isOurPage = (url: string) => url.split('#')[0] === rendererUrl;

const csp =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "font-src 'self' data:; connect-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

let services: AppServices | undefined;

const webPreferences = {
  preload: path.join(outDir, 'preload', 'index.cjs'),
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  webviewTag: false,
  spellcheck: false,
};

/** No navigation away from our page, no windows but our own console windows. */
function lockDown(win: BrowserWindow, hub: IpcHub): void {
  win.webContents.on('will-navigate', (e, url) => {
    if (!isOurPage(url)) e.preventDefault();
  });
  win.webContents.setWindowOpenHandler(({ url, frameName }) => {
    if (isOurPage(url) && /^vivarium-console-[a-z0-9-]+$/.test(frameName)) {
      return {
        action: 'allow',
        overrideBrowserWindowOptions: { width: 960, height: 640, backgroundColor: '#1b211e', webPreferences },
      };
    }
    // http(s) links open in the person's browser; anything else is refused.
    if (/^https?:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  win.webContents.on('did-create-window', (child) => lockDown(child, hub));
  hub.subscribe(win.webContents);
}

function createWindow(hub: IpcHub): BrowserWindow {
  const win = new BrowserWindow({
    width: 1100,
    height: 760,
    minWidth: 720,
    minHeight: 480,
    title: 'Vivarium',
    show: false,
    backgroundColor: '#f6f7f5',
    webPreferences,
  });
  win.once('ready-to-show', () => win.show());
  lockDown(win, hub);
  void win.loadFile(rendererIndex);
  return win;
}

async function main(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  await app.whenReady();
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [csp] } });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, permission, allow) => allow(permission === 'clipboard-sanitized-write'));
  const root = path.resolve(outDir, '..');
  const guestDir = process.env.VIVARIUM_GUEST_DIR ?? path.resolve(root, '..', 'shared', 'guests', 'riscv64');
  try {
    services = await AppServices.open({
      dataDir: dataRoot(),
      launcher: new UtilityProcessLauncher(),
      hostEntry: path.join(outDir, 'cli', 'viv.mjs'),
      hostArgsPrefix: ['run'],
      qmp: true,
      guestDir,
      version: app.getVersion(),
    });
  } catch (err) {
    dialog.showErrorBox('Vivarium cannot open its library', err instanceof UserError ? err.message : String(err));
    app.exit(1);
    return;
  }
  // `npm start` asks for the demo VM (scripts/start.mjs).
  if (process.env.VIVARIUM_DEMO === '1') await ensureDemoVm(services, guestDir).catch((err) => console.error(err));
  createWindow(installIpc(services, isOurPage));
  app.on('second-instance', () => BrowserWindow.getAllWindows()[0]?.focus());
  app.on('window-all-closed', () => app.quit());
  app.on('will-quit', (e) => {
    if (!services) return;
    e.preventDefault();
    const s = services;
    services = undefined;
    void s.close().finally(() => app.exit(0));
  });
}

void main();
