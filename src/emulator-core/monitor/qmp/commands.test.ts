// The machine-control commands over a real socket, with QEMU 7.2's replies and event order.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type MachineControl, type RunState, registerMachineCommands } from './commands';
import { listenQmp } from './listen';
import { QmpServer } from './server';

const cleanup: (() => void)[] = [];
afterEach(() => cleanup.splice(0).forEach((f) => f()));

async function setup() {
  let state: RunState = 'running';
  const calls: string[] = [];
  const control: MachineControl = {
    state: () => state,
    pause: () => (calls.push('pause'), (state = 'paused')),
    resume: () => (calls.push('resume'), (state = 'running')),
    reset: () => void calls.push('reset'),
    powerdown: () => void calls.push('powerdown'),
    quit: () => void calls.push('quit'),
  };
  const qmp = new QmpServer();
  registerMachineCommands(qmp, control);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qmp-cmd-'));
  const server = await listenQmp(qmp, { kind: 'unix', path: path.join(dir, 'q.sock') });
  const client = net.connect(path.join(dir, 'q.sock'));
  cleanup.push(() => (client.destroy(), server.close(), rmSync(dir, { recursive: true, force: true })));
  const lines: Record<string, unknown>[] = [];
  let buf = '';
  client.setEncoding('utf8');
  client.on('data', (d: string) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\r\n')) >= 0) {
      lines.push(JSON.parse(buf.slice(0, i)));
      buf = buf.slice(i + 2);
    }
  });
  /** Sends one command; resolves with every line received up to and including its reply, and what follows within a tick. */
  const exec = async (execute: string, id: number) => {
    const from = lines.length;
    client.write(JSON.stringify({ execute, id }) + '\n');
    while (!lines.slice(from).some((l) => l.id === id)) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 20));
    return lines.slice(from).map((l) => ('event' in l ? `event ${l.event}` : 'error' in l ? `error ${(l.error as { class: string }).class}` : `return ${l.id}`));
  };
  await exec('qmp_capabilities', 0);
  return { exec, calls, lines };
}

describe('QMP machine commands', () => {
  it('query-status, stop and cont, with STOP/RESUME before the reply, and no event when nothing changes', async () => {
    const { exec, calls, lines } = await setup();
    expect(await exec('query-status', 1)).toEqual(['return 1']);
    expect(lines.at(-1)).toMatchObject({ return: { status: 'running', singlestep: false, running: true } });
    expect(await exec('stop', 2)).toEqual(['event STOP', 'return 2']);
    expect(await exec('stop', 3)).toEqual(['return 3']);
    await exec('query-status', 4);
    expect(lines.at(-1)).toMatchObject({ return: { status: 'paused', running: false } });
    expect(await exec('cont', 5)).toEqual(['event RESUME', 'return 5']);
    expect(calls).toEqual(['pause', 'resume']);
  });

  it('reset, powerdown and quit send their events before the reply, as QEMU 7.2 does', async () => {
    const { exec, calls, lines } = await setup();
    expect(await exec('system_reset', 1)).toEqual(['event RESET', 'return 1']);
    expect(lines.at(-2)).toMatchObject({ data: { guest: false, reason: 'host-qmp-system-reset' } });
    expect(await exec('system_powerdown', 2)).toEqual(['event POWERDOWN', 'return 2']);
    expect(await exec('quit', 3)).toEqual(['event SHUTDOWN', 'return 3']);
    expect(lines.at(-2)).toMatchObject({ data: { guest: false, reason: 'host-qmp-quit' } });
    expect(calls).toEqual(['reset', 'powerdown', 'quit']);
    expect(await exec('migrate', 4)).toEqual(['error CommandNotFound']);
  });
});
