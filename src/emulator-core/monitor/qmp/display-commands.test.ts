// screendump and set_password over a real QMP socket, with QEMU 7.2's argument shapes.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { registerDisplayCommands, type DisplayControl } from './display-commands';
import { listenQmp } from './listen';
import { QmpServer } from './server';

const cleanup: (() => void)[] = [];
afterEach(() => cleanup.splice(0).forEach((f) => f()));

const sockets = {
  servers: [
    { host: '', service: '/run/vm.vnc', family: 'unix' as const, websocket: false },
    { host: '127.0.0.1', service: '40123', family: 'ipv4' as const, websocket: true },
  ],
  clients: [{ host: '127.0.0.1', service: '50000', family: 'ipv4' as const, websocket: true }],
};

async function setup(vnc = { enabled: true, passwordAuth: true }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qmp-display-'));
  const calls: string[] = [];
  const control: DisplayControl = {
    screendump: async (file, format) => {
      calls.push(`screendump ${path.basename(file)} ${format}`);
      if (file.includes('missing/')) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    },
    vnc: () => vnc,
    setVncPassword: (pw) => void calls.push(`password ${pw}`),
    vncSockets: () => sockets,
  };
  const qmp = new QmpServer();
  registerDisplayCommands(qmp, control);
  const server = await listenQmp(qmp, { kind: 'unix', path: path.join(dir, 'q.sock') });
  const client = net.connect(path.join(dir, 'q.sock'));
  cleanup.push(() => (client.destroy(), server.close(), rmSync(dir, { recursive: true, force: true })));
  const replies: Record<string, unknown>[] = [];
  let buf = '';
  client.setEncoding('utf8');
  client.on('data', (d: string) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\r\n')) >= 0) {
      replies.push(JSON.parse(buf.slice(0, i)));
      buf = buf.slice(i + 2);
    }
  });
  let id = 0;
  const exec = async (execute: string, args?: Record<string, unknown>) => {
    const n = ++id;
    client.write(JSON.stringify({ execute, arguments: args, id: n }) + '\n');
    for (;;) {
      const r = replies.find((l) => l.id === n);
      if (r) return r;
      await new Promise((res) => setTimeout(res, 5));
    }
  };
  await exec('qmp_capabilities');
  return { exec, calls, dir };
}

describe('QMP display commands', () => {
  it('screendump: ppm by default, png on request, file errors as QEMU words them', async () => {
    const { exec, calls, dir } = await setup();
    expect(await exec('screendump', { filename: path.join(dir, 'a.ppm') })).toMatchObject({ return: {} });
    expect(await exec('screendump', { filename: path.join(dir, 'b.png'), format: 'png' })).toMatchObject({ return: {} });
    expect(calls).toEqual(['screendump a.ppm ppm', 'screendump b.png png']);
    expect(await exec('screendump', { filename: '/missing/x.ppm' })).toMatchObject({ error: { class: 'GenericError', desc: "Could not open '/missing/x.ppm': No such file or directory" } });
    expect(await exec('screendump', { filename: 'x', format: 'bmp' })).toMatchObject({ error: { class: 'GenericError' } });
    expect(await exec('screendump', {})).toMatchObject({ error: { desc: "Parameter 'filename' is missing" } });
  });

  it('set_password for VNC, refused when VNC or its password auth is off', async () => {
    const on = await setup();
    expect(await on.exec('set_password', { protocol: 'vnc', password: 'pw1' })).toMatchObject({ return: {} });
    expect(on.calls).toEqual(['password pw1']);
    expect(await on.exec('set_password', { protocol: 'vnc', password: 'x', connected: 'disconnect' })).toMatchObject({ error: { class: 'GenericError' } });
    expect(await on.exec('set_password', { protocol: 'spice', password: 'x' })).toMatchObject({ error: { class: 'GenericError' } });
    const off = await setup({ enabled: true, passwordAuth: false });
    expect(await off.exec('set_password', { protocol: 'vnc', password: 'x' })).toMatchObject({ error: { desc: expect.stringMatching(/password=on/) } });
    const none = await setup({ enabled: false, passwordAuth: false });
    expect(await none.exec('set_password', { protocol: 'vnc', password: 'x' })).toMatchObject({ error: { desc: expect.stringMatching(/not enabled/) } });
  });

  it('query-vnc-servers: the listeners (the WebSocket marked) and clients, in QEMU 7.2\'s shape', async () => {
    const on = await setup();
    expect(await on.exec('query-vnc-servers')).toMatchObject({
      return: [
        {
          id: 'default',
          auth: 'vnc',
          clients: sockets.clients,
          server: [
            { host: '', service: '/run/vm.vnc', family: 'unix', websocket: false, auth: 'vnc' },
            { host: '127.0.0.1', service: '40123', family: 'ipv4', websocket: true, auth: 'vnc' },
          ],
        },
      ],
    });
    expect(await (await setup({ enabled: false, passwordAuth: false })).exec('query-vnc-servers')).toMatchObject({ return: [] });
  });
});
