// The timeline's metadata reconciled with what a disk holds: the tree, names and thumbnails kept
// for the snapshots that exist; ones deleted outside the app drop out (their children move up),
// ones made outside appear unparented; damaged metadata loses the tree, never a snapshot.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type DiskSnapshot, emptyMeta, newTag, reconcile, snapshotKey, type TimelineMeta, TimelineStore } from './snapshot-timeline';

const snap = (id: string, sec: number, vmState = 1000): DiskSnapshot => ({ id, name: `tag${id}`, dateSec: sec, dateNsec: 5, vmStateSize: vmState, vmClockNsec: 7e9 });
const k = (s: DiskSnapshot) => snapshotKey(s);

describe('reconcile', () => {
  const a = snap('1', 100);
  const b = snap('2', 200);
  const c = snap('3', 300, 0);
  const meta: TimelineMeta = {
    version: 1,
    current: k(c),
    changed: false,
    entries: {
      [k(a)]: { thumbnail: 'console', lines: ['tick 1'] },
      [k(b)]: { parent: k(a), title: 'before upgrade', thumbnail: 'screen' },
      [k(c)]: { parent: k(b), thumbnail: 'none' },
    },
  };

  it('keeps the tree, names and thumbnails of the snapshots the disk holds, in date order', () => {
    const { entries, current } = reconcile([c, a, b], meta);
    expect(entries.map((e) => [e.tag, e.title, e.parent ?? null, e.kind, e.foreign])).toEqual([
      ['tag1', 'tag1', null, 'live', false],
      ['tag2', 'before upgrade', k(a), 'live', false],
      ['tag3', 'tag3', k(b), 'offline', false],
    ]);
    expect(entries[0]!.thumbnail).toEqual({ kind: 'console', lines: ['tick 1'] });
    expect(entries[1]!.thumbnail).toEqual({ kind: 'screen' });
    expect(entries[0]!.date).toBe(new Date(100_000).toISOString());
    expect(current).toBe(k(c));
  });

  it('drops a snapshot deleted outside the app; its child follows its parent, and so does the present', () => {
    const { entries } = reconcile([a, c], meta);
    expect(entries.map((e) => [e.tag, e.parent ?? null])).toEqual([
      ['tag1', null],
      ['tag3', k(a)],
    ]);
    expect(reconcile([a], meta).current).toBe(k(a));
    expect(reconcile([], meta)).toEqual({ entries: [] });
  });

  it('shows a snapshot made outside the app, unparented, with its tag as its name', () => {
    const outside = snap('9', 400);
    const { entries } = reconcile([a, b, c, outside], meta);
    expect(entries.at(-1)).toMatchObject({ tag: 'tag9', title: 'tag9', foreign: true, thumbnail: { kind: 'none' } });
    expect(entries.at(-1)!.parent).toBeUndefined();
  });

  it('keys survive an ID reused after a delete (QEMU numbers from the largest ID)', () => {
    const reused = { ...snap('3', 500), name: 'new' };
    const { entries } = reconcile([a, b, reused], meta);
    expect(entries.at(-1)).toMatchObject({ tag: 'new', foreign: true });
    expect(k(reused)).not.toBe(k(c));
  });

  it('survives a parent loop in hand-edited metadata', () => {
    const loop: TimelineMeta = { ...emptyMeta(), entries: { [k(a)]: { parent: k(b), thumbnail: 'none' }, [k(b)]: { parent: k(a), thumbnail: 'none' } } };
    const { entries } = reconcile([a, b], loop);
    expect(entries.map((e) => e.parent)).toEqual([k(b), k(a)]);
  });
});

describe('names and the metadata file', () => {
  it('names snapshots as QEMU savevm does, with a suffix within one second', () => {
    const at = new Date(2026, 10, 25, 9, 5, 3);
    expect(newTag(at, new Set())).toBe('vm-20261125090503');
    expect(newTag(at, new Set(['vm-20261125090503']))).toBe('vm-20261125090503-2');
  });

  it('writes atomically and reads damaged metadata as empty (the disk still lists the snapshots)', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'viv-timeline-'));
    try {
      const store = new TimelineStore(dir);
      expect(await store.read()).toEqual(emptyMeta());
      await store.update((m) => {
        m.current = 'x-1.000000001';
        m.changed = false;
      });
      expect(await store.read()).toMatchObject({ current: 'x-1.000000001', changed: false });
      expect((await fs.readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      await fs.writeFile(store.file, '{"version": 1, "entries": {"a": {"parent": 5}}}');
      expect(await store.read()).toEqual(emptyMeta());
      await fs.writeFile(store.file, 'garbage');
      expect(await store.read()).toEqual(emptyMeta());
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
