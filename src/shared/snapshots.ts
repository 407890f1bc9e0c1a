// A VM's snapshot timeline as the renderer sees it. The snapshots themselves are QCOW2 internal
// snapshots in the VM's own disk (so `qemu-img snapshot -l` lists them); which snapshot each one
// follows (the tree), the names a person gave them and what the screen showed are the app's
// metadata beside the VM, reconciled with what the disk holds every time it is listed.
import { z } from 'zod';

export const SnapshotKey = z.string().regex(/^[0-9A-Za-z._-]{1,200}$/, 'not a snapshot key');

export const SnapshotThumbnail = z.discriminatedUnion('kind', [
  /** A PNG of the screen at save time (snapshots.thumbnail fetches it). */
  z.object({ kind: z.literal('screen') }),
  /** The console's last lines at save time (a VM without a display). */
  z.object({ kind: z.literal('console'), lines: z.array(z.string()) }),
  z.object({ kind: z.literal('none') }),
]);
export type SnapshotThumbnail = z.infer<typeof SnapshotThumbnail>;

export const SnapshotEntry = z.object({
  /** Stable identity: the QCOW2 snapshot's ID and date (a name can change, an ID can be reused). */
  key: SnapshotKey,
  /** The QCOW2 snapshot ID and tag (what `qemu-img snapshot -l` shows and `-loadvm` takes). */
  id: z.string(),
  tag: z.string(),
  /** The name shown: the person's name for it, else the tag. */
  title: z.string(),
  /** ISO time it was taken. */
  date: z.string(),
  /** Bytes of machine state (RAM, devices); 0 for a disk-only snapshot. */
  vmStateSize: z.number(),
  /** Guest run time when taken (ns). */
  vmClockNs: z.number(),
  /** live: the whole running machine (restorable while running); offline: the disk of a stopped VM. */
  kind: z.enum(['live', 'offline']),
  /** The snapshot this one follows (the state it was saved from). */
  parent: SnapshotKey.optional(),
  /** Made outside the app (qemu-img, viv img, HMP): shown, but with no place in the tree. */
  foreign: z.boolean(),
  thumbnail: SnapshotThumbnail,
});
export type SnapshotEntry = z.infer<typeof SnapshotEntry>;

export const Timeline = z.object({
  vmId: z.string(),
  /** The QCOW2 file that holds the snapshots (the VM's disk, or its small state disk). */
  disk: z.string().optional(),
  /** Why this VM cannot keep snapshots (a raw disk, a missing disk), when it cannot. */
  unsupported: z.string().optional(),
  /** Why the list could not be read (a broken disk), when it could not. */
  error: z.string().optional(),
  entries: z.array(SnapshotEntry),
  /** The snapshot the VM's present state follows (last saved or restored). */
  current: SnapshotKey.optional(),
  /** The VM ran (or its disk changed) since `current` was saved or restored. */
  unsavedChanges: z.boolean(),
});
export type Timeline = z.infer<typeof Timeline>;

export const SnapshotTitle = z
  .string()
  .trim()
  .min(1, 'Give the snapshot a name')
  .max(80, 'A name has at most 80 characters')
  .regex(/^[^\p{Cc}]+$/u, 'A name cannot contain control characters');

export const RestoreOptions = z
  .object({
    /** The person agreed to lose what changed since the last save. */
    discardChanges: z.boolean(),
  })
  .strict();
