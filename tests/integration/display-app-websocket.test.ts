// The app's display in web mode without main in the path: AppServices + the web server start a VM
// with a display; `vms.display` names the core host's own WebSocket (127.0.0.1, a port that is not
// the web server's) and this run's VNC password; the web server has no display route; the core
// host refuses a WebSocket without our Origin or from another page, and a login with a wrong
// password, and shows the screen to the right one. Against our core host (`viv run`, built in
// out/) and against QEMU 7.2 given the same argv (set_password and query-vnc-servers as QEMU
// answers them; QEMU does not check Origin). A few seconds each: the guest need not finish booting.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, createWebSocketStream } from 'ws';
import { RfbClient } from '../../src/emulator-core/display/rfb/client';
import { AppServices } from '../../src/main/services/app-services';
import { NodeForkLauncher } from '../../src/main/services/launcher';
import { startWebServer, type WebServer } from '../../src/main/web/web-server';

const root = path.resolve(import.meta.dirname, '../..');
const guestDir = path.resolve(root, '../shared/guests/riscv64');
const hosts = {
  viv: path.join(root, 'out/cli/viv.mjs'),
  qemu: path.join(root, 'tests/e2e/qemu-core-host.mjs'),
};

let services: AppServices | undefined;
let server: WebServer | undefined;
let dir: string | undefined;
afterEach(async () => {
  await server?.close();
  await services?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  services = server = dir = undefined;
});

/** The status of a WebSocket handshake (101 when it opened), and a byte stream on it if it did. */
function handshake(url: string, headers: Record<string, string>): Promise<{ status: number; stream?: Duplex }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, ['binary'], { headers });
    // The stream listens before 'open': the server's ProtocolVersion can come in the same tick.
    const stream = createWebSocketStream(ws);
    stream.on('error', () => undefined);
    ws.once('open', () => resolve({ status: 101, stream }));
    ws.once('unexpected-response', (_q, r) => resolve({ status: r.statusCode ?? 0 }));
    ws.once('error', () => resolve({ status: -1 }));
  });
}

describe.skipIf(!existsSync(path.join(guestDir, 'Image')))('the display WebSocket of a core host, in web mode', () => {
  for (const [kind, entry] of Object.entries(hosts)) {
    it.skipIf(kind === 'viv' && !existsSync(entry))(`reaches the core host directly, with its password and only from our page (${kind})`, async () => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'viv-dispws-'));
      services = await AppServices.open({ dataDir: dir, launcher: new NodeForkLauncher(), hostEntry: entry, hostArgsPrefix: ['run'], qmp: true, version: 'test' });
      server = await startWebServer({ services, rendererDir: dir });
      const origin = `http://127.0.0.1:${server.port}`;
      const call = async (channel: string, ...args: unknown[]) => {
        const res = await fetch(new URL(`api/${channel}`, server!.url), { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: origin }, body: JSON.stringify({ args }) });
        return (await res.json()) as { ok: boolean; value?: Record<string, unknown>; error?: { code: string } };
      };
      const vm = await call('vms.create', {
        name: 'Screen',
        memoryMiB: 128,
        cpus: 1,
        boot: { kind: 'kernel', kernel: path.join(guestDir, 'Image'), initrd: path.join(guestDir, 'initramfs.cpio.gz'), append: 'console=ttyS0 console=tty0' },
        disk: { kind: 'none' },
        network: { enabled: false },
        display: { enabled: true },
      });
      const id = vm.value!.id as string;
      const started = await call('vms.start', id);
      expect(started.error).toBeUndefined();

      const reply = await call('vms.display', id);
      expect(reply.error).toBeUndefined();
      const { url, password } = reply.value as { url: string; password: string };
      const where = new URL(url);
      expect(where.hostname).toBe('127.0.0.1');
      expect(Number(where.port)).not.toBe(server.port);
      expect(password).toMatch(/^[\w-]{8}$/);

      // The web server carries no display bytes: its old route is gone.
      expect((await handshake(`ws://127.0.0.1:${server.port}/${server.token}/display/${id}`, { Origin: origin })).status).toBe(404);

      if (kind === 'viv') {
        expect((await handshake(url, {})).status).toBe(403);
        expect((await handshake(url, { Origin: 'http://evil.example' })).status).toBe(403);
        expect((await handshake(url, { Origin: `http://127.0.0.1:${server.port + 1}` })).status).toBe(403);
      }
      const login = async (pw: string) => {
        const { status, stream } = await handshake(url, { Origin: origin });
        expect(status).toBe(101);
        return RfbClient.connect(stream!, { password: pw });
      };
      await expect(login('wrong')).rejects.toThrow();
      const client = await login(password);
      expect(client.width).toBeGreaterThan(0);
      await client.update(false);
      client.close();

      expect((await call('vms.forceOff', id)).ok).toBe(true);
    });
  }
});
