// A small QMP client (docs/interop/qmp-spec): read the greeting, negotiate capabilities, then
// send commands with ids and match replies; everything without an id is an asynchronous event.
// This is how main drives a core host, as libvirt drives QEMU.
import { EventEmitter } from 'node:events';
import type net from 'node:net';

export interface QmpEvent {
  event: string;
  data?: unknown;
  timestamp?: { seconds: number; microseconds: number };
}

export class QmpCommandError extends Error {
  constructor(
    readonly errorClass: string,
    desc: string,
  ) {
    super(`${errorClass}: ${desc}`);
  }
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

export class QmpClient extends EventEmitter<{ event: [QmpEvent]; close: [] }> {
  private buffer = '';
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  private greeting: ((g: unknown) => void) | undefined;
  private closed = false;

  private constructor(private readonly socket: net.Socket) {
    super();
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => this.receive(text));
    socket.on('close', () => this.shutdown(new Error('QMP connection closed')));
    socket.on('error', (err) => this.shutdown(err));
  }

  /** Wraps a connected socket: waits for the greeting and sends qmp_capabilities. */
  static async open(socket: net.Socket, timeoutMs = 5000): Promise<QmpClient> {
    const client = new QmpClient(socket);
    const greeting = await new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no QMP greeting')), timeoutMs);
      client.greeting = (g) => {
        clearTimeout(timer);
        resolve(g);
      };
      client.once('close', () => reject(new Error('QMP connection closed before the greeting')));
    });
    if (!(greeting as { QMP?: unknown }).QMP) throw new Error('not a QMP server');
    await client.execute('qmp_capabilities');
    return client;
  }

  execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('QMP connection closed'));
    const id = `viv-${this.nextId++}`;
    const message = { execute: command, ...(args ? { arguments: args } : {}), id };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.write(JSON.stringify(message) + '\n');
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private receive(text: string): void {
    this.buffer += text;
    let newline: number;
    while ((newline = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, newline).trim();
      this.buffer = this.buffer.slice(newline + 1);
      if (line) this.dispatch(line);
    }
  }

  private dispatch(line: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return; // a garbled line is the server's bug; skipping it keeps the session usable
    }
    if ('QMP' in msg) {
      this.greeting?.(msg);
      this.greeting = undefined;
    } else if ('event' in msg) {
      this.emit('event', msg as unknown as QmpEvent);
    } else if (typeof msg.id === 'string' && this.pending.has(msg.id)) {
      const p = this.pending.get(msg.id)!;
      this.pending.delete(msg.id);
      if ('error' in msg) {
        const e = msg.error as { class?: string; desc?: string };
        p.reject(new QmpCommandError(e.class ?? 'GenericError', e.desc ?? 'unknown error'));
      } else p.resolve(msg.return);
    }
  }

  private shutdown(err: Error): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.emit('close');
  }
}
