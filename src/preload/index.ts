// The preload: exposes one typed object, window.vivarium, and nothing else. Only the channels of
// the API contract pass (main validates them again, with the sender); the renderer never sees
// ipcRenderer itself.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { AppEvent, VivariumBridge } from '../shared/api';
import { ipc } from '../shared/ipc';

let nextConsole = 1;
let nextDisplay = 1;

// A display port from main goes on to the page as a window message (contextBridge cannot pass
// ports); the page matches it by session (renderer/api/index.ts).
// (The window is the preload's global; this tsconfig has no DOM types.)
const page = globalThis as unknown as { window: { postMessage(message: unknown, targetOrigin: string, transfer: unknown[]): void } };
ipcRenderer.on(ipc.displayPort, (e, data: { session?: unknown }) => {
  if (typeof data?.session === 'number') page.window.postMessage({ [ipc.displayPort]: data.session }, '*', e.ports);
});

const vivarium: VivariumBridge = {
  invoke: (channel, args) => ipcRenderer.invoke(ipc.invoke, channel, args),
  onEvent(listener) {
    const handler = (_e: IpcRendererEvent, event: AppEvent) => listener(event);
    ipcRenderer.on(ipc.event, handler);
    return () => void ipcRenderer.off(ipc.event, handler);
  },
  openConsole(id, onData, onClose) {
    const session = nextConsole++;
    const handler = (_e: IpcRendererEvent, s: number, bytes: Uint8Array | null) => {
      if (s !== session) return;
      if (bytes) onData(bytes);
      else {
        ipcRenderer.off(ipc.consoleData, handler);
        onClose?.();
      }
    };
    ipcRenderer.on(ipc.consoleData, handler);
    ipcRenderer.send(ipc.consoleOpen, session, id);
    return {
      write: (data) => ipcRenderer.send(ipc.consoleInput, session, String(data)),
      close: () => {
        ipcRenderer.off(ipc.consoleData, handler);
        ipcRenderer.send(ipc.consoleClose, session);
      },
    };
  },
  openDisplay(id) {
    const session = nextDisplay++;
    ipcRenderer.send(ipc.displayOpen, session, id);
    return session;
  },
};

contextBridge.exposeInMainWorld('vivarium', vivarium);
