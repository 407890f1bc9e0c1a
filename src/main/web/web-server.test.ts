// The web transport's guard and wiring: token, Host and Origin checks on HTTP and WebSocket, the
// API envelope, events and the console stream, with the fake core host behind the services.
import { promises as fs } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { AppServices } from '../services/app-services';
import { NodeForkLauncher } from '../services/launcher';
import { startWebServer, type WebServer } from './web-server';

const fakeHost = path.resolve(import.meta.dirname, '../../../tests/e2e/fake-core-host.mjs');
let dir: string;
let services: AppServices;
let server: WebServer;
let origin: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'viv-web-'));
  await fs.mkdir(path.join(dir, 'renderer'));
  await fs.writeFile(path.join(dir, 'renderer', 'index.html'), '<!doctype html><title>Vivarium</title>');
  await fs.writeFile(path.join(dir, 'secret.txt'), 'outside');
  services = await AppServices.open({
    dataDir: path.join(dir, 'data'),
    launcher: new NodeForkLauncher(),
    hostEntry: fakeHost,
    hostArgsPrefix: ['run'],
    qmp: true,
    version: 'test',
  });
  server = await startWebServer({ services, rendererDir: path.join(dir, 'renderer') });
  origin = `http://127.0.0.1:${server.port}`;
});
afterAll(async () => {
  await server.close();
  await services.close();
  await fs.rm(dir, { recursive: true, force: true });
});

function request(pathname: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, path: pathname, method: init.method ?? 'GET', headers: init.headers }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

const call = (channel: string, args: unknown[], headers: Record<string, string> = {}) =>
  request(`/${server.token}/api/${channel}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: origin, ...headers },
    body: JSON.stringify({ args }),
  });

function openSocket(pathname: string, headers: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}${pathname}`, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`refused ${res.statusCode}`)));
  });
}

describe('web server guard', () => {
  it('serves the app with its token and strict headers', async () => {
    const r = await request(`/${server.token}/`);
    expect(r.status).toBe(200);
    expect(r.body).toContain('<title>Vivarium</title>');
    expect(r.headers['content-security-policy']).toContain("script-src 'self'");
    expect(r.headers['referrer-policy']).toBe('no-referrer');
  });

  it('sends /<token> to /<token>/ so relative asset URLs resolve', async () => {
    const r = await request(`/${server.token}`);
    expect(r.status).toBe(301);
    expect(r.headers.location).toBe(`/${server.token}/`);
  });

  it('refuses requests without the token or with a wrong one', async () => {
    expect((await request('/')).status).toBe(404);
    expect((await request('/index.html')).status).toBe(404);
    expect((await request(`/${server.token.slice(1)}x/`)).status).toBe(404);
    expect((await request('/api/vms.list', { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: origin } })).status).toBe(404);
  });

  it('refuses a foreign Origin and a foreign Host', async () => {
    expect((await call('vms.list', [], { Origin: 'http://evil.example' })).status).toBe(403);
    expect((await call('vms.list', [], { Origin: `http://127.0.0.1:${server.port + 1}` })).status).toBe(403);
    expect((await request(`/${server.token}/`, { headers: { Host: `evil.example:${server.port}` } })).status).toBe(403);
  });

  it('does not serve files outside the renderer folder', async () => {
    expect((await request(`/${server.token}/..%2fsecret.txt`)).status).toBe(404);
    expect((await request(`/${server.token}/%2e%2e/secret.txt`)).status).toBe(404);
  });

  it('answers API calls in the envelope and rejects non-JSON posts', async () => {
    const r = await call('vms.list', []);
    expect(JSON.parse(r.body)).toEqual({ ok: true, value: [] });
    const bad = await call('vms.start', ['../x']);
    expect(JSON.parse(bad.body)).toMatchObject({ ok: false, error: { code: 'bad-arguments' } });
    const form = await request(`/${server.token}/api/vms.list`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', Origin: origin },
      body: '{"args":[]}',
    });
    expect(form.status).toBe(405);
  });

  it('refuses WebSockets without the token, without Origin or with a foreign one', async () => {
    await expect(openSocket('/events', { Origin: origin })).rejects.toThrow(/refused 404/);
    await expect(openSocket(`/${server.token}/events`, { Origin: 'http://evil.example' })).rejects.toThrow(/refused 403/);
    await expect(openSocket(`/${server.token}/events`, {})).rejects.toThrow();
    const ws = await openSocket(`/${server.token}/events`, { Origin: origin });
    ws.close();
  });

  it('carries no display: no /display route, and the page may connect to core hosts on loopback', async () => {
    await expect(openSocket(`/${server.token}/display/w`, { Origin: origin })).rejects.toThrow(/refused 404/);
    const page = await request(`/${server.token}/`);
    expect(page.headers['content-security-policy']).toContain('ws://127.0.0.1:*');
    expect(JSON.parse((await call('vms.display', ['nope'])).body)).toMatchObject({ ok: false, error: { code: 'no-display' } });
  });
});

describe('web server streams', () => {
  it('pushes events and carries the console both ways', async () => {
    const guest = path.join(dir, 'Image');
    await fs.writeFile(guest, 'k');
    const events = await openSocket(`/${server.token}/events`, { Origin: origin });
    const seen: string[] = [];
    events.on('message', (m) => seen.push(JSON.parse(String(m)).type));
    const created = JSON.parse(
      (await call('vms.create', [{ name: 'W', memoryMiB: 128, cpus: 1, boot: { kind: 'kernel', kernel: guest, append: '' }, disk: { kind: 'none' }, network: { enabled: false } }])).body,
    );
    expect(created.ok).toBe(true);
    expect(JSON.parse((await call('vms.start', ['w'])).body)).toMatchObject({ ok: true, value: { state: 'running' } });
    const ws = await openSocket(`/${server.token}/console/w`, { Origin: origin });
    let text = '';
    ws.on('message', (m: Buffer) => (text += m.toString()));
    const until = async (s: string) => {
      for (let i = 0; i < 200 && !text.includes(s); i++) await new Promise((r) => setTimeout(r, 25));
      expect(text).toContain(s);
    };
    await until('GUEST-READY');
    ws.send('uname -a\r');
    await until('riscv64 GNU/Linux');
    await call('vms.forceOff', ['w']);
    expect(seen).toContain('vm.changed');
    events.close();
    ws.close();
  });
});
