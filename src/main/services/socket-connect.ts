// Core hosts listen (`server=on,wait=off`) and main connects. The socket file appears some time
// after the process starts, so connecting retries until it answers, the host exits, or time is up.
import net from 'node:net';

export interface ConnectOptions {
  timeoutMs: number;
  /** Checked between attempts: stop trying once the host is gone. */
  stillWanted: () => boolean;
  retryMs?: number;
}

export async function connectUnix(path: string, options: ConnectOptions): Promise<net.Socket> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError = 'no answer';
  while (Date.now() < deadline && options.stillWanted()) {
    try {
      return await new Promise<net.Socket>((resolve, reject) => {
        const socket = net.connect(path);
        socket.once('connect', () => {
          socket.removeAllListeners('error');
          resolve(socket);
        });
        socket.once('error', reject);
      });
    } catch (err) {
      lastError = (err as NodeJS.ErrnoException).code ?? String(err);
      await new Promise((r) => setTimeout(r, options.retryMs ?? 50));
    }
  }
  throw new Error(`cannot connect to ${path}: ${options.stillWanted() ? lastError : 'the core host exited'}`);
}
