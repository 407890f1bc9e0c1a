// App-wide settings (not per VM): stored beside the library as settings.json.
import { z } from 'zod';
import { Limits } from './vm-config';

export const AppSettings = z.object({
  version: z.literal(1).default(1),
  /** Wizard defaults. */
  defaultMemoryMiB: z.number().int().min(Limits.memoryMiB.min).max(Limits.memoryMiB.max).default(512),
  defaultCpus: z.number().int().min(Limits.cpus.min).max(Limits.cpus.max).default(1),
  /** Console window: lines kept in xterm's scrollback, and its font size. */
  consoleScrollback: z.number().int().min(100).max(100_000).default(5000),
  consoleFontSize: z.number().int().min(8).max(32).default(14),
  /** Ask before Force off (it loses unsaved guest data, like pulling the plug). */
  confirmForceOff: z.boolean().default(true),
});
export type AppSettings = z.infer<typeof AppSettings>;

export const AppSettingsPatch = AppSettings.omit({ version: true }).partial().strict();
export type AppSettingsPatch = z.infer<typeof AppSettingsPatch>;

export const defaultSettings: AppSettings = AppSettings.parse({});
