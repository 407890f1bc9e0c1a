// The Electron transport without the Electron binary: `electron` is replaced by a recording
// ipcMain, and the checks run as they would in the app: sender frame, page URL, arguments.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ipc } from '../../shared/ipc';
import type { AppServices } from '../services/app-services';

type Handler = (e: unknown, ...args: unknown[]) => unknown;
const handlers = new Map<string, Handler>();
vi.mock('electron', () => ({
  ipcMain: {
    handle: (channel: string, fn: Handler) => handlers.set(channel, fn),
    on: (channel: string, fn: Handler) => handlers.set(channel, fn),
  },
}));

const { installIpc } = await import('./ipc');
const ourPage = 'file:///app/out/renderer/index.html';

function fakeWebContents(id: number) {
  const sent: unknown[][] = [];
  const mainFrame = { url: `${ourPage}#/` };
  return {
    id,
    mainFrame,
    sent,
    isDestroyed: () => false,
    send: (...args: unknown[]) => void sent.push(args),
    once: () => undefined,
  };
}

function event(wc: ReturnType<typeof fakeWebContents>, frame: { url: string } = wc.mainFrame) {
  return { sender: wc, senderFrame: frame };
}

let invoked: unknown[][];
let written: string[];
beforeEach(() => {
  handlers.clear();
  invoked = [];
  written = [];
  const services = {
    invoke: async (channel: unknown, args: unknown) => (invoked.push([channel, args]), { ok: true, value: 'answer' }),
    onEvent: () => () => undefined,
    attachConsole: (_id: string, onData: (b: Uint8Array) => void) => {
      onData(new Uint8Array([0x68, 0x69]));
      return { write: (d: string) => void written.push(d), close: () => undefined };
    },
  } as unknown as AppServices;
  installIpc(services, (url) => url.split('#')[0] === ourPage);
});

describe('Electron IPC', () => {
  it('passes calls from our page to the services, which validate the arguments', async () => {
    const wc = fakeWebContents(1);
    expect(await handlers.get(ipc.invoke)!(event(wc), 'vms.list', [])).toEqual({ ok: true, value: 'answer' });
    expect(invoked).toEqual([['vms.list', []]]);
  });

  it('refuses calls from a subframe or from a page that is not ours', async () => {
    const wc = fakeWebContents(1);
    const iframe = { url: ourPage };
    expect(await handlers.get(ipc.invoke)!(event(wc, iframe), 'vms.list', [])).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    wc.mainFrame.url = 'https://evil.example/';
    expect(await handlers.get(ipc.invoke)!(event(wc), 'vms.list', [])).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(invoked).toEqual([]);
  });

  it('streams a console to the window that opened it, and checks input', () => {
    const wc = fakeWebContents(7);
    handlers.get(ipc.consoleOpen)!(event(wc), 3, 'demo');
    expect(wc.sent).toEqual([[ipc.consoleData, 3, new Uint8Array([0x68, 0x69])]]);
    handlers.get(ipc.consoleInput)!(event(wc), 3, 'ls\r');
    handlers.get(ipc.consoleInput)!(event(wc), 3, { not: 'text' });
    handlers.get(ipc.consoleInput)!(event(wc), 3, 'x'.repeat(70_000));
    handlers.get(ipc.consoleInput)!(event(wc, { url: ourPage }), 3, 'from an iframe');
    expect(written).toEqual(['ls\r']);
    // Another window cannot type into this window's console session.
    handlers.get(ipc.consoleInput)!(event(fakeWebContents(8)), 3, 'intruder');
    expect(written).toEqual(['ls\r']);
  });
});
