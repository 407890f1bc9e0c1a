import { connect } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSerial } from './serial';

describe('serial socket backends', () => {
  it('unix server, wait=off: the guest line reaches the client and back; no client means dropped output', async () => {
    const sock = path.join(mkdtempSync(path.join(tmpdir(), 'viv-serial-')), 's.sock');
    const typed: string[] = [];
    const serial = openSerial({ kind: 'unix', path: sock, server: true, wait: false }, { input: (b) => typed.push(Buffer.from(b).toString()), quit: () => {} });
    await serial.ready();
    serial.write(new TextEncoder().encode('lost '));
    const client = connect(sock);
    await new Promise((r) => client.once('connect', r));
    await new Promise((r) => setTimeout(r, 50));
    const got = new Promise<string>((r) => client.once('data', (d) => r(d.toString())));
    serial.write(new TextEncoder().encode('login: '));
    expect(await got).toBe('login: ');
    client.write('root\n');
    await new Promise((r) => setTimeout(r, 50));
    expect(typed.join('')).toBe('root\n');
    client.destroy();
    serial.close();
  });

  it('tcp server with wait=on is ready only once a client connects', async () => {
    const serial = openSerial({ kind: 'tcp', host: '127.0.0.1', port: 0, server: true, wait: true }, { input: () => {}, quit: () => {} });
    let ready = false;
    const p = serial.ready().then(() => (ready = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(ready).toBe(false);
    serial.close();
    void p;
  });
});
