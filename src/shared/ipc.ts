// Electron IPC channel names (the preload and the shell). Kept apart from api.ts so the sandboxed
// preload bundles no schema library: it only forwards, and main validates.
export const ipc = {
  invoke: 'vivarium:invoke',
  event: 'vivarium:event',
  consoleOpen: 'vivarium:console-open',
  consoleData: 'vivarium:console-data',
  consoleInput: 'vivarium:console-input',
  consoleClose: 'vivarium:console-close',
} as const;
