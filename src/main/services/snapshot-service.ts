// A VM's snapshot timeline: Save now, Restore, rename, delete. The snapshots are QCOW2 internal
// snapshots in the VM's own disk (or, for a VM without one, its small state disk):
// - while the VM runs, over its QMP monitor, as libvirt does it: snapshot-save / snapshot-load /
//   snapshot-delete jobs (the whole machine: RAM, devices, disks, at one instant), query-block to
//   list them, screendump for the thumbnail;
// - while it is stopped, with the block engine on the disk itself (a disk-only snapshot, a revert,
//   a delete), as `qemu-img snapshot -c/-a/-d` does.
// Either way `qemu-img snapshot -l` lists them. The tree, names and thumbnails are metadata beside
// the VM (snapshot-timeline.ts).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { createQcow2, openImage, Qcow2Driver } from '../../emulator-core/block';
import type { VmState } from '../../shared/api';
import type { SnapshotEntry, Timeline } from '../../shared/snapshots';
import type { VmConfig } from '../../shared/vm-config';
import { UserError } from './errors';
import { queryDrives, runQmpJob, type BlockDrive } from './qmp-job';
import { type DiskSnapshot, newTag, reconcile, snapshotKey, TimelineStore } from './snapshot-timeline';
import type { Supervisor } from './supervisor';
import type { VmLibrary } from './vm-library';

export interface SnapshotServiceOptions {
  library: VmLibrary;
  supervisor: Supervisor;
  onChanged: (vmId: string) => void;
  /** Images an image operation holds (a snapshot must not be taken of a disk being committed). */
  busyImages: () => ReadonlyMap<string, string>;
}

/** The state disk's virtual size: the guest sees an empty 1 MiB disk; the machine state goes past its end. */
const stateDiskBytes = 1024 * 1024;
export const stateDiskName = 'vivarium-state.qcow2';

/** Console lines kept as the thumbnail of a VM without a screen. */
const thumbnailLines = 12;

type Where = { disk: string; stateOnly: boolean; unsupported?: undefined } | { disk?: undefined; stateOnly?: undefined; unsupported?: string };

export class SnapshotService {
  /** Per VM, the operation in flight: one at a time, and no VM start meanwhile. */
  private readonly inFlight = new Map<string, string>();
  /**
   * Per VM, the tag of the snapshot being saved: the disk lists it before its metadata (parent,
   * thumbnail) is written, and a listing meanwhile (the VM paused and resumed for the save, so the
   * view reloads) must not show it for a moment as one made outside the app.
   */
  private readonly saving = new Map<string, string>();

  constructor(private readonly options: SnapshotServiceOptions) {}

  isBusy(id: string): boolean {
    return this.inFlight.has(id);
  }

  private store(id: string): TimelineStore {
    return new TimelineStore(this.options.library.dirOf(id));
  }

  /** Where a VM's snapshots live, or why it cannot have any. */
  static where(config: VmConfig): Where {
    if (config.disk.kind === 'image') {
      if (config.disk.format !== 'qcow2') {
        return { unsupported: 'Its disk is a raw image, which cannot hold snapshots. Import it as QCOW2 in Images and use that copy to keep snapshots.' };
      }
      return { disk: config.disk.path, stateOnly: false };
    }
    if (config.stateDisk) return { disk: config.stateDisk.path, stateOnly: true };
    return {};
  }

  /**
   * A VM without a disk gets a small QCOW2 state disk before it starts, so a live save has a
   * QCOW2 drive to hold the machine state (QEMU's savevm needs one too). Returns the config to use.
   */
  async ensureStateDisk(config: VmConfig): Promise<VmConfig> {
    if (config.disk.kind !== 'none' || config.stateDisk) return config;
    const file = path.join(this.options.library.dirOf(config.id), stateDiskName);
    const exists = await fs.stat(file).then(() => true, () => false);
    if (!exists) await createQcow2(file, { size: stateDiskBytes });
    const next: VmConfig = { ...config, stateDisk: { path: file } };
    await this.options.library.save(next);
    return next;
  }

  private state(id: string): VmState {
    return this.options.supervisor.status(id).state;
  }

  private live(id: string): boolean {
    return this.options.supervisor.isActive(id);
  }

  private async exclusive<T>(id: string, doing: string, fn: () => Promise<T>): Promise<T> {
    const other = this.inFlight.get(id);
    if (other) throw new UserError(`Wait: the VM is ${other}`, 'busy');
    const state = this.state(id);
    if (state === 'starting' || state === 'stopping') throw new UserError(`Wait: the VM is ${state}`, 'busy');
    this.inFlight.set(id, doing);
    try {
      return await fn();
    } finally {
      this.inFlight.delete(id);
    }
  }

  private async diskSnapshotsOffline(disk: string): Promise<DiskSnapshot[]> {
    const drv = await openImage(disk, { format: 'qcow2', readOnly: true, noBacking: true });
    try {
      if (!(drv instanceof Qcow2Driver)) return [];
      return drv.listSnapshots().map((s) => ({ id: s.id, name: s.name, dateSec: s.dateSec, dateNsec: s.dateNsec, vmStateSize: s.vmStateSize, vmClockNsec: s.vmClockNsec }));
    } finally {
      await drv.close();
    }
  }

