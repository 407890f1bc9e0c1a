// The VM library as the renderer holds it: the list, live state from main's events, and every
// VM action. Views read `vms` and call actions; errors land in `error` (or are rethrown to the
// wizard, which shows them beside the field they are about).
import { defineStore } from 'pinia';
import type { AppEvent, VmEntry } from '../../shared/api';
import type { CreateVmRequest, VmConfigPatch } from '../../shared/vm-config';
import { messageOf } from '../api/api-error';
import { useApi } from '../api';

export type VmAction = 'start' | 'pause' | 'resume' | 'reset' | 'shutdown' | 'forceOff';

const channelOf = {
  start: 'vms.start',
  pause: 'vms.pause',
  resume: 'vms.resume',
  reset: 'vms.reset',
  shutdown: 'vms.shutdown',
  forceOff: 'vms.forceOff',
} as const;

export interface Progress {
  label: string;
  fraction?: number;
}

export const useVmsStore = defineStore('vms', {
  state: () => ({
    vms: [] as VmEntry[],
    loaded: false,
    error: '' as string,
    /** The action in flight per VM (buttons show it and disable). */
    busy: {} as Record<string, string>,
    progress: {} as Record<string, Progress>,
    unsubscribe: undefined as (() => void) | undefined,
  }),
  getters: {
    byId: (state) => (id: string) => state.vms.find((v) => v.id === id),
    sorted: (state) => [...state.vms].sort((a, b) => a.name.localeCompare(b.name)),
  },
  actions: {
    async load() {
      this.subscribe();
      try {
        this.vms = await useApi().invoke('vms.list');
        this.error = '';
      } catch (err) {
        this.error = `Could not load the VM library: ${messageOf(err)}`;
      } finally {
        this.loaded = true;
      }
    },
    subscribe() {
      this.unsubscribe ??= useApi().onEvent((e) => this.apply(e));
    },
    apply(event: AppEvent) {
      if (event.type === 'vm.changed') this.upsert(event.vm);
      else if (event.type === 'vm.removed') this.vms = this.vms.filter((v) => v.id !== event.id);
      else if (event.type === 'progress') {
        if (event.done) delete this.progress[event.id];
        else this.progress[event.id] = { label: event.label, ...(event.fraction !== undefined ? { fraction: event.fraction } : {}) };
      }
    },
    upsert(vm: VmEntry) {
      const i = this.vms.findIndex((v) => v.id === vm.id);
      if (i >= 0) this.vms[i] = vm;
      else this.vms.push(vm);
    },
    /** Throws ApiCallError (with `field`) so the wizard can show it where it belongs. */
    async create(request: CreateVmRequest): Promise<VmEntry> {
      const vm = await useApi().invoke('vms.create', request);
      this.upsert(vm);
      return vm;
    },
    async update(id: string, patch: VmConfigPatch): Promise<VmEntry> {
      const vm = await useApi().invoke('vms.update', id, patch);
      this.upsert(vm);
      return vm;
    },
    async act(id: string, action: VmAction): Promise<boolean> {
      this.busy[id] = action;
      try {
        this.upsert(await useApi().invoke(channelOf[action], id));
        this.error = '';
        return true;
      } catch (err) {
        this.error = messageOf(err);
        return false;
      } finally {
        delete this.busy[id];
      }
    },
    async remove(id: string, deleteDisks: boolean): Promise<boolean> {
      this.busy[id] = 'delete';
      try {
        await useApi().invoke('vms.delete', id, { deleteDisks });
        this.vms = this.vms.filter((v) => v.id !== id);
        return true;
      } catch (err) {
        this.error = messageOf(err);
        return false;
      } finally {
        delete this.busy[id];
      }
    },
  },
});
