// Where Vivarium keeps its data: the XDG base directory spec ($XDG_DATA_HOME, default
// ~/.local/share), so a test or a second profile points XDG_DATA_HOME elsewhere.
import os from 'node:os';
import path from 'node:path';

export function dataRoot(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_DATA_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.local', 'share');
  return path.join(base, 'vivarium');
}

export interface LibraryPaths {
  root: string;
  vms: string;
  lock: string;
  settings: string;
  /** Images the app imported or created (the Images view). */
  images: string;
}

export function libraryPaths(root: string): LibraryPaths {
  return {
    root,
    vms: path.join(root, 'vms'),
    lock: path.join(root, 'library.lock'),
    settings: path.join(root, 'settings.json'),
    images: path.join(root, 'images'),
  };
}
