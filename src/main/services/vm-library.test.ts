import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { VmConfig } from '../../shared/vm-config';
import { writeFileAtomic } from './atomic-file';
import { LibraryLock } from './library-lock';
import { dataRoot } from './paths';
import { SettingsStore } from './settings-store';
import { VmLibrary } from './vm-library';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'viv-lib-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const config = (id: string, name: string): VmConfig => ({
  version: 1,
  id,
  name,
  createdAt: '2026-01-01T00:00:00.000Z',
  machine: 'virt',
  memoryMiB: 256,
  cpus: 1,
  boot: { kind: 'kernel', kernel: '/k', append: 'console=ttyS0' },
  disk: { kind: 'none' },
  network: { enabled: false },
});

describe('VmLibrary', () => {
  it('stores one folder per VM and loads it back', async () => {
    const lib = new VmLibrary(path.join(dir, 'vms'));
    const { id } = await lib.allocate('My First VM!');
    expect(id).toBe('my-first-vm');
    await lib.save(config(id, 'My First VM!'));
    const again = await lib.allocate('My First VM!');
    expect(again.id).toBe('my-first-vm-2');
    const items = await new VmLibrary(path.join(dir, 'vms')).list();
    expect(items.map((i) => i.id)).toEqual(['my-first-vm', 'my-first-vm-2']);
    expect('config' in items[0]! && items[0].config.name).toBe('My First VM!');
    // The half-made second folder has no config yet: it shows as broken, not as an error.
    expect('broken' in items[1]! && items[1].broken).toBe('config.json is missing');
  });

  it('shows a corrupt config as broken with the reason, and loads the rest', async () => {
    const lib = new VmLibrary(path.join(dir, 'vms'));
    for (const id of ['a', 'b', 'c']) {
      await lib.allocate(id);
      await lib.save(config(id, id.toUpperCase()));
    }
    await fs.writeFile(path.join(dir, 'vms/b/config.json'), '{"version": 1, "id": "b", trunc');
    await fs.writeFile(path.join(dir, 'vms/c/config.json'), JSON.stringify({ ...config('c', 'C'), memoryMiB: 1 }));
    const items = await lib.list();
    expect('config' in items[0]!).toBe(true);
    expect('broken' in items[1]! && items[1].broken).toMatch(/not valid JSON/);
    expect('broken' in items[2]! && items[2].broken).toMatch(/memoryMiB/);
    await expect(lib.get('b')).rejects.toThrow(/broken/);
    await expect(lib.get('zz')).rejects.toThrow(/No VM/);
    await expect(lib.get('../x')).rejects.toThrow(/No VM/);
  });

  it('refuses a taken name, case-insensitively, but not the VM\'s own', async () => {
    const lib = new VmLibrary(path.join(dir, 'vms'));
    await lib.allocate('a');
    await lib.save(config('a', 'Alpha'));
    await expect(lib.assertNameFree('alpha')).rejects.toMatchObject({ code: 'name-taken', field: 'name' });
    await expect(lib.assertNameFree('alpha', 'a')).resolves.toBeUndefined();
    expect((await lib.update('a', { memoryMiB: 512 })).memoryMiB).toBe(512);
  });
});

describe('writeFileAtomic', () => {
  it('replaces the file whole and leaves no temp files', async () => {
    const file = path.join(dir, 'x.json');
    await writeFileAtomic(file, 'one');
    await writeFileAtomic(file, 'two');
    expect(await fs.readFile(file, 'utf8')).toBe('two');
    expect(await fs.readdir(dir)).toEqual(['x.json']);
  });
});

describe('LibraryLock', () => {
  it('refuses a second live owner with a clear message and takes over a stale lock', async () => {
    const file = path.join(dir, 'library.lock');
    // pid 1 is always alive: another instance holds the library.
    await fs.writeFile(file, JSON.stringify({ pid: 1, host: os.hostname(), since: 'then' }));
    await expect(LibraryLock.acquire(file)).rejects.toThrow(/Another Vivarium \(process 1/);
    // A pid that cannot exist: its owner was killed.
    await fs.writeFile(file, JSON.stringify({ pid: 2 ** 22 + 7, host: os.hostname(), since: 'then' }));
    const lock = await LibraryLock.acquire(file);
    expect(JSON.parse(await fs.readFile(file, 'utf8')).pid).toBe(process.pid);
    await lock.release();
    await expect(fs.stat(file)).rejects.toThrow();
  });
});

describe('paths and settings', () => {
  it('follows XDG_DATA_HOME', () => {
    expect(dataRoot({ XDG_DATA_HOME: '/x/data' })).toBe('/x/data/vivarium');
    expect(dataRoot({ XDG_DATA_HOME: 'relative', HOME: '/h' })).toMatch(/\.local\/share\/vivarium$/);
  });

  it('falls back to defaults on a bad file and saves changes', async () => {
    const file = path.join(dir, 'settings.json');
    await fs.writeFile(file, 'garbage');
    const store = new SettingsStore(file);
    expect((await store.get()).defaultMemoryMiB).toBe(512);
    await store.set({ defaultMemoryMiB: 1024 });
    expect((await new SettingsStore(file).get()).defaultMemoryMiB).toBe(1024);
    await expect(store.set({ consoleFontSize: 99 })).rejects.toThrow();
  });
});
