// The app's snapshot timeline against a real core host (`viv run`, QMP jobs): the services as both
// transports call them, on a tiny guest that counts in RAM and prints each tick, so a restore
// shows at once (the count goes back). Live save/restore/delete while it runs, disk-only ones while
// it is stopped, the tree, refusals, a VM without a disk (its state disk), a raw disk, snapshots
// made and deleted outside the app; Debian's qemu-img lists and checks the disk after each step.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiResult, Channel } from '../../src/shared/api';
import { AppServices } from '../../src/main/services/app-services';
import { NodeForkLauncher } from '../../src/main/services/launcher';
import { repo } from './boot-guest';

const vivEntry = path.join(repo, 'out/cli/viv.mjs');
const hasTools = spawnSync('riscv64-unknown-elf-gcc', ['--version']).status === 0 && spawnSync('qemu-img', ['--version']).status === 0;

let dir: string;
let services: AppServices;
let counter: string;

async function call<C extends Channel>(channel: C, ...args: unknown[]): Promise<ApiResult<C>> {
  const reply = await services.invoke(channel, args);
  if (!reply.ok) throw Object.assign(new Error(reply.error.message), { code: reply.error.code });
  return reply.value as ApiResult<C>;
}

/** qemu-img check must be clean; -U as the VM may hold the image open. */
function qemuCheck(file: string): void {
  const r = spawnSync('qemu-img', ['check', '-U', file], { encoding: 'utf8' });
  expect(r.status, r.stdout + r.stderr).toBe(0);
}

function qemuSnapshots(file: string): string[] {
  const out = execFileSync('qemu-img', ['snapshot', '-U', '-l', file], { encoding: 'utf8' });
  return out.split('\n').slice(2).filter(Boolean).map((l) => l.trim().split(/\s+/)[1]!);
}

