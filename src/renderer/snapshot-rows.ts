// The snapshot timeline drawn as a tree: rows in the order a person reads them, each in a lane.
import type { SnapshotEntry } from '../shared/snapshots';

/** One row of the timeline as drawn: the entry, its lane (0 = the trunk), and the branch it opens. */
export interface TimelineRow {
  entry: SnapshotEntry;
  lane: number;
  /** The snapshot this one branches from, when it is not the next step of its parent's lane. */
  branchFrom?: SnapshotEntry;
  depth: number;
}

/**
 * The timeline as rows in date order within each branch: a snapshot's first child (the oldest)
 * continues its lane, later children (saves after a restore) open a new lane each; snapshots with
 * no parent in the list (the first, or ones made outside the app) start at lane 0.
 */
export function timelineRows(entries: readonly SnapshotEntry[]): TimelineRow[] {
  const byKey = new Map(entries.map((e) => [e.key, e]));
  const kids = new Map<string, SnapshotEntry[]>();
  const roots: SnapshotEntry[] = [];
  for (const e of entries) {
    if (e.parent && byKey.has(e.parent) && e.parent !== e.key) (kids.get(e.parent) ?? kids.set(e.parent, []).get(e.parent)!).push(e);
    else roots.push(e);
  }
  const rows: TimelineRow[] = [];
  const seen = new Set<string>();
  let lanes = 0;
  const walk = (e: SnapshotEntry, lane: number, depth: number, branchFrom?: SnapshotEntry) => {
    if (seen.has(e.key)) return;
    seen.add(e.key);
    rows.push({ entry: e, lane, depth, ...(branchFrom ? { branchFrom } : {}) });
    const children = kids.get(e.key) ?? [];
    children.forEach((c, i) => (i === 0 ? walk(c, lane, depth + 1) : walk(c, ++lanes, depth + 1, e)));
  };
  for (const r of roots) walk(r, 0, 0);
  // A parent loop in hand-edited metadata: whatever the walk did not reach, shown flat.
  for (const e of entries) walk(e, 0, 0);
  return rows;
}

/** The tags Save now gives (QEMU savevm's vm-YYYYMMDDhhmmss, with a suffix within one second). */
const autoTag = /^vm-\d{14}(-\d+)?$/;

/** The name a person reads: theirs, else for an app-made tag the time it was saved, else the tag. */
export function shownTitle(e: SnapshotEntry): string {
  const auto = e.title === e.tag ? autoTag.exec(e.tag) : null;
  if (!auto) return e.title;
  // Two saves within one second: the tag's suffix tells them apart, and so does the name.
  return `Saved at ${new Date(e.date).toLocaleTimeString()}${auto[1] ? ` (${auto[1].slice(1)})` : ''}`;
}
