// App settings in <data>/vivarium/settings.json. An unreadable file falls back to the defaults
// (settings are preferences, never worth refusing to start over) and is rewritten on next change.
import { promises as fs } from 'node:fs';
import { AppSettings, type AppSettingsPatch, defaultSettings } from '../../shared/settings';
import { writeJsonAtomic } from './atomic-file';

export class SettingsStore {
  private cached: AppSettings | undefined;

  constructor(private readonly file: string) {}

  async get(): Promise<AppSettings> {
    if (this.cached) return this.cached;
    try {
      const parsed = AppSettings.safeParse(JSON.parse(await fs.readFile(this.file, 'utf8')));
      this.cached = parsed.success ? parsed.data : { ...defaultSettings };
    } catch {
      this.cached = { ...defaultSettings };
    }
    return this.cached;
  }

  async set(patch: AppSettingsPatch): Promise<AppSettings> {
    const next = AppSettings.parse({ ...(await this.get()), ...patch });
    await writeJsonAtomic(this.file, next);
    this.cached = next;
    return next;
  }
}