  /** The running machine's drive that holds the snapshots, and the writable QCOW2 drives a save covers. */
  private async liveDrives(id: string, disk: string): Promise<{ holder: BlockDrive; writable: BlockDrive[] }> {
    const drives = await queryDrives(this.options.supervisor.qmpOf(id));
    const holder = drives.find((d) => path.resolve(d.file) === path.resolve(disk));
    if (!holder) throw new UserError('The running VM does not have its snapshot disk attached: restart it (Force off, then Start)', 'no-state-disk');
    return { holder, writable: drives.filter((d) => !d.readOnly && d.format === 'qcow2') };
  }

  async list(id: string): Promise<Timeline> {
    const config = await this.options.library.get(id);
    const where = SnapshotService.where(config);
    const meta = await this.store(id).read();
    const running = this.live(id);
    const base = { vmId: id, entries: [], unsavedChanges: true };
    if (!where.disk) return { ...base, ...(where.unsupported ? { unsupported: where.unsupported } : {}) };
    let disk: DiskSnapshot[];
    try {
      disk = running && this.state(id) !== 'starting' && this.state(id) !== 'stopping'
        ? (await this.liveDrives(id, where.disk)).holder.snapshots
        : await this.diskSnapshotsOffline(where.disk);
    } catch (err) {
      return { ...base, disk: where.disk, error: `The snapshots cannot be read: ${(err as Error).message}` };
    }
    const { entries, current } = reconcile(disk, meta);
    const pending = this.saving.get(id);
    return {
      vmId: id,
      disk: where.disk,
      entries: pending ? entries.filter((e) => !(e.foreign && e.tag === pending)) : entries,
      ...(current ? { current } : {}),
      unsavedChanges: !current || meta.changed || this.state(id) === 'running',
    };
  }

  private async entry(id: string, key: string): Promise<SnapshotEntry> {
    const found = (await this.list(id)).entries.find((e) => e.key === key);
    if (!found) throw new UserError('That snapshot no longer exists', 'not-found');
    return found;
  }

  private assertDiskFree(disk: string): void {
    const held = this.options.busyImages().get(path.resolve(disk));
    if (held) throw new UserError(`Wait: ${held}`, 'image-busy');
  }

  /** Save now: live while the VM runs (or is paused), a disk-only snapshot while it is stopped. */
  async save(id: string): Promise<SnapshotEntry> {
    return this.exclusive(id, 'saving a snapshot', async () => {
      const config = await this.options.library.get(id);
      const where = SnapshotService.where(config);
      if (!where.disk) {
        throw new UserError(where.unsupported ?? 'A stopped VM without a disk has nothing to save: start it, then Save now', 'no-snapshots');
      }
      this.assertDiskFree(where.disk);
      const before = await this.list(id);
      const tag = newTag(new Date(), new Set(before.entries.map((e) => e.tag)));
      this.saving.set(id, tag);
      try {
        return await this.saveAs(id, tag, where, before);
      } finally {
        this.saving.delete(id);
      }
    });
  }

  /** The save itself (under `exclusive`, with its tag announced in `saving`). */
  private async saveAs(id: string, tag: string, where: { disk: string; stateOnly: boolean }, before: Timeline): Promise<SnapshotEntry> {
    const store = this.store(id);
    let made: DiskSnapshot | undefined;
    let thumbnail: 'screen' | 'console' | 'none' = 'none';
    let lines: string[] | undefined;
    const pending = path.join(path.dirname(store.thumbnailPath('x')), `.pending-${process.pid}.png`);
    if (this.live(id)) {
      const qmp = this.options.supervisor.qmpOf(id);
      const { holder, writable } = await this.liveDrives(id, where.disk);
      // The picture first: it shows the moment the save freezes, give or take a frame.
      if (this.options.supervisor.hasDisplay(id)) {
        await fs.mkdir(path.dirname(pending), { recursive: true });
        thumbnail = await qmp.execute('screendump', { filename: pending, format: 'png' }).then(() => 'screen' as const, () => 'none' as const);
      }
      if (thumbnail === 'none') {
        lines = this.options.supervisor.consoleLines(id, thumbnailLines);
        thumbnail = 'console';
      }
      await runQmpJob(qmp, 'snapshot-save', { tag, vmstate: holder.nodeName, devices: writable.map((d) => d.nodeName) }).catch((err: Error) => {
        throw new UserError(`The snapshot was not saved: ${err.message}`, 'save-failed');
      });
      made = (await this.liveDrives(id, where.disk)).holder.snapshots.find((s) => s.name === tag);
    } else {
      if (where.stateOnly) throw new UserError('A stopped VM without a disk has nothing to save: start it, then Save now', 'no-snapshots');
      const drv = await openImage(where.disk, { format: 'qcow2' });
      try {
        if (!(drv instanceof Qcow2Driver)) throw new UserError('The disk is not a QCOW2 image', 'no-snapshots');
        const sn = await drv.createSnapshot({ name: tag });
        made = { id: sn.id, name: sn.name, dateSec: sn.dateSec, dateNsec: sn.dateNsec, vmStateSize: sn.vmStateSize, vmClockNsec: sn.vmClockNsec };
      } finally {
        await drv.close();
      }
    }
    if (!made) throw new UserError('The snapshot was saved but is not listed by the disk', 'save-failed');
    const key = snapshotKey(made);
    if (thumbnail === 'screen') await fs.rename(pending, store.thumbnailPath(key)).catch(() => (thumbnail = 'none'));
    await store.update((meta) => {
      const parent = before.current;
      meta.entries[key] = { ...(parent ? { parent } : {}), thumbnail, ...(lines ? { lines } : {}) };
      meta.current = key;
      meta.changed = false;
    });
    this.options.onChanged(id);
    return this.entry(id, key);
  }

