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
  // Recording ports: which end went where, and which were closed.
  MessageChannelMain: class {
    port1 = { name: 'port1', closed: false, close() { this.closed = true; } };
    port2 = { name: 'port2', closed: false, close() { this.closed = true; } };
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
    postMessage: (...args: unknown[]) => void sent.push(['postMessage', ...args]),
    once: () => undefined,
  };
}

function event(wc: ReturnType<typeof fakeWebContents>, frame: { url: string } = wc.mainFrame) {
  return { sender: wc, senderFrame: frame };
}

let invoked: unknown[][];
let written: string[];
let displayPorts: [string, { name: string; closed: boolean }][];
beforeEach(() => {
  handlers.clear();
  invoked = [];
  written = [];
  displayPorts = [];
  const services = {
    connectDisplayPort: (id: string, port: { name: string; closed: boolean }) => {
      if (id !== 'screen-vm') throw new Error('This VM has no display');
      displayPorts.push([id, port]);
    },
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

  it('brokers one MessageChannel per display window: one end to the core host, one to the window', () => {
    const wc = fakeWebContents(4);
    handlers.get(ipc.displayOpen)!(event(wc), 1, 'screen-vm');
    expect(displayPorts.map(([id, p]) => [id, p.name])).toEqual([['screen-vm', 'port1']]);
    expect(wc.sent).toEqual([['postMessage', ipc.displayPort, { session: 1 }, [expect.objectContaining({ name: 'port2' })]]]);
    // No display: both ends closed, and the window hears "no port" for its session.
    handlers.get(ipc.displayOpen)!(event(wc), 2, 'plain-vm');
    expect(wc.sent[1]).toEqual(['postMessage', ipc.displayPort, { session: 2 }]);
    // Not our page, or bad arguments: nothing is brokered.
    handlers.get(ipc.displayOpen)!(event(wc, { url: ourPage }), 3, 'screen-vm');
    handlers.get(ipc.displayOpen)!(event(wc), '4', 'screen-vm');
    expect(displayPorts).toHaveLength(1);
    expect(wc.sent).toHaveLength(2);
  });
});
