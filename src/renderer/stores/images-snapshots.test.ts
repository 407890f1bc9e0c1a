// The Images and timeline stores against a fake API: they own the calls, follow main's events
// (jobs, images.changed, snapshots.changed) and keep refusals where the views show them; and the
// timeline's rows (lanes for branches).
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { computed } from 'vue';
import type { AppEvent } from '../../shared/api';
import type { ImageGraph, ImageJob } from '../../shared/images';
import type { SnapshotEntry, Timeline } from '../../shared/snapshots';
import { ApiCallError } from '../api/api-error';
import { shownTitle, timelineRows } from '../snapshot-rows';
import { fakeApi } from './testing/fake-api';
import { useImageGraphStore } from './image-graph';
import { useSnapshotsStore } from './snapshots';

/** Jobs started in the order of the digits in their ids (d0 first, d9 last; others at 0). */
const job = (id: string, state: ImageJob['state'], fraction?: number): ImageJob => ({
  id,
  op: 'import',
  image: '/img/base.qcow2',
  label: 'Importing',
  state,
  startedAt: `2026-01-01T00:00:0${/\d/.exec(id)?.[0] ?? '0'}.000Z`,
  ...(fraction !== undefined ? { fraction } : {}),
});

const graph = (names: string[], jobs: ImageJob[] = []): ImageGraph => ({
  folder: '/img',
  jobs,
  images: names.map((n) => ({
    path: `/img/${n}`,
    name: n,
    origin: 'imported',
    managed: true,
    status: 'ok',
    chain: [`/img/${n}`],
    snapshots: 0,
    overlays: [],
    vms: [],
    usedByRunning: [],
    refusals: {},
    commitInvalidates: [],
  })),
});

beforeEach(() => setActivePinia(createPinia()));

describe('image graph store', () => {
  it('loads the graph, follows job progress, and reloads once per burst of images.changed', async () => {
    let lists = 0;
    const fake = fakeApi({ 'images.list': () => (++lists === 1 ? graph(['a.qcow2']) : graph(['a.qcow2', 'b.qcow2'])), 'images.import': () => job('j1', 'running', 0) });
    const store = useImageGraphStore();
    await store.load();
    expect(store.images.map((n) => n.name)).toEqual(['a.qcow2']);

    expect(await store.importImage('/src/disk.raw', 'b')).toMatchObject({ id: 'j1' });
    expect(fake.calls.at(-1)).toEqual(['images.import', [{ source: '/src/disk.raw', name: 'b' }]]);
    fake.emit({ type: 'job', job: job('j1', 'running', 0.5) });
    expect(store.running.map((j) => j.fraction)).toEqual([0.5]);
    fake.emit({ type: 'job', job: job('j1', 'done', 1) });
    expect(store.running).toEqual([]);
    expect(store.lastJobOn('/img/base.qcow2')?.state).toBe('done');

    fake.emit({ type: 'images.changed' });
    fake.emit({ type: 'images.changed' });
    fake.emit({ type: 'images.changed' });
    await store.reloading;
    await store.reloading;
    expect(store.images.map((n) => n.name)).toEqual(['a.qcow2', 'b.qcow2']);
    // The first load, then one for the burst and at most one more for events that came during it.
    expect(lists).toBeLessThanOrEqual(3);
  });

  it('keeps a refusal\'s reason for the view, and forgets a deleted selection', async () => {
    fakeApi({
      'images.list': () => graph(['base.qcow2']),
      'images.delete': (req) => {
        if ((req as { path: string }).path === '/img/base.qcow2') throw new ApiCallError({ code: 'refused', message: 'base.qcow2 is the base of over.qcow2.' });
        return job('j2', 'running');
      },
    });
    const store = useImageGraphStore();
    await store.load();
    store.select('/img/base.qcow2');
    expect(store.selectedNode?.name).toBe('base.qcow2');
    expect(await store.remove('/img/base.qcow2')).toBeUndefined();
    expect(store.error).toBe('base.qcow2 is the base of over.qcow2.');
    expect(store.selected).toBe('/img/base.qcow2');
    store.select('/img/other.qcow2');
    expect(store.error).toBe('');
    expect(await store.remove('/img/other.qcow2')).toMatchObject({ id: 'j2' });
    expect(store.selected).toBeUndefined();
  });

  it('keeps a job that ended when the answer that started it arrives after its events', async () => {
    const events: ((e: AppEvent) => void)[] = [];
    const fake = fakeApi({
      'images.list': () => graph([]),
      'images.check': () => {
        events[0]!({ type: 'job', job: job('c1', 'running', 0) });
        events[0]!({ type: 'job', job: job('c1', 'done', 1) });
        return job('c1', 'running');
      },
    });
    events.push(fake.emit);
    const store = useImageGraphStore();
    await store.load();
    await store.check('/img/base.qcow2');
    expect(store.jobs.map((j) => [j.id, j.state])).toEqual([['c1', 'done']]);
  });

  it('keeps only the last few finished jobs', async () => {
    fakeApi({ 'images.list': () => graph([]) });
    const store = useImageGraphStore();
    await store.load();
    store.noteJob(job('run', 'running'));
    for (let i = 0; i < 10; i++) store.noteJob(job(`d${i}`, 'done'));
    expect(store.jobs.filter((j) => j.state === 'done').map((j) => j.id)).toEqual(['d9', 'd8', 'd7', 'd6', 'd5', 'd4']);
    expect(store.running.map((j) => j.id)).toEqual(['run']);
    store.dismiss('d9');
    store.dismiss('run');
    expect(store.jobs.map((j) => j.id)).toEqual(['d8', 'd7', 'd6', 'd5', 'd4', 'run']);
    // A reload brings the server's whole job list: old and dismissed jobs stay away.
    store.setGraph(graph([], [job('d0', 'done'), job('d9', 'done'), job('d8', 'done')]));
    expect(store.jobs.map((j) => j.id)).toEqual(['d8', 'd7', 'd6', 'd5', 'd4', 'run']);
  });
});

