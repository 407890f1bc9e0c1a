// The supervisor against the fake core host (tests/e2e/fake-core-host.mjs), which speaks the same
// serial and QMP sockets as `viv run`: start, console both ways, QMP control, crash, force off.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { VmConfig } from '../../shared/vm-config';
import { NodeForkLauncher } from './launcher';
import { Supervisor } from './supervisor';

const fakeHost = path.resolve(import.meta.dirname, '../../../tests/e2e/fake-core-host.mjs');
const config: VmConfig = {
  version: 1,
  id: 'sv-test',
  name: 'SV',
  createdAt: '2026-01-01T00:00:00.000Z',
  machine: 'virt',
  memoryMiB: 128,
  cpus: 1,
  boot: { kind: 'kernel', kernel: fakeHost, append: 'console=ttyS0' },
  disk: { kind: 'none' },
  network: { enabled: false },
};

let supervisor: Supervisor | undefined;
afterEach(async () => {
  await supervisor?.stopAll();
});

function make(qmp: boolean) {
  const changes: string[] = [];
  supervisor = new Supervisor({
    launcher: new NodeForkLauncher(),
    hostEntry: fakeHost,
    hostArgsPrefix: ['run'],
    qmp,
    quitGraceMs: 1000,
    onChange: () => changes.push(supervisor!.status(config.id).state),
  });
  return { sv: supervisor, changes };
}

async function waitFor(predicate: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('Supervisor over QMP', () => {
  it('starts, relays the console both ways, pauses and resumes, and stops cleanly', async () => {
    const { sv, changes } = make(true);
    await sv.start(config);
    expect(sv.status(config.id)).toMatchObject({ state: 'running', control: 'qmp' });
    let text = '';
    const session = sv.attachConsole(config.id, (b) => (text += Buffer.from(b).toString()));
    await waitFor(() => text.includes('GUEST-READY'));
    session.write('uname -a\r');
    await waitFor(() => text.includes('riscv64 GNU/Linux'));

    await sv.pause(config.id);
    expect(sv.status(config.id).state).toBe('paused');
    await sv.resume(config.id);
    expect(sv.status(config.id).state).toBe('running');
    await sv.reset(config.id);

    await sv.forceOff(config.id);
    expect(sv.status(config.id).state).toBe('stopped');
    expect(changes).toContain('starting');
    expect(changes.at(-1)).toBe('stopped');
    // The last run's console stays readable after the stop.
    let after = '';
    sv.attachConsole(config.id, (b) => (after += Buffer.from(b).toString()));
    expect(after).toContain('GUEST-READY');
  });

  it('marks a VM whose host dies unasked as crashed, with its last console lines', async () => {
    const { sv } = make(true);
    await sv.start(config);
    let text = '';
    const session = sv.attachConsole(config.id, (b) => (text += Buffer.from(b).toString()));
    await waitFor(() => text.includes('GUEST-READY'));
    session.write('crash\r');
    await waitFor(() => sv.status(config.id).state === 'crashed');
    const status = sv.status(config.id);
    expect(status.stateReason).toBe('The core host exited with status 3');
    expect(status.lastConsole?.join('\n')).toMatch(/Kernel panic/);
  });

  it('a guest power-off (exit 0) is a stop, not a crash', async () => {
    const { sv } = make(true);
    await sv.start(config);
    await sv.shutdown(config.id);
    await waitFor(() => !sv.isActive(config.id));
    expect(sv.status(config.id).state).toBe('stopped');
  });

  it('reports a host that fails to start, with its own message', async () => {
    const { sv } = make(true);
    const bad = { ...config, boot: { kind: 'kernel' as const, kernel: '/no/such/Image', append: '' } };
    await expect(sv.start(bad)).rejects.toThrow('SV: The VM did not start: the core host exited with status 1');
    expect(sv.status(config.id).lastConsole?.join('\n')).toMatch(/cannot read \/no\/such\/Image/);
  });
});

describe('Supervisor without QMP (signals)', () => {
  it('pauses with SIGSTOP and says so, refuses reset, force-off kills', async () => {
    const { sv } = make(false);
    await sv.start(config);
    expect(sv.status(config.id).control).toBe('signals');
    await sv.pause(config.id);
    expect(sv.status(config.id)).toMatchObject({ state: 'paused', stateReason: expect.stringMatching(/SIGSTOP/) });
    await sv.resume(config.id);
    await expect(sv.reset(config.id)).rejects.toMatchObject({ code: 'no-qmp' });
    await sv.forceOff(config.id);
    expect(sv.status(config.id).state).toBe('stopped');
  });
});
