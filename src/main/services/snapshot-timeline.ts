// The timeline's metadata, kept beside the VM in snapshots.json (written atomically): which
// snapshot each one follows (a restore followed by a save makes a branch), the names a person gave,
// what the screen or console showed, the snapshot the present state follows, and whether the VM
// ran since. The QCOW2 snapshot table is the truth about which snapshots exist: the metadata is
// reconciled with it on every listing (a snapshot deleted outside the app disappears, and its
// children follow its parent; one created outside appears with no parent).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { type SnapshotEntry, SnapshotKey } from '../../shared/snapshots';
import { writeJsonAtomic } from './atomic-file';

/** A snapshot as the disk's table has it (the block engine offline, query-block live). */
export interface DiskSnapshot {
  id: string;
  name: string;
  dateSec: number;
  dateNsec: number;
  vmStateSize: number;
  vmClockNsec: number;
}

const MetaEntry = z.object({
  parent: SnapshotKey.optional(),
  title: z.string().optional(),
  thumbnail: z.enum(['screen', 'console', 'none']).default('none'),
  lines: z.array(z.string()).optional(),
  /** Made outside the app; it has metadata only because a person renamed it. */
  foreign: z.boolean().optional(),
});
type MetaEntry = z.infer<typeof MetaEntry>;

export const TimelineMeta = z.object({
  version: z.literal(1),
  current: SnapshotKey.optional(),
  /** The VM ran since `current` was saved or restored. */
  changed: z.boolean().default(true),
  entries: z.record(z.string(), MetaEntry).default({}),
});
export type TimelineMeta = z.infer<typeof TimelineMeta>;

export const emptyMeta = (): TimelineMeta => ({ version: 1, changed: true, entries: {} });

/** A key that stays the same for the life of a snapshot: IDs are reused after a delete, dates are not. */
export function snapshotKey(s: Pick<DiskSnapshot, 'id' | 'dateSec' | 'dateNsec'>): string {
  const id = s.id.replace(/[^0-9A-Za-z]/g, '_').slice(0, 64) || '_';
  return `${id}-${s.dateSec}.${String(s.dateNsec).padStart(9, '0')}`;
}

export class TimelineStore {
  constructor(private readonly vmDir: string) {}

  get file(): string {
    return path.join(this.vmDir, 'snapshots.json');
  }

  thumbnailPath(key: string): string {
    return path.join(this.vmDir, 'thumbnails', `${key}.png`);
  }

  async read(): Promise<TimelineMeta> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch {
      return emptyMeta();
    }
    try {
      const parsed = TimelineMeta.safeParse(JSON.parse(text));
      // Damaged metadata costs the tree and the names, never a snapshot: the disk still lists them.
      return parsed.success ? parsed.data : emptyMeta();
    } catch {
      return emptyMeta();
    }
  }

  async write(meta: TimelineMeta): Promise<void> {
    await writeJsonAtomic(this.file, meta);
  }

  async update(change: (meta: TimelineMeta) => void): Promise<TimelineMeta> {
    const meta = await this.read();
    change(meta);
    await this.write(meta);
    return meta;
  }
}

/** The parent a snapshot ends up with when the ones between were deleted: the nearest that exists. */
function liveParent(key: string | undefined, meta: TimelineMeta, exists: Set<string>): string | undefined {
  const seen = new Set<string>();
  let p = key;
  while (p && !exists.has(p) && !seen.has(p)) {
    seen.add(p);
    p = meta.entries[p]?.parent;
  }
  return p && exists.has(p) ? p : undefined;
}

/** The timeline's entries: the disk's snapshots in date order, with the metadata that fits them. */
export function reconcile(disk: DiskSnapshot[], meta: TimelineMeta): { entries: SnapshotEntry[]; current?: string } {
  const sorted = [...disk].sort((a, b) => a.dateSec - b.dateSec || a.dateNsec - b.dateNsec || a.id.localeCompare(b.id));
  const exists = new Set(sorted.map(snapshotKey));
  const entries = sorted.map((s): SnapshotEntry => {
    const key = snapshotKey(s);
    const m: MetaEntry | undefined = meta.entries[key];
    const parent = m ? liveParent(m.parent, meta, exists) : undefined;
    return {
      key,
      id: s.id,
      tag: s.name,
      title: m?.title ?? s.name,
      date: new Date(s.dateSec * 1000 + Math.floor(s.dateNsec / 1e6)).toISOString(),
      vmStateSize: s.vmStateSize,
      vmClockNs: s.vmClockNsec,
      kind: s.vmStateSize > 0 ? 'live' : 'offline',
      ...(parent && parent !== key ? { parent } : {}),
      foreign: !m || !!m.foreign,
      thumbnail:
        m?.thumbnail === 'screen'
          ? { kind: 'screen' }
          : m?.thumbnail === 'console'
            ? { kind: 'console', lines: m.lines ?? [] }
            : { kind: 'none' },
    };
  });
  const current = liveParent(meta.current, meta, exists);
  return { entries, ...(current ? { current } : {}) };
}

/** QEMU's savevm default name is vm-YYYYMMDDHHMMSS; a second save within the same second gets a suffix. */
export function newTag(now: Date, taken: Set<string>): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const base = `vm-${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) if (!taken.has(`${base}-${n}`)) return `${base}-${n}`;
}
