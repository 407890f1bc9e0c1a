// The one API object the stores use: over the Electron preload's bridge (window.vivarium) inside
// the app, else over HTTP + WebSocket (viv serve). Components never import this; stores do.
import { ApiReply, type VivariumApi, type VivariumBridge } from '../../shared/api';
import { ApiCallError } from './api-error';
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
  };
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