/** The console of one VM as text, with a wait for a pattern after a given point. */
function consoleOf(id: string) {
  let text = '';
  const session = services.attachConsole(id, (b) => (text += Buffer.from(b).toString('utf8')));
  const ticks = (from = 0) => [...text.slice(from).matchAll(/tick (\d+)\r?\n/g)].map((m) => Number(m[1]));
  return {
    get length() {
      return text.length;
    },
    ticks,
    async waitTick(pred: (n: number) => boolean, from = 0, timeoutMs = 60_000): Promise<number> {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const hit = ticks(from).find(pred);
        if (hit !== undefined) return hit;
        if (Date.now() > end) throw new Error(`no such tick; console ends: ${text.slice(-200)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: () => session.close(),
  };
}

async function waitState(id: string, state: string): Promise<void> {
  const end = Date.now() + 30_000;
  while (services.supervisor.status(id).state !== state) {
    if (Date.now() > end) throw new Error(`VM ${id} never became ${state}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const lastTick = (lines: string[]) => Math.max(...lines.map((l) => /^tick (\d+)$/.exec(l)?.[1]).filter(Boolean).map(Number));

beforeAll(async () => {
  if (!hasTools) return;
  if (!existsSync(vivEntry)) throw new Error('build first: npm run build');
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'viv-app-snap-'));
  counter = path.join(dir, 'counter.elf');
  execFileSync('riscv64-unknown-elf-gcc', [
    '-march=rv64gc', '-mabi=lp64d', '-mcmodel=medany', '-nostdlib', '-nostartfiles',
    '-T', path.join(repo, 'tests/fixtures/riscv/link.ld'), '-o', counter, path.join(repo, 'tests/fixtures/app/counter.S'),
  ]);
  services = await AppServices.open({
    dataDir: path.join(dir, 'data'),
    launcher: new NodeForkLauncher(),
    hostEntry: vivEntry,
    hostArgsPrefix: ['run'],
    qmp: true,
    version: 'test',
  });
});

afterAll(async () => {
  await services?.close();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

const vmRequest = (name: string, disk: unknown) => ({
  name,
  memoryMiB: 64,
  cpus: 1,
  boot: { kind: 'kernel', kernel: counter, append: '' },
  disk,
  network: { enabled: false },
});

describe.skipIf(!hasTools)('the snapshot timeline on a real core host', () => {
  it('saves live, restores (the count goes back), branches, renames, deletes; offline while stopped', async () => {
    const vm = await call('vms.create', vmRequest('Counter', { kind: 'new', sizeGiB: 1 }));
    const disk = path.join(dir, 'data/vms/counter/disk.qcow2');
    expect((await call('snapshots.list', vm.id)).entries).toEqual([]);

    await call('vms.start', vm.id);
    const con = consoleOf(vm.id);
    await con.waitTick((n) => n >= 3);
    // Listed while it is being saved (a view reloads when the save pauses the VM): the new
    // snapshot never shows as one made outside the app before its metadata is written.
    const saving = call('snapshots.save', vm.id);
    let saved = false;
    void saving.finally(() => (saved = true)).catch(() => undefined);
    const listedMeanwhile: string[] = [];
    while (!saved) listedMeanwhile.push(...(await call('snapshots.list', vm.id)).entries.filter((e) => e.foreign).map((e) => e.tag));
    expect(listedMeanwhile).toEqual([]);
    const first = await saving;
    expect(first).toMatchObject({ kind: 'live', foreign: false, thumbnail: { kind: 'console' } });
    expect(first.vmStateSize).toBeGreaterThan(0);
    expect(first.tag).toMatch(/^vm-\d{14}$/);
    const atSave = lastTick(first.thumbnail.kind === 'console' ? first.thumbnail.lines : []);
    expect(atSave).toBeGreaterThanOrEqual(3);
    qemuCheck(disk);

    // Let it count on, then go back.
    const later = await con.waitTick((n) => n >= atSave + 20);
    await expect(call('snapshots.restore', vm.id, first.key, { discardChanges: false })).rejects.toMatchObject({ code: 'unsaved-changes' });
    const mark = con.length;
    let timeline = await call('snapshots.restore', vm.id, first.key, { discardChanges: true });
    expect(timeline.current).toBe(first.key);
    // Ticks printed after the restore started: the last ones before the load paused the machine
    // (past `later`), then the count from the snapshot on: atSave, or a tick or two later (the
    // thumbnail is taken just before the save pauses the machine), counting up by one.
    const resumed = await con.waitTick((n) => n <= later, mark);
    // Ticks before the drop are all past `resumed`: wait on what follows the drop itself.
    const ticksFromDrop = () => con.ticks(mark).slice(con.ticks(mark).indexOf(resumed));
    for (const end = Date.now() + 30_000; ticksFromDrop().length < 4; ) {
      if (Date.now() > end) throw new Error(`the count did not go on after the restore: ${ticksFromDrop().join(' ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const after = con.ticks(mark);
    const drop = after.indexOf(resumed);
    expect(after.slice(0, drop).every((n) => n >= later)).toBe(true);
    expect(resumed).toBeGreaterThan(atSave);
    expect(resumed).toBeLessThanOrEqual(atSave + 5);
    expect(after.slice(drop, drop + 4)).toEqual([resumed, resumed + 1, resumed + 2, resumed + 3]);

    const second = await call('snapshots.save', vm.id);
    expect(second.parent).toBe(first.key);
    await con.waitTick((n) => n >= resumed + 5, mark);
    await call('snapshots.restore', vm.id, first.key, { discardChanges: true });
    const third = await call('snapshots.save', vm.id);
    // Saved after restoring the first: a branch beside the second.
    expect(third.parent).toBe(first.key);
    timeline = await call('snapshots.rename', vm.id, third.key, 'after the branch');
    expect(timeline.entries.map((e) => [e.title, e.parent ?? null])).toEqual([
      [first.tag, null],
      [second.tag, first.key],
      ['after the branch', first.key],
    ]);
    expect(timeline.current).toBe(third.key);
    expect(qemuSnapshots(disk)).toEqual([first.tag, second.tag, third.tag]);

    timeline = await call('snapshots.delete', vm.id, second.key);
    expect(timeline.entries.map((e) => e.key)).toEqual([first.key, third.key]);
    expect(qemuSnapshots(disk)).toEqual([first.tag, third.tag]);
    qemuCheck(disk);

    // A disk-only snapshot cannot be loaded into the running machine.
    await call('vms.forceOff', vm.id);
    await waitState(vm.id, 'stopped');
    con.close();
    const offline = await call('snapshots.save', vm.id);
    expect(offline).toMatchObject({ kind: 'offline', vmStateSize: 0, parent: third.key, thumbnail: { kind: 'none' } });
    qemuCheck(disk);
    await call('vms.start', vm.id);
    const liveList = await call('snapshots.list', vm.id);
    await expect(call('snapshots.restore', vm.id, offline.key, { discardChanges: true })).rejects.toMatchObject({ code: 'offline-snapshot' });
    await call('vms.forceOff', vm.id);
    await waitState(vm.id, 'stopped');
    // Listed over QMP (query-block) and from the disk (the block engine): the same keys.
    expect((await call('snapshots.list', vm.id)).entries.map((e) => e.key)).toEqual(liveList.entries.map((e) => e.key));

    // While stopped: the disk goes back (qemu-img snapshot -a), and deletes go through the block engine.
    timeline = await call('snapshots.restore', vm.id, third.key, { discardChanges: true });
    expect(timeline).toMatchObject({ current: third.key, unsavedChanges: false });
    qemuCheck(disk);
    timeline = await call('snapshots.delete', vm.id, offline.key);
    expect(qemuSnapshots(disk)).toEqual([first.tag, third.tag]);
    qemuCheck(disk);

    // Made and deleted outside the app: a new one appears unparented, the deleted one's child moves up.
    execFileSync('qemu-img', ['snapshot', '-c', 'by-hand', disk]);
    execFileSync('qemu-img', ['snapshot', '-d', first.tag, disk]);
    timeline = await call('snapshots.list', vm.id);
    expect(timeline.entries.map((e) => [e.tag, e.parent ?? null, e.foreign])).toEqual([
      [third.tag, null, false],
      ['by-hand', null, true],
    ]);
    expect(await call('snapshots.thumbnail', vm.id, third.key)).toBeNull();
  });

  it('gives a VM without a disk a small state disk that holds its snapshots', async () => {
    const vm = await call('vms.create', vmRequest('No disk', { kind: 'none' }));
    await expect(call('snapshots.save', vm.id)).rejects.toMatchObject({ code: 'no-snapshots' });
    await call('vms.start', vm.id);
    const con = consoleOf(vm.id);
    await con.waitTick((n) => n >= 2);
    const saved = await call('snapshots.save', vm.id);
    const state = path.join(dir, 'data/vms/no-disk/vivarium-state.qcow2');
    expect((await call('snapshots.list', vm.id)).disk).toBe(state);
    expect(qemuSnapshots(state)).toEqual([saved.tag]);
    // The guest's disk holds nothing: the machine state lives past its 1 MiB end.
    expect(JSON.parse(execFileSync('qemu-img', ['info', '-U', '--output=json', state], { encoding: 'utf8' }))['virtual-size']).toBe(1024 * 1024);
    qemuCheck(state);
    con.close();
    await call('vms.forceOff', vm.id);
    // Stopped, it has nothing of its own to save.
    await waitState(vm.id, 'stopped');
    await expect(call('snapshots.save', vm.id)).rejects.toThrow('A stopped VM without a disk has nothing to save: start it, then Save now');
  });

  it('keeps a picture of the screen as the thumbnail of a VM with a display', async () => {
    const vm = await call('vms.create', { ...vmRequest('With screen', { kind: 'new', sizeGiB: 1 }), display: { enabled: true } });
    await call('vms.start', vm.id);
    const con = consoleOf(vm.id);
    await con.waitTick((n) => n >= 2);
    const saved = await call('snapshots.save', vm.id);
    expect(saved.thumbnail).toEqual({ kind: 'screen' });
    // A PNG (QMP screendump), handed to the page as a data: URL (the CSP allows img-src data:).
    const url = (await call('snapshots.thumbnail', vm.id, saved.key))!;
    expect(url).toMatch(/^data:image\/png;base64,/);
    expect(Buffer.from(url.slice(url.indexOf(',') + 1), 'base64').subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    con.close();
    await call('vms.forceOff', vm.id);
    await waitState(vm.id, 'stopped');
    // Deleting the snapshot deletes its picture too.
    await call('snapshots.delete', vm.id, saved.key);
    expect(await call('snapshots.thumbnail', vm.id, saved.key)).toBeNull();
  });

  it('says why a VM on a raw disk has no timeline', async () => {
    const raw = path.join(dir, 'plain.raw');
    await fs.writeFile(raw, Buffer.alloc(1024 * 1024));
    const vm = await call('vms.create', vmRequest('Raw', { kind: 'existing', path: raw, format: 'raw' }));
    const timeline = await call('snapshots.list', vm.id);
    expect(timeline.unsupported).toMatch(/^Its disk is a raw image, which cannot hold snapshots/);
    await expect(call('snapshots.save', vm.id)).rejects.toThrow(/raw image/);
  });
});
