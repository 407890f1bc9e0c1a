// The one API object the stores use: over the Electron preload's bridge (window.vivarium) inside
// the app, else over HTTP + WebSocket (viv serve). Components never import this; stores do.
import { ApiReply, type DisplayChannel, type VivariumApi, type VivariumBridge } from '../../shared/api';
import { ipc } from '../../shared/ipc';
import { ApiCallError } from './api-error';
import { MessagePortSocket } from './message-port-socket';
import { createWebApi } from './web-api';

declare global {
  interface Window {
    vivarium?: VivariumBridge;
  }
}

export function fromBridge(bridge: VivariumBridge): VivariumApi {
  return {
    async invoke(channel, ...args) {
      const reply = ApiReply.parse(await bridge.invoke(channel, args));
      if (!reply.ok) throw new ApiCallError(reply.error);
      return reply.value as never;
    },
    onEvent: (listener) => bridge.onEvent(listener),
    openConsole: (id, onData, onClose) => bridge.openConsole(id, onData, onClose),
    ...(bridge.openDisplay ? { openDisplay: (id: string) => displayOverPort(bridge, id) } : {}),
  };
}

/**
 * Electron: main brokers a MessageChannel between this window and the VM's core host, once; the
 * preload passes our end in as a window message (contextBridge cannot carry ports).
 */
function displayOverPort(bridge: VivariumBridge, id: string, timeoutMs = 10_000): Promise<DisplayChannel> {
  return new Promise((resolve, reject) => {
    let session = -1;
    const onMessage = (e: MessageEvent) => {
      if (e.source !== window || (e.data as Record<string, unknown> | null)?.[ipc.displayPort] !== session) return;
      window.removeEventListener('message', onMessage);
      clearTimeout(timer);
      const port = e.ports[0];
      if (port) resolve({ channel: new MessagePortSocket(port) });
      else reject(new ApiCallError({ code: 'no-display', message: 'The VM has no display to show' }));
    };
    const timer = setTimeout(() => {
      window.removeEventListener('message', onMessage);
      reject(new ApiCallError({ code: 'no-display', message: 'The display did not answer' }));
    }, timeoutMs);
    window.addEventListener('message', onMessage);
    session = bridge.openDisplay!(id);
  });
}

let instance: VivariumApi | undefined;

export function useApi(): VivariumApi {
  instance ??= window.vivarium ? fromBridge(window.vivarium) : createWebApi();
  return instance;
}

/** Tests put a fake here. */
export function setApi(api: VivariumApi | undefined): void {
  instance = api;
}
