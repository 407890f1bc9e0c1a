// Electron IPC channel names (the preload and the shell). Kept apart from api.ts so the sandboxed
// preload bundles no schema library: it only forwards, and main validates.
export const ipc = {
  invoke: 'vivarium:invoke',
  event: 'vivarium:event',
  consoleOpen: 'vivarium:console-open',
  consoleData: 'vivarium:console-data',
  consoleInput: 'vivarium:console-input',
  consoleClose: 'vivarium:console-close',
  /** Renderer -> main: a display window wants a MessagePort to a VM's core host. */
  displayOpen: 'vivarium:display-open',
  /** Main -> preload (with the port), and preload -> page as the window message's key. */
  displayPort: 'vivarium:display-port',
} as const;