const entry = (key: string, parent?: string, extra: Partial<SnapshotEntry> = {}): SnapshotEntry => ({
  key,
  id: key,
  tag: `vm-${key}`,
  title: `vm-${key}`,
  date: '2026-01-01T00:00:00.000Z',
  vmStateSize: 1000,
  vmClockNs: 0,
  kind: 'live',
  foreign: false,
  thumbnail: { kind: 'none' },
  ...(parent ? { parent } : {}),
  ...extra,
});

describe('snapshots store', () => {
  it('loads a timeline, fetches screen thumbnails once, and reloads on snapshots.changed', async () => {
    let timeline: Timeline = { vmId: 'vm', entries: [entry('a', undefined, { thumbnail: { kind: 'screen' } })], unsavedChanges: true };
    const fake = fakeApi({ 'snapshots.list': () => timeline, 'snapshots.thumbnail': () => 'data:image/png;base64,AA==' });
    const store = useSnapshotsStore();
    await store.load('vm');
    await Promise.resolve();
    expect(store.of('vm').timeline?.entries.map((e) => e.key)).toEqual(['a']);
    expect(store.thumbnails['vm/a']).toBe('data:image/png;base64,AA==');
    timeline = { ...timeline, entries: [...timeline.entries, entry('b', 'a')] };
    fake.emit({ type: 'snapshots.changed', vmId: 'vm' });
    fake.emit({ type: 'snapshots.changed', vmId: 'other' }); // not shown: not loaded
    await new Promise((r) => setTimeout(r, 0));
    expect(store.of('vm').timeline?.entries.map((e) => e.key)).toEqual(['a', 'b']);
    expect(fake.calls.filter(([c]) => c === 'snapshots.thumbnail')).toHaveLength(1);
    expect(fake.calls.filter(([c, a]) => c === 'snapshots.list' && a[0] === 'other')).toHaveLength(0);
  });

  it('updates what a view computed from a timeline loaded for the first time', async () => {
    fakeApi({ 'snapshots.list': () => ({ vmId: 'vm', entries: [entry('a')], unsavedChanges: false }) });
    const store = useSnapshotsStore();
    const shown = computed(() => store.of('vm').timeline?.entries.length);
    const loading = store.load('vm');
    expect(shown.value).toBeUndefined();
    await loading;
    expect(shown.value).toBe(1);
  });

  it('passes the person\'s choice to restore and keeps a refusal', async () => {
    const fake = fakeApi({
      'snapshots.restore': (_id, _key, opts) => {
        if (!(opts as { discardChanges: boolean }).discardChanges) throw new ApiCallError({ code: 'unsaved-changes', message: 'The VM has changed' });
        return { vmId: 'vm', entries: [entry('a')], current: 'a', unsavedChanges: false };
      },
    });
    const store = useSnapshotsStore();
    expect(await store.restore('vm', 'a', false)).toBe(false);
    expect(store.of('vm').error).toBe('The VM has changed');
    expect(await store.restore('vm', 'a', true)).toBe(true);
    expect(store.of('vm')).toMatchObject({ error: '', timeline: { current: 'a' } });
    expect(store.of('vm').busy).toBeUndefined();
    expect(fake.calls.map(([, a]) => a[2])).toEqual([{ discardChanges: false }, { discardChanges: true }]);
  });
});

describe('timelineRows', () => {
  it('keeps the trunk in lane 0 and opens a lane for each branch', () => {
    const rows = timelineRows([entry('a'), entry('b', 'a'), entry('c', 'a'), entry('d', 'b'), entry('x'), entry('e', 'c')]);
    expect(rows.map((r) => [r.entry.key, r.lane, r.depth, r.branchFrom?.key ?? null])).toEqual([
      ['a', 0, 0, null],
      ['b', 0, 1, null],
      ['d', 0, 2, null],
      ['c', 1, 1, 'a'],
      ['e', 1, 2, null],
      ['x', 0, 0, null],
    ]);
  });

  it('names a Save now snapshot by its time until the person names it', () => {
    const auto = entry('20260101000000', undefined, { date: '2026-01-01T10:20:30.000Z' });
    expect(shownTitle(auto)).toBe(`Saved at ${new Date('2026-01-01T10:20:30.000Z').toLocaleTimeString()}`);
    expect(shownTitle({ ...auto, title: 'before upgrade' })).toBe('before upgrade');
    expect(shownTitle({ ...auto, tag: 'vm-20260101000000-2', title: 'vm-20260101000000-2' })).toMatch(/^Saved at .* \(2\)$/);
    expect(shownTitle({ ...auto, tag: 'by-hand', title: 'by-hand' })).toBe('by-hand');
  });

  it('shows every entry once, even with a parent loop', () => {
    const rows = timelineRows([entry('a', 'b'), entry('b', 'a')]);
    expect(rows.map((r) => r.entry.key).sort()).toEqual(['a', 'b']);
  });
});
