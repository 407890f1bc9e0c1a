// The IPC half of the Electron shell: every call is checked for its sender (a frame of our own
// window showing our own page) before its arguments reach AppServices, which validates those.
import { ipcMain, MessageChannelMain, type IpcMainEvent, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { ipc } from '../../shared/ipc';
import type { AppServices } from '../services/app-services';

export interface IpcHub {
  /** Sends main's events to this window, and cleans up its consoles when it closes. */
  subscribe(wc: WebContents): void;
}

export function installIpc(services: AppServices, isOurPage: (url: string) => boolean): IpcHub {
  const trusted = (e: IpcMainEvent | IpcMainInvokeEvent) => {
    const frame = e.senderFrame;
    return !!frame && frame === e.sender.mainFrame && isOurPage(frame.url);
  };

  ipcMain.handle(ipc.invoke, async (e, channel: unknown, args: unknown) => {
    if (!trusted(e)) return { ok: false, error: { code: 'forbidden', message: 'Refused: unknown sender' } };
    return services.invoke(channel, args);
  });

  const subscribers = new Set<WebContents>();
  services.onEvent((event) => {
    for (const wc of subscribers) if (!wc.isDestroyed()) wc.send(ipc.event, event);
  });

  const consoles = new Map<string, { write(d: string): void; close(): void }>();
  const key = (wc: WebContents, session: number) => `${wc.id}:${session}`;

  ipcMain.on(ipc.consoleOpen, (e, session: unknown, id: unknown) => {
    if (!trusted(e) || typeof session !== 'number' || typeof id !== 'string') return;
    const wc = e.sender;
    try {
      const c = services.attachConsole(
        id,
        (bytes) => !wc.isDestroyed() && wc.send(ipc.consoleData, session, bytes),
        () => !wc.isDestroyed() && wc.send(ipc.consoleData, session, null),
      );
      consoles.set(key(wc, session), c);
    } catch {
      wc.send(ipc.consoleData, session, null);
    }
  });
  ipcMain.on(ipc.consoleInput, (e, session: unknown, data: unknown) => {
    if (!trusted(e) || typeof session !== 'number' || typeof data !== 'string' || data.length > 65536) return;
    consoles.get(key(e.sender, session))?.write(data);
  });
  ipcMain.on(ipc.consoleClose, (e, session: unknown) => {
    if (typeof session !== 'number') return;
    const k = key(e.sender, session);
    consoles.get(k)?.close();
    consoles.delete(k);
  });

  // A display window asks for its VM's screen: one MessageChannel, one end to the core host (a
  // utility process), the other to the window. RFB then flows between them; main never sees it.
  ipcMain.on(ipc.displayOpen, (e, session: unknown, id: unknown) => {
    if (!trusted(e) || typeof session !== 'number' || typeof id !== 'string') return;
    const { port1, port2 } = new MessageChannelMain();
    try {
      services.connectDisplayPort(id, port1);
    } catch {
      port1.close();
      port2.close();
      e.sender.postMessage(ipc.displayPort, { session }); // no port: the window says there is no display
      return;
    }
    e.sender.postMessage(ipc.displayPort, { session }, [port2]);
  });

  return {
    subscribe(wc) {
      subscribers.add(wc);
      wc.once('destroyed', () => {
        subscribers.delete(wc);
        for (const [k, c] of consoles) {
          if (!k.startsWith(`${wc.id}:`)) continue;
          c.close();
          consoles.delete(k);
        }
      });
    },
  };
}
