// Who may talk to the web server: only a page this server served, on this machine. Three checks
// on every request and WebSocket upgrade:
// - the token: a random secret in the URL path (/<token>/...), compared in constant time;
// - Host: 127.0.0.1:<port> or localhost:<port>, so a DNS-rebinding page cannot reach us by name;
// - Origin (sent by browsers on every POST and WebSocket): must be our own origin, so another
//   site open in the same browser cannot drive the API even if it guessed the port.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

export interface GuardResult {
  ok: boolean;
  status: number;
  reason: string;
  /** The request path after /<token>, e.g. "/api/vms.list". */
  rest: string;
}

export class RequestGuard {
  private readonly tokenBytes: Buffer;

  constructor(
    private readonly token: string,
    private readonly port: () => number,
  ) {
    this.tokenBytes = Buffer.from(token);
  }

  allowedOrigins(): string[] {
    const port = this.port();
    return [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
  }

  check(req: IncomingMessage): GuardResult {
    const fail = (status: number, reason: string): GuardResult => ({ ok: false, status, reason, rest: '' });
    const host = req.headers.host ?? '';
    if (!this.allowedOrigins().some((o) => o === `http://${host}`)) return fail(403, 'bad host');
    const origin = req.headers.origin;
    if (origin !== undefined && !this.allowedOrigins().includes(origin)) return fail(403, 'foreign origin');
    const url = new URL(req.url ?? '/', 'http://localhost');
    const [, first = '', ...rest] = url.pathname.split('/');
    const given = Buffer.from(first);
    if (given.length !== this.tokenBytes.length || !timingSafeEqual(given, this.tokenBytes)) {
      return fail(404, 'no token'); // 404, not 401: the server does not say what it is
    }
    return { ok: true, status: 200, reason: '', rest: '/' + rest.join('/') };
  }

  urlFor(): string {
    return `http://127.0.0.1:${this.port()}/${this.token}/`;
  }
}
