// Each VM's snapshot timeline as the VM page shows it: the entries with their tree, which one the
// present follows, whether the VM changed since; Save now, Restore, rename, delete; the screen
// thumbnails fetched once each. Kept current from main's `snapshots.changed` events.
import { defineStore } from 'pinia';
import type { AppEvent } from '../../shared/api';
import type { SnapshotEntry, Timeline } from '../../shared/snapshots';
import { messageOf } from '../api/api-error';
import { useApi } from '../api';

export type SnapshotAction = 'save' | 'restore' | 'rename' | 'delete';

interface VmTimeline {
  timeline?: Timeline;
  error: string;
  busy?: SnapshotAction;
  loading: boolean;
}

export const useSnapshotsStore = defineStore('snapshots', {
  state: () => ({
    byVm: {} as Record<string, VmTimeline>,
    /** PNG data URLs by VM and key; null when there is none. */
    thumbnails: {} as Record<string, string | null>,
    unsubscribe: undefined as (() => void) | undefined,
  }),
  getters: {
    of: (state) => (vmId: string): VmTimeline => state.byVm[vmId] ?? { error: '', loading: false },
  },
  actions: {
    /** The VM's reactive entry (read back from the state: the object assigned is not the proxy). */
    slot(vmId: string): VmTimeline {
      if (!this.byVm[vmId]) this.byVm[vmId] = { error: '', loading: false };
      return this.byVm[vmId]!;
    },
    subscribe() {
      this.unsubscribe ??= useApi().onEvent((e) => this.apply(e));
    },
    apply(event: AppEvent) {
      if (event.type === 'snapshots.changed' && this.byVm[event.vmId]) void this.load(event.vmId);
    },
    async load(vmId: string) {
      this.subscribe();
      const slot = this.slot(vmId);
      slot.loading = true;
      try {
        slot.timeline = await useApi().invoke('snapshots.list', vmId);
        for (const e of slot.timeline.entries) if (e.thumbnail.kind === 'screen') void this.thumbnail(vmId, e.key);
      } catch (err) {
        slot.error = messageOf(err);
      } finally {
        slot.loading = false;
      }
    },
    async thumbnail(vmId: string, key: string) {
      const id = `${vmId}/${key}`;
      if (id in this.thumbnails) return;
      this.thumbnails[id] = null;
      try {
        this.thumbnails[id] = await useApi().invoke('snapshots.thumbnail', vmId, key);
      } catch {
        /* shown without a picture */
      }
    },
    /** Runs one action on a VM's timeline; false (with the message in `error`) when refused. */
    async act(vmId: string, action: SnapshotAction, call: () => Promise<Timeline | SnapshotEntry>): Promise<boolean> {
      const slot = this.slot(vmId);
      slot.busy = action;
      slot.error = '';
      try {
        const answer = await call();
        if ('entries' in answer) slot.timeline = answer;
        else await this.load(vmId);
        return true;
      } catch (err) {
        slot.error = messageOf(err);
        return false;
      } finally {
        slot.busy = undefined;
      }
    },
    save(vmId: string) {
      return this.act(vmId, 'save', () => useApi().invoke('snapshots.save', vmId));
    },
    /**
     * Restore; with `discardChanges` false main refuses when the VM changed since its last save
     * (code `unsaved-changes`): the view asks first, so this normally passes what the person chose.
     */
    async restore(vmId: string, key: string, discardChanges: boolean): Promise<boolean> {
      return this.act(vmId, 'restore', () => useApi().invoke('snapshots.restore', vmId, key, { discardChanges }));
    },
    rename(vmId: string, key: string, title: string) {
      return this.act(vmId, 'rename', () => useApi().invoke('snapshots.rename', vmId, key, title));
    },
    remove(vmId: string, key: string) {
      return this.act(vmId, 'delete', () => useApi().invoke('snapshots.delete', vmId, key));
    },
  },
});
