// Web mode: the app over HTTP + WebSocket on 127.0.0.1, for `viv serve`, remote use through an
// SSH tunnel, and the e2e tests. The same services and API contract as the Electron shell:
//   POST /<token>/api/<channel>   body {"args": [...]}  -> ApiReply
//   WS   /<token>/events          AppEvent JSON messages
//   WS   /<token>/console/<id>    binary frames: guest serial bytes out, keystrokes in
//   GET  /<token>/...             the built renderer
// The display is not here: frames never pass through main. `vms.display` tells the page the core
// host's own WebSocket (127.0.0.1, any free port) and VNC password; that WebSocket admits only
// this server's origins, which it is told below.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AppServices } from '../services/app-services';
import { newToken, RequestGuard } from './guard';
import { serveStatic } from './static-files';

export interface WebServerOptions {
  services: AppServices;
  /** The built renderer (out/renderer). */
  rendererDir: string;
  port?: number;
  token?: string;
}

export interface WebServer {
  url: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

const maxBodyBytes = 1024 * 1024;

function securityHeaders(port: number): Record<string, string> {
  return {
    // Scripts only from us; xterm writes <style> elements, hence 'unsafe-inline' for styles only.
    'Content-Security-Policy':
      `default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; ` +
      // ws://127.0.0.1:* : the display window's noVNC connects to its VM's core host directly.
      `font-src 'self' data:; connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port} ws://127.0.0.1:*; ` +
      `base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    // The token is in the URL: never send it onwards in a Referer.
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
  };
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBodyBytes) {
        reject(new Error('body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const { services } = options;
  const token = options.token ?? newToken();
  let port = 0;
  const guard = new RequestGuard(token, () => port);
  const sockets = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });

  const server = http.createServer(async (req, res) => {
    const headers = securityHeaders(port);
    const verdict = guard.check(req);
    if (!verdict.ok) {
      res.writeHead(verdict.status, { ...headers, 'Content-Type': 'text/plain' }).end(verdict.status === 404 ? 'not found' : 'forbidden');
      return;
    }
    // /<token> without its slash: relative asset URLs need the folder form.
    if (new URL(req.url ?? '/', 'http://localhost').pathname === `/${token}`) {
      res.writeHead(301, { ...headers, Location: `/${token}/` }).end();
      return;
    }
    const api = /^\/api\/([A-Za-z.]+)$/.exec(verdict.rest);
    if (api) {
      // JSON only: a cross-site form cannot send it without a CORS preflight, which we never grant.
      if (req.method !== 'POST' || !req.headers['content-type']?.startsWith('application/json')) {
        res.writeHead(405, headers).end('POST application/json only');
        return;
      }
      let args: unknown;
      try {
        args = (JSON.parse(await readBody(req)) as { args?: unknown }).args;
      } catch {
        res.writeHead(400, headers).end('bad request');
        return;
      }
      const reply = await services.invoke(api[1], args);
      res.writeHead(200, { ...headers, 'Content-Type': 'application/json' }).end(JSON.stringify(reply));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, headers).end();
      return;
    }
    await serveStatic(options.rendererDir, verdict.rest, res, headers);
  });

  server.on('upgrade', (req, socket, head) => {
    const verdict = guard.check(req);
    // Browsers always send Origin on a WebSocket handshake; require it here.
    if (!verdict.ok || !req.headers.origin) {
      socket.end(`HTTP/1.1 ${verdict.ok ? 403 : verdict.status} Refused\r\nConnection: close\r\n\r\n`);
      return;
    }
    const consoleMatch = /^\/console\/([a-z0-9-]+)$/.exec(verdict.rest);
    if (verdict.rest !== '/events' && !consoleMatch) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => {
      if (consoleMatch) attachConsole(ws, consoleMatch[1]!);
      else attachEvents(ws);
    });
  });

  function attachEvents(ws: WebSocket): void {
    const off = services.onEvent((event) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(event));
    });
    ws.on('close', off);
  }

  function attachConsole(ws: WebSocket, id: string): void {
    let session: { write(data: string | Uint8Array): void; close(): void };
    try {
      session = services.attachConsole(
        id,
        (bytes) => ws.readyState === ws.OPEN && ws.send(bytes, { binary: true }),
        () => ws.close(1000, 'vm stopped'),
      );
    } catch {
      ws.close(1008, 'no such vm');
      return;
    }
    ws.on('message', (data: Buffer, isBinary: boolean) => session.write(isBinary ? data : data.toString('utf8')));
    ws.on('close', () => session.close());
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  services.allowDisplayPages(guard.allowedOrigins());
  return {
    url: guard.urlFor(),
    token,
    port,
    close: async () => {
      for (const ws of sockets.clients) ws.terminate();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
