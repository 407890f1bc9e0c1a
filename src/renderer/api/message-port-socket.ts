// The display window's end of the MessagePort to the core host (Electron): dressed as the
// "raw channel" noVNC's RFB accepts in place of a URL (core/websock.js: send, close, binaryType,
// onopen/onmessage/onclose/onerror, protocol, readyState). It is open from the start, as the
// channel main brokered already reaches the core host's VNC server.
// Wire format (the core host's end is src/emulator-core/display/rfb/message-port-stream.ts): each
// message is a chunk of RFB bytes; the string "close" says the sender is done.

const CLOSE = 'close';

/** What this needs of a MessagePort (the page's, or Node's in tests). */
export interface PortLike {
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  removeEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  start(): void;
  close(): void;
}

type Handler<E> = ((event: E) => void) | null;
export interface ChannelCloseEvent {
  code: number;
  reason: string;
  wasClean: boolean;
}

export class MessagePortSocket {
  binaryType: 'arraybuffer' | 'blob' = 'arraybuffer';
  readonly protocol = '';
  readyState: 'open' | 'closed' = 'open';
  onopen: Handler<Event> = null;
  onclose: Handler<ChannelCloseEvent> = null;
  onerror: Handler<Event> = null;
  private handler: Handler<{ data: ArrayBuffer }> = null;
  /** Bytes that came before noVNC set onmessage (the server speaks first). */
  private readonly early: ArrayBuffer[] = [];

  private readonly listener = (e: { data: unknown }) => this.receive(e.data);

  constructor(private readonly port: PortLike) {
    port.addEventListener('message', this.listener);
    port.start();
  }

  get onmessage(): Handler<{ data: ArrayBuffer }> {
    return this.handler;
  }
  set onmessage(h: Handler<{ data: ArrayBuffer }>) {
    this.handler = h;
    if (h && this.early.length) queueMicrotask(() => this.early.splice(0).forEach((data) => this.handler?.({ data })));
  }

  send(data: ArrayBuffer | ArrayBufferView): void {
    if (this.readyState !== 'open') return;
    // noVNC hands over a view of its reusable send buffer: copy it, then transfer the copy.
    const view = ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
    const copy = view.slice();
    this.port.postMessage(copy, [copy.buffer]);
  }

  close(): void {
    if (this.readyState !== 'open') return;
    this.port.postMessage(CLOSE, []);
    this.ended({ code: 1000, reason: '', wasClean: true });
  }

  private receive(data: unknown): void {
    if (this.readyState !== 'open') return;
    if (data === CLOSE) {
      this.ended({ code: 1000, reason: 'the display closed', wasClean: true });
      return;
    }
    const buffer = data instanceof ArrayBuffer ? data : data instanceof Uint8Array ? data.slice().buffer : null;
    if (!buffer) {
      this.close();
      return;
    }
    if (this.handler && !this.early.length) this.handler({ data: buffer });
    else this.early.push(buffer);
  }

  private ended(event: ChannelCloseEvent): void {
    this.readyState = 'closed';
    this.port.removeEventListener('message', this.listener);
    this.port.close();
    this.onclose?.(event);
  }
}
