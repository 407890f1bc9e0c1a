// The services behind the API contract, as both transports call them: validation, create with
// file checks, the wizard's error messages, start/stop through the supervisor, delete.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppEvent } from '../../shared/api';
import { AppServices } from './app-services';
import { NodeForkLauncher } from './launcher';

const fakeHost = path.resolve(import.meta.dirname, '../../../tests/e2e/fake-core-host.mjs');
let dir: string;
let services: AppServices;
let events: AppEvent[];

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'viv-app-'));
  await fs.writeFile(path.join(dir, 'Image'), 'kernel');
  await fs.writeFile(path.join(dir, 'initramfs.cpio.gz'), 'initrd');
  services = await AppServices.open({
    dataDir: path.join(dir, 'data'),
    launcher: new NodeForkLauncher(),
    hostEntry: fakeHost,
    hostArgsPrefix: ['run'],
    qmp: true,
    guestDir: dir,
    version: 'test',
  });
  events = [];
  services.onEvent((e) => events.push(e));
});
afterEach(async () => {
  await services.close();
  await fs.rm(dir, { recursive: true, force: true });
});

const request = () => ({
  name: 'Demo',
  memoryMiB: 256,
  cpus: 1,
  boot: { kind: 'kernel', kernel: path.join(dir, 'Image'), initrd: path.join(dir, 'initramfs.cpio.gz'), append: 'console=ttyS0' },
  disk: { kind: 'none' },
  network: { enabled: false },
});

describe('AppServices', () => {
  it('offers the demo guest and the host limits', async () => {
    const r = await services.invoke('host.info', []);
    expect(r).toMatchObject({ ok: true, value: { demoGuest: { kernel: path.join(dir, 'Image') } } });
  });

  it('refuses unknown channels and bad arguments before any service runs', async () => {
    expect(await services.invoke('vms.nuke', [])).toMatchObject({ ok: false, error: { code: 'bad-channel' } });
    expect(await services.invoke('toString', [])).toMatchObject({ ok: false, error: { code: 'bad-channel' } });
    const r = await services.invoke('vms.create', [{ ...request(), memoryMiB: 4 }]);
    expect(r).toMatchObject({ ok: false, error: { code: 'bad-arguments', field: 'memoryMiB' } });
  });

  it('gives the wizard clear messages: missing file, name taken, memory over the host', async () => {
    const missing = { ...request(), boot: { kind: 'kernel', kernel: path.join(dir, 'nope'), append: '' } };
    expect(await services.invoke('vms.create', [missing])).toMatchObject({
      ok: false,
      error: { field: 'kernel', message: `Kernel not found: ${path.join(dir, 'nope')}` },
    });
    expect((await services.invoke('vms.create', [request()])).ok).toBe(true);
    expect(await services.invoke('vms.create', [{ ...request(), name: 'demo' }])).toMatchObject({
      ok: false,
      error: { field: 'name', message: "A VM named 'Demo' already exists" },
    });
    expect(await services.invoke('vms.create', [{ ...request(), name: 'Big', memoryMiB: 65536 }])).toMatchObject({
      ok: false,
      error: { field: 'memoryMiB', message: expect.stringMatching(/at most \d+ MiB/) },
    });
    // A failed create leaves no folder behind.
    const list = await services.invoke('vms.list', []);
    expect(list.ok && (list.value as unknown[]).length).toBe(1);
  });

  it('creates a VM with a new QCOW2 disk, runs it, refuses edits while running, deletes it', async () => {
    const created = await services.invoke('vms.create', [{ ...request(), disk: { kind: 'new', sizeGiB: 1 } }]);
    expect(created).toMatchObject({ ok: true, value: { id: 'demo', state: 'stopped', config: { disk: { format: 'qcow2', owned: true } } } });
    expect(events.some((e) => e.type === 'progress' && e.done)).toBe(true);
    expect(await services.invoke('vms.start', ['demo'])).toMatchObject({ ok: true, value: { state: 'running' } });
    expect(await services.invoke('vms.update', ['demo', { memoryMiB: 512 }])).toMatchObject({
      ok: false,
      error: { code: 'vm-running' },
    });
    expect(await services.invoke('vms.delete', ['demo', { deleteDisks: true }])).toMatchObject({ ok: false });
    expect(await services.invoke('vms.forceOff', ['demo'])).toMatchObject({ ok: true, value: { state: 'stopped' } });
    expect(await services.invoke('vms.update', ['demo', { memoryMiB: 512 }])).toMatchObject({
      ok: true,
      value: { config: { memoryMiB: 512 } },
    });
    expect(await services.invoke('vms.delete', ['demo', { deleteDisks: false }])).toEqual({ ok: true, value: null });
    // "Keep disks": the disk the library made survives the VM.
    expect(await fs.readdir(path.join(dir, 'data', 'kept-disks'))).toEqual(['demo-disk.qcow2']);
    expect(events).toContainEqual({ type: 'vm.removed', id: 'demo' });
    // The image graph changes too: the kept disk no longer has a user.
    expect(events.slice(events.findIndex((e) => e.type === 'vm.removed'))).toContainEqual({ type: 'images.changed' });
  });
});
