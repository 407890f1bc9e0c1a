// The preload: exposes one typed object, window.vivarium, and nothing else. Only the channels of
// the API contract pass (main validates them again, with the sender); the renderer never sees
// ipcRenderer itself.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { AppEvent, VivariumBridge } from '../shared/api';
import { ipc } from '../shared/ipc';

let nextConsole = 1;

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
};

contextBridge.exposeInMainWorld('vivarium', vivarium);
