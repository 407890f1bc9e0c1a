import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { QmpServer } from './server';
import { listenQmp } from './listen';
import { genericError } from './wire';

/** A line-oriented client over a real unix socket, as management scripts use QMP. */
async function connect(qmp: QmpServer) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qmp-'));
  const sock = path.join(dir, 'qmp.sock');
  const server = await listenQmp(qmp, { kind: 'unix', path: sock });
  const client = net.connect(sock);
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  let buf = '';
  client.setEncoding('utf8');
  client.on('data', (d: string) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\r\n')) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 2);
      waiters.splice(0).forEach((w) => w());
    }
  });
  const next = async (): Promise<string> => {
    while (lines.length === 0) await new Promise<void>((r) => waiters.push(r));
    return lines.shift()!;
  };
  const send = (text: string) => client.write(text + '\n');
  cleanup.push(() => {
    client.destroy();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { next, send };
}

const cleanup: Array<() => void> = [];
afterEach(() => cleanup.splice(0).forEach((f) => f()));

describe('QmpServer', () => {
  it('greets, insists on negotiation, then runs commands with QEMU 7.2 shapes', async () => {
    const qmp = new QmpServer({ major: 7, minor: 2, micro: 0, package: 'vivarium' });
    qmp.register('query-status', { run: () => ({ status: 'running', singlestep: false, running: true }) });
    const c = await connect(qmp);
    expect(await c.next()).toBe(
      '{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": "vivarium"}, "capabilities": ["oob"]}}',
    );
    c.send('{"execute":"query-status"}');
    expect(await c.next()).toBe(
      `{"error": {"class": "CommandNotFound", "desc": "Expecting capabilities negotiation with 'qmp_capabilities'"}}`,
    );
    c.send('{"execute":"qmp_capabilities","id":1}');
    expect(await c.next()).toBe('{"return": {}, "id": 1}');
    c.send('{"execute":"qmp_capabilities"}');
    expect(await c.next()).toBe(
      '{"error": {"class": "CommandNotFound", "desc": "Capabilities negotiation is already complete, command ignored"}}',
    );
    c.send('{"execute":"query-status","id":{"a":[1]}}');
    expect(await c.next()).toBe('{"return": {"status": "running", "singlestep": false, "running": true}, "id": {"a": [1]}}');
    c.send('{"execute":"huh","id":"x"}');
    expect(await c.next()).toBe('{"id": "x", "error": {"class": "CommandNotFound", "desc": "The command huh has not been found"}}');
  });

  it('answers malformed input as QEMU does and stays usable', async () => {
    const qmp = new QmpServer();
    qmp.register('echo', { args: { text: { type: 'str' }, n: { type: 'int', optional: true } }, run: (a) => a.text! });
    const c = await connect(qmp);
    await c.next();
    c.send('{"execute":"qmp_capabilities"}');
    await c.next();
    const cases: Array<[string, string]> = [
      ['{bad}', `{"error": {"class": "GenericError", "desc": "JSON parse error, invalid keyword 'bad'"}}`],
      ['[1,2]', '{"error": {"class": "GenericError", "desc": "QMP input must be a JSON object"}}'],
      ['{"foo":1}', `{"error": {"class": "GenericError", "desc": "QMP input member 'foo' is unexpected"}}`],
      ['{"execute":1}', `{"error": {"class": "GenericError", "desc": "QMP input member 'execute' must be a string"}}`],
      ['{"execute":"echo","arguments":[1]}', `{"error": {"class": "GenericError", "desc": "QMP input member 'arguments' must be an object"}}`],
      ['{"execute":"echo"}', `{"error": {"class": "GenericError", "desc": "Parameter 'text' is missing"}}`],
      ['{"execute":"echo","arguments":{"text":1}}', `{"error": {"class": "GenericError", "desc": "Invalid parameter type for 'text', expected: string"}}`],
      ['{"execute":"echo","arguments":{"text":"a","x":1}}', `{"error": {"class": "GenericError", "desc": "Parameter 'x' is unexpected"}}`],
      ['{"execute":"echo","arguments":{"text":"hi"}}', '{"return": "hi"}'],
    ];
    for (const [input, expected] of cases) {
      c.send(input);
      expect(await c.next()).toBe(expected);
    }
  });

  it('turns handler errors into GenericError and broadcasts events to negotiated sessions only', async () => {
    const qmp = new QmpServer();
    qmp.register('fail', { run: () => { throw genericError('no block device can store vmstate for snapshot'); } });
    const a = await connect(qmp);
    const b = await connect(qmp);
    await a.next();
    await b.next();
    a.send('{"execute":"qmp_capabilities"}');
    await a.next();
    a.send('{"execute":"fail"}');
    expect(await a.next()).toBe('{"error": {"class": "GenericError", "desc": "no block device can store vmstate for snapshot"}}');
    qmp.emit('STOP');
    qmp.emit('RESET', { guest: false, reason: 'host-qmp-system-reset' });
    expect(await a.next()).toMatch(/^\{"timestamp": \{"seconds": \d+, "microseconds": \d+\}, "event": "STOP"\}$/);
    expect(await a.next()).toMatch(/"event": "RESET", "data": \{"guest": false, "reason": "host-qmp-system-reset"\}\}$/);
    // b never negotiated: the first thing it hears is the answer to its own command.
    b.send('{"execute":"query-version"}');
    expect(await b.next()).toContain('Expecting capabilities negotiation');
  });
});
