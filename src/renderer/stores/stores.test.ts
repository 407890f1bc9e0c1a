// The stores against a fake API: they own the calls, apply main's events, and keep errors where
// the views show them.
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ApiReply, VmEntry } from '../../shared/api';
import { ApiCallError } from '../api/api-error';
import { fromBridge } from '../api';
import { fakeApi } from './testing/fake-api';
import { useConsoleStore } from './console';
import { useImagesStore } from './images';
import { useSettingsStore } from './settings';
import { useVmsStore } from './vms';

const vm = (id: string, state: VmEntry['state'] = 'stopped'): VmEntry => ({ id, name: id.toUpperCase(), state });

beforeEach(() => setActivePinia(createPinia()));

describe('vms store', () => {
  it('loads, then follows events', async () => {
    const fake = fakeApi({ 'vms.list': () => [vm('b'), vm('a')] });
    const store = useVmsStore();
    await store.load();
    expect(store.sorted.map((v) => v.id)).toEqual(['a', 'b']);
    fake.emit({ type: 'vm.changed', vm: vm('a', 'running') });
    expect(store.byId('a')?.state).toBe('running');
    fake.emit({ type: 'vm.removed', id: 'b' });
    expect(store.vms.map((v) => v.id)).toEqual(['a']);
    fake.emit({ type: 'progress', id: 'create-a', label: 'Creating', done: false });
    expect(store.progress['create-a']).toEqual({ label: 'Creating' });
    fake.emit({ type: 'progress', id: 'create-a', label: 'Done', done: true, fraction: 1 });
    expect(store.progress['create-a']).toBeUndefined();
  });

  it('keeps an action\'s error for the view and clears busy', async () => {
    fakeApi({ 'vms.list': () => [vm('a')] });
    const store = useVmsStore();
    await store.load();
    expect(await store.act('a', 'start')).toBe(false);
    expect(store.error).toBe('no answer for vms.start');
    expect(store.busy).toEqual({});
  });

  it('reports a library that cannot load', async () => {
    fakeApi({});
    const store = useVmsStore();
    await store.load();
    expect(store.error).toMatch(/^Could not load the VM library/);
    expect(store.loaded).toBe(true);
  });
});

describe('images, settings and console stores', () => {
  it('explains missing files and folders', async () => {
    fakeApi({ 'files.check': (p) => ({ path: p, kind: p === '/dir' ? 'directory' : 'missing' }) });
    const images = useImagesStore();
    expect(await images.problem('', 'Kernel')).toBe('Choose the kernel file');
    expect(await images.problem('/k', 'Kernel')).toBe('Kernel not found: /k');
    expect(await images.problem('/dir', 'Kernel')).toBe('Kernel is a folder, not a file: /dir');
  });

  it('saves settings and shows a refusal', async () => {
    fakeApi({ 'settings.set': () => { throw new ApiCallError({ code: 'bad-arguments', message: 'Too small' }); } });
    const settings = useSettingsStore();
    expect(await settings.save({ consoleFontSize: 2 })).toBe(false);
    expect(settings.error).toBe('Too small');
  });

  it('replays the scrollback into a new sink and forwards keystrokes', () => {
    const fake = fakeApi({});
    const consoles = useConsoleStore();
    const got: string[] = [];
    let cleared = 0;
    consoles.attach('a', { write: (b) => got.push(new TextDecoder().decode(b)), clear: () => cleared++ });
    consoles.send('a', 'ls\r');
    expect(got).toEqual(['scrollback']);
    expect(cleared).toBe(1);
    expect(fake.consoleWrites).toEqual(['ls\r']);
    expect(consoles.live.a).toBe(true);
    consoles.detach('a');
    expect(consoles.live.a).toBe(false);
  });
});

describe('the Electron bridge adapter', () => {
  it('turns reply envelopes into values and ApiCallErrors with their field', async () => {
    const replies: Record<string, ApiReply> = {
      'vms.list': { ok: true, value: [] },
      'vms.create': { ok: false, error: { code: 'name-taken', message: 'taken', field: 'name' } },
    };
    const api = fromBridge({
      invoke: async (channel) => replies[channel]!,
      onEvent: () => () => undefined,
      openConsole: () => ({ write: () => undefined, close: () => undefined }),
    });
    expect(await api.invoke('vms.list')).toEqual([]);
    await expect(api.invoke('vms.create', {} as never)).rejects.toMatchObject({ field: 'name', message: 'taken' });
  });
});