  /** Restore: loadvm while the VM runs; while it is stopped, the disk goes back (qemu-img snapshot -a). */
  async restore(id: string, key: string, discardChanges: boolean): Promise<Timeline> {
    return this.exclusive(id, 'restoring a snapshot', async () => {
      const timeline = await this.list(id);
      const target = timeline.entries.find((e) => e.key === key);
      if (!target) throw new UserError('That snapshot no longer exists', 'not-found');
      if (timeline.unsavedChanges && !discardChanges) {
        const since = timeline.entries.find((e) => e.key === timeline.current);
        const what = since ? `since “${since.title}”` : 'since it was last saved';
        throw new UserError(`The VM has changed ${what}. Restoring “${target.title}” loses those changes unless you save them first.`, 'unsaved-changes');
      }
      this.assertDiskFree(timeline.disk!);
      if (this.live(id)) {
        if (target.kind !== 'live') {
          throw new UserError(`“${target.title}” holds only the disk (it was taken while the VM was stopped): stop the VM to restore it`, 'offline-snapshot');
        }
        const qmp = this.options.supervisor.qmpOf(id);
        const { holder, writable } = await this.liveDrives(id, timeline.disk!);
        await runQmpJob(qmp, 'snapshot-load', { tag: target.tag, vmstate: holder.nodeName, devices: writable.map((d) => d.nodeName) }).catch((err: Error) => {
          throw new UserError(`The snapshot was not restored: ${err.message}`, 'restore-failed');
        });
      } else {
        const drv = await openImage(timeline.disk!, { format: 'qcow2' });
        try {
          if (drv instanceof Qcow2Driver) await drv.applySnapshot(target.id);
        } finally {
          await drv.close();
        }
      }
      await this.store(id).update((meta) => {
        meta.current = key;
        meta.changed = false;
      });
      this.options.onChanged(id);
      return this.list(id);
    });
  }

  async rename(id: string, key: string, title: string): Promise<Timeline> {
    const entry = await this.entry(id, key);
    await this.store(id).update((meta) => {
      meta.entries[key] = { ...(meta.entries[key] ?? { thumbnail: 'none', foreign: entry.foreign }), title };
    });
    this.options.onChanged(id);
    return this.list(id);
  }

  async delete(id: string, key: string): Promise<Timeline> {
    return this.exclusive(id, 'deleting a snapshot', async () => {
      const target = await this.entry(id, key);
      const timeline = await this.list(id);
      this.assertDiskFree(timeline.disk!);
      if (this.live(id)) {
        const qmp = this.options.supervisor.qmpOf(id);
        const { writable } = await this.liveDrives(id, timeline.disk!);
        await runQmpJob(qmp, 'snapshot-delete', { tag: target.tag, devices: writable.map((d) => d.nodeName) }).catch((err: Error) => {
          throw new UserError(`The snapshot was not deleted: ${err.message}`, 'delete-failed');
        });
      } else {
        const drv = await openImage(timeline.disk!, { format: 'qcow2' });
        try {
          if (drv instanceof Qcow2Driver) await drv.deleteSnapshot(target.id);
        } finally {
          await drv.close();
        }
      }
      const store = this.store(id);
      await store.update((meta) => {
        // Its children now follow its parent; the present state too, if it followed it.
        const parent = meta.entries[key]?.parent ?? target.parent;
        for (const e of Object.values(meta.entries)) if (e.parent === key) e.parent = parent;
        if (meta.current === key) meta.current = parent;
        delete meta.entries[key];
      });
      await fs.rm(store.thumbnailPath(key), { force: true });
      this.options.onChanged(id);
      return this.list(id);
    });
  }

  async thumbnail(id: string, key: string): Promise<string | null> {
    try {
      const png = await fs.readFile(this.store(id).thumbnailPath(key));
      return `data:image/png;base64,${png.toString('base64')}`;
    } catch {
      return null;
    }
  }

  /**
   * The supervisor saw the VM start, run, pause or stop outside a save or restore: it ran, so its
   * state differs from the last save or restore.
   */
  async noteState(id: string): Promise<void> {
    if (this.inFlight.has(id)) return;
    const store = this.store(id);
    const meta = await store.read();
    if (meta.changed) return;
    meta.changed = true;
    await store.write(meta);
  }
}
