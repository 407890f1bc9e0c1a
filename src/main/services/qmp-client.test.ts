// The QMP client against a scripted server speaking QEMU's wire format: greeting, negotiation,
// replies matched by id, events, errors, and a connection that drops mid-command.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { QmpClient, QmpCommandError, type QmpEvent } from './qmp-client';

const servers: net.Server[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));

/** A server that greets, then answers each command line with `answer(command)` (lines or nothing). */
async function scripted(answer: (cmd: { execute: string; id?: unknown }, socket: net.Socket) => string[]) {
  const server = net.createServer((socket) => {
    socket.write('{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": ""}, "capabilities": ["oob"]}}\r\n');
    let buf = '';
    socket.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const cmd = JSON.parse(buf.slice(0, i));
        buf = buf.slice(i + 1);
        for (const line of answer(cmd, socket)) socket.write(line + '\r\n');
      }
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return new Promise<net.Socket>((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
  });
}

describe('QmpClient', () => {
  it('negotiates, matches replies by id whatever their order, and passes events on', async () => {
    const held: string[] = [];
    const socket = await scripted((cmd) => {
      const id = JSON.stringify(cmd.id);
      if (cmd.execute === 'qmp_capabilities') return [`{"return": {}, "id": ${id}}`];
      if (cmd.execute === 'slow') {
        held.push(`{"return": "slow", "id": ${id}}`);
        return [];
      }
      // A garbled line and an event arrive before the reply; the held reply comes after.
      return ['not json', '{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "STOP"}', `{"return": {"status": "paused"}, "id": ${id}}`, ...held.splice(0)];
    });
    const client = await QmpClient.open(socket);
    const events: QmpEvent[] = [];
    client.on('event', (e) => events.push(e));
    const slow = client.execute('slow');
    expect(await client.execute('query-status')).toEqual({ status: 'paused' });
    expect(await slow).toBe('slow');
    expect(events.map((e) => e.event)).toEqual(['STOP']);
    client.close();
  });

  it('turns error replies into QmpCommandError with their class', async () => {
    const socket = await scripted((cmd) => [
      cmd.execute === 'qmp_capabilities'
        ? `{"return": {}, "id": ${JSON.stringify(cmd.id)}}`
        : `{"id": ${JSON.stringify(cmd.id)}, "error": {"class": "CommandNotFound", "desc": "The command nope has not been found"}}`,
    ]);
    const client = await QmpClient.open(socket);
    const err = await client.execute('nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QmpCommandError);
    expect(err).toMatchObject({ errorClass: 'CommandNotFound', message: 'CommandNotFound: The command nope has not been found' });
    client.close();
  });

  it('rejects what is pending when the connection drops, and refuses new commands', async () => {
    const socket = await scripted((cmd, s) => {
      if (cmd.execute === 'qmp_capabilities') return [`{"return": {}, "id": ${JSON.stringify(cmd.id)}}`];
      s.destroy();
      return [];
    });
    const client = await QmpClient.open(socket);
    await expect(client.execute('quit')).rejects.toThrow(/closed/);
    await expect(client.execute('query-status')).rejects.toThrow(/closed/);
  });

  it('refuses a server that is not QMP', async () => {
    const server = net.createServer((s) => s.write('{"hello": 1}\r\n'));
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const socket = await new Promise<net.Socket>((r) => {
      const s = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1', () => r(s));
    });
    await expect(QmpClient.open(socket, 500)).rejects.toThrow(/no QMP greeting/);
    socket.destroy();
  });
});
