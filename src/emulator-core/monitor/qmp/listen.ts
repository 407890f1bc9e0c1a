// Puts a QMP server on a socket, as `-qmp unix:PATH,server=on,wait=off` or
// `-qmp tcp:HOST:PORT,server=on,wait=off` do. Parsing of those option strings belongs to the
// host's option parser; this takes the parsed endpoint.
import net from 'node:net';
import { rmSync } from 'node:fs';
import type { QmpServer } from './server';

export type QmpEndpoint = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

export async function listenQmp(qmp: QmpServer, endpoint: QmpEndpoint): Promise<net.Server> {
  const server = net.createServer((socket) => qmp.attach(socket));
  if (endpoint.kind === 'unix') {
    // QEMU replaces a stale socket file at the same path.
    rmSync(endpoint.path, { force: true });
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`-qmp: cannot listen on ${describe(endpoint)}: ${err.code ?? err.message}`)),
    );
    if (endpoint.kind === 'unix') server.listen(endpoint.path, resolve);
    else server.listen(endpoint.port, endpoint.host, resolve);
  });
  return server;
}

export function describe(endpoint: QmpEndpoint): string {
  return endpoint.kind === 'unix' ? `unix:${endpoint.path}` : `tcp:${endpoint.host}:${endpoint.port}`;
}
