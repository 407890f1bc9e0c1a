// RFB over a MessagePort: the Electron app's display window talks to the core host on one end of
// a MessageChannel that main handed out once (DESIGN.md: frames never go through main). This turns
// the core host's end (Electron's MessagePortMain, an EventEmitter) into the byte stream
// `VncServer.attach` takes. The renderer's end is src/renderer/api/message-port-socket.ts.
//
// Wire format, both directions: each message is one chunk of RFB bytes (a Uint8Array or an
// ArrayBuffer); the string "close" says the sender is done. The explicit close is there because
// a page's MessagePort has no dependable 'close' event; Electron's port-closed event is honoured too.
import { Duplex } from 'node:stream';

export const PORT_CLOSE_MESSAGE = 'close';

/** The part of Electron's MessagePortMain (and of a test's wrapper) this uses. */
export interface ByteMessagePort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: { data: unknown }) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  start(): void;
  close(): void;
}

/** One chunk the other end sent, as bytes; null for anything that is not bytes. */
function bytesOf(data: unknown): Buffer | null {
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return null;
}

/** A Duplex over the port: what is written goes out as messages; messages come in as data. */
export function messagePortStream(port: ByteMessagePort): Duplex {
  let closed = false;
  const finish = () => {
    if (closed) return;
    closed = true;
    try {
      port.postMessage(PORT_CLOSE_MESSAGE);
    } catch {
      // the other end went first
    }
    port.close();
  };
  const stream = new Duplex({
    allowHalfOpen: false,
    read() {
      // Messages are pushed as they come; a MessagePort cannot be paused, and RFB clients send little.
    },
    write(chunk: Buffer, _encoding, callback) {
      // Structured clone copies a view's whole ArrayBuffer, and a small Buffer is a slice of
      // Node's shared pool: send a right-sized copy, never the bytes around the chunk.
      if (!closed) port.postMessage(Uint8Array.prototype.slice.call(chunk));
      callback();
    },
    final(callback) {
      finish();
      callback();
    },
    destroy(error, callback) {
      finish();
      callback(error);
    },
  });
  port.on('message', ({ data }) => {
    if (closed) return;
    if (data === PORT_CLOSE_MESSAGE) {
      closed = true;
      stream.push(null);
      port.close();
      return;
    }
    const bytes = bytesOf(data);
    if (bytes) stream.push(bytes);
    else stream.destroy(new Error('the display port carried something that is not bytes'));
  });
  port.on('close', () => {
    closed = true;
    stream.destroy();
  });
  port.start();
  return stream;
}
