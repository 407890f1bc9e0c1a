// The host end of the guest's serial line (QEMU's -serial backends): stdio (optionally muxed
// with the Ctrl-A escape, in raw mode when stdin is a terminal), null, or a unix/tcp socket
// (server or client). The app's supervisor runs core hosts with -serial unix:PATH,server=on,wait=off
// and shows the stream in its console.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import type { SerialSpec } from './options';
import { MUX_HELP, MUX_HELP_MONITOR, MuxEscape } from './mux-escape';

export interface SerialBackend {
  /** Guest output. */
  write(bytes: Uint8Array): void;
  /** Resolves when the backend may start (a socket server with wait=on waits for its client). */
  ready(): Promise<void>;
  close(): void;
}

export interface SerialHooks {
  /** Host input for the guest. */
  input(bytes: Uint8Array): void;
  /** Ctrl-A x, Ctrl-C on a plain stdio line, or stdout closed: end the run. */
  quit(): void;
  /** The human monitor sharing a muxed stdio line (Ctrl-A c): its input, and focus changes. */
  monitor?: { feed(text: string): void; focus(monitor: boolean): void };
}

export function openSerial(spec: SerialSpec, hooks: SerialHooks): SerialBackend {
  switch (spec.kind) {
    case 'null':
      return { write: () => {}, ready: async () => {}, close: () => {} };
    case 'stdio':
      return new StdioSerial(spec.mux, hooks);
    case 'unix':
    case 'tcp':
      return spec.server ? new SocketServerSerial(spec, hooks) : new SocketClientSerial(spec, hooks);
  }
}

class StdioSerial implements SerialBackend {
  private readonly mux: MuxEscape | undefined;
  private readonly raw: boolean;
  private readonly onData = (chunk: Buffer) => this.receive(new Uint8Array(chunk));

  constructor(
    mux: boolean,
    private readonly hooks: SerialHooks,
  ) {
    this.mux = mux ? new MuxEscape(hooks.monitor !== undefined) : undefined;
    // Raw mode: keys go to the guest as typed (Ctrl-C included when muxed, as with QEMU -nographic).
    this.raw = process.stdin.isTTY === true;
    if (this.raw) process.stdin.setRawMode(true);
    process.stdin.on('data', this.onData);
    process.stdin.resume();
    // The reader of our stdout went away (`viv run ... | head`): end the run as QEMU would on
    // SIGPIPE. Later writes fail too; they are dropped (reacting to each would never end).
    process.stdout.on('error', this.onOutputError);
  }

  private outputBroken = false;
  private readonly onOutputError = () => {
    if (this.outputBroken) return;
    this.outputBroken = true;
    this.hooks.quit();
  };

  private receive(bytes: Uint8Array): void {
    if (!this.mux) {
      // Plain -serial stdio on a terminal: Ctrl-C still ends the emulator (QEMU's signal=on).
      if (this.raw && bytes.includes(0x03)) {
        this.hooks.quit();
        return;
      }
      this.hooks.input(bytes);
      return;
    }
    const { toGuest, toMonitor, actions } = this.mux.feed(bytes);
    if (toGuest.length) this.hooks.input(toGuest);
    for (const a of actions) {
      if (a.kind === 'help') {
        this.write(new TextEncoder().encode(this.hooks.monitor ? MUX_HELP_MONITOR : MUX_HELP));
      } else if (a.kind === 'focus') {
        this.hooks.monitor?.focus(a.monitor);
      } else {
        this.write(new TextEncoder().encode('viv: Terminated\r\n')); // QEMU: "QEMU: Terminated"
        this.hooks.quit();
      }
    }
    if (toMonitor?.length) this.hooks.monitor?.feed(new TextDecoder().decode(toMonitor));
  }

  write(bytes: Uint8Array): void {
    if (!this.outputBroken) process.stdout.write(bytes);
  }

  async ready(): Promise<void> {}

  close(): void {
    process.stdin.off('data', this.onData);
    process.stdout.off('error', this.onOutputError);
    if (this.raw) process.stdin.setRawMode(false);
    process.stdin.pause();
  }
}

type SocketSpec = Extract<SerialSpec, { kind: 'unix' | 'tcp' }>;

class SocketServerSerial implements SerialBackend {
  private readonly server: Server;
  private client: Socket | undefined;
  private readonly firstClient: Promise<void>;

  constructor(
    private readonly spec: SocketSpec,
    hooks: SerialHooks,
  ) {
    let connected!: () => void;
    this.firstClient = new Promise((r) => (connected = r));
    this.server = createServer((sock) => {
      // One client at a time, like QEMU's socket chardev: a newer one replaces the older.
      this.client?.destroy();
      this.client = sock;
      sock.on('data', (d: Buffer) => hooks.input(new Uint8Array(d)));
      sock.on('error', () => {});
      sock.on('close', () => {
        if (this.client === sock) this.client = undefined;
      });
      connected();
    });
    if (spec.kind === 'unix') {
      rmSync(spec.path, { force: true });
      this.server.listen(spec.path);
    } else {
      this.server.listen(spec.port, spec.host);
    }
  }

  write(bytes: Uint8Array): void {
    this.client?.write(bytes); // no client: output is dropped, as QEMU does
  }

  async ready(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      if (this.server.listening) resolve();
      this.server.once('listening', () => resolve());
      this.server.once('error', (e) => reject(new Error(`-serial: cannot listen: ${e.message}`)));
    });
    if (this.spec.wait) await this.firstClient;
  }

  close(): void {
    this.client?.destroy();
    this.server.close();
    if (this.spec.kind === 'unix') rmSync(this.spec.path, { force: true });
  }
}

class SocketClientSerial implements SerialBackend {
  private readonly sock: Socket;
  private readonly connected: Promise<void>;

  constructor(spec: SocketSpec, hooks: SerialHooks) {
    this.sock = spec.kind === 'unix' ? connect(spec.path) : connect(spec.port, spec.host);
    this.connected = new Promise((resolve, reject) => {
      this.sock.once('connect', () => resolve());
      this.sock.once('error', (e) => reject(new Error(`-serial: cannot connect: ${e.message}`)));
    });
    this.sock.on('data', (d: Buffer) => hooks.input(new Uint8Array(d)));
  }

  write(bytes: Uint8Array): void {
    this.sock.write(bytes);
  }

  ready(): Promise<void> {
    return this.connected;
  }

  close(): void {
    this.sock.destroy();
  }
}
