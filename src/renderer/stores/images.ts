// Files the wizard points at: kernels, initrds, firmware, disk images. The renderer cannot see
// the file system; main checks a path and says what is there (and a disk's format).
import { defineStore } from 'pinia';
import type { FileCheck } from '../../shared/api';
import { useApi } from '../api';

export const useImagesStore = defineStore('images', {
  state: () => ({ checks: {} as Record<string, FileCheck> }),
  actions: {
    async check(path: string): Promise<FileCheck> {
      const result = await useApi().invoke('files.check', path);
      this.checks[path] = result;
      return result;
    },
    /** A message for a path that must be an existing file, or '' when it is one. */
    async problem(path: string, what: string): Promise<string> {
      if (!path.trim()) return `Choose the ${what.toLowerCase()} file`;
      if (!path.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(path)) return `${what}: use an absolute path`;
      const c = await this.check(path);
      if (c.kind === 'missing') return `${what} not found: ${path}`;
      if (c.kind === 'directory') return `${what} is a folder, not a file: ${path}`;
      if (c.kind === 'unreadable') return `${what} cannot be read: ${path}`;
      return '';
    },
  },
});
