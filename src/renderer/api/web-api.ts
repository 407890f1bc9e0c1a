// The typed API over HTTP + WebSocket (web mode, `viv serve`). Every URL is relative to the page's
// own /<token>/ folder, so the token travels with every request without the code handling it.
import { ApiReply, AppEvent, type ApiArgs, type ApiResult, type Channel, type VivariumApi } from '../../shared/api';
import { ApiCallError } from './api-error';

export function createWebApi(pageUrl: string = location.href): VivariumApi {
  const base = new URL('./', pageUrl);
  const wsUrl = (rel: string) => {
    const u = new URL(rel, base);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    return u.href;
  };

  const listeners = new Set<(event: AppEvent) => void>();
  let events: WebSocket | undefined;
  let retryMs = 250;
  const connectEvents = () => {
    events = new WebSocket(wsUrl('events'));
    events.onopen = () => (retryMs = 250);
    events.onmessage = (m) => {
      const parsed = AppEvent.safeParse(JSON.parse(String(m.data)));
      if (parsed.success) for (const l of listeners) l(parsed.data);
    };
    // The server restarting or a laptop waking: reconnect with backoff while anyone listens.
    events.onclose = () => {
      events = undefined;
      if (listeners.size) setTimeout(connectEvents, (retryMs = Math.min(retryMs * 2, 5000)));
    };
  };

  return {
    async invoke<C extends Channel>(channel: C, ...args: ApiArgs<C>): Promise<ApiResult<C>> {
      const res = await fetch(new URL(`api/${channel}`, base), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ args }),
      });
      if (!res.ok) throw new ApiCallError({ code: 'http', message: `The app server answered ${res.status}` });
      const reply = ApiReply.parse(await res.json());
      if (!reply.ok) throw new ApiCallError(reply.error);
      return reply.value as ApiResult<C>;
    },

    onEvent(listener) {
      listeners.add(listener);
      if (!events) connectEvents();
      return () => {
        listeners.delete(listener);
        if (!listeners.size) events?.close();
      };
    },

    // The core host's own WebSocket and this run's VNC password: the display never passes main.
    async openDisplay(id) {
      return this.invoke('vms.display', id);
    },

    openConsole(id, onData, onClose) {
      const ws = new WebSocket(wsUrl(`console/${encodeURIComponent(id)}`));
      ws.binaryType = 'arraybuffer';
      const pending: string[] = [];
      ws.onopen = () => pending.splice(0).forEach((d) => ws.send(d));
      ws.onmessage = (m) => onData(new Uint8Array(m.data as ArrayBuffer));
      ws.onclose = () => onClose?.();
      return {
        write(data) {
          if (ws.readyState === WebSocket.OPEN) ws.send(data);
          else if (ws.readyState === WebSocket.CONNECTING) pending.push(data);
        },
        close: () => ws.close(),
      };
    },
  };
}
