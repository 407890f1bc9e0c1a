// App settings and the host's limits (what the wizard may offer).
import { defineStore } from 'pinia';
import type { HostInfo } from '../../shared/api';
import { type AppSettings, type AppSettingsPatch, defaultSettings } from '../../shared/settings';
import { messageOf } from '../api/api-error';
import { useApi } from '../api';

export const useSettingsStore = defineStore('settings', {
  state: () => ({
    settings: { ...defaultSettings } as AppSettings,
    host: undefined as HostInfo | undefined,
    error: '',
    saved: false,
  }),
  actions: {
    async load() {
      try {
        const api = useApi();
        [this.settings, this.host] = await Promise.all([api.invoke('settings.get'), api.invoke('host.info')]);
      } catch (err) {
        this.error = messageOf(err);
      }
    },
    async save(patch: AppSettingsPatch): Promise<boolean> {
      try {
        this.settings = await useApi().invoke('settings.set', patch);
        this.error = '';
        this.saved = true;
        return true;
      } catch (err) {
        this.error = messageOf(err);
        return false;
      }
    },
  },
});
