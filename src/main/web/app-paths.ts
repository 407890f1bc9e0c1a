// Where the running app finds its parts, from the location of the bundle it runs in
// (out/cli/viv.mjs): the renderer, the viv CLI (core host + image tool) and the demo guest.
import path from 'node:path';

export interface AppLocations {
  root: string;
  rendererDir: string;
  vivEntry: string;
  guestDir: string;
}

export function appLocations(bundleFile: string, env: NodeJS.ProcessEnv = process.env): AppLocations {
  const root = path.resolve(path.dirname(bundleFile), '..', '..');
  return {
    root,
    rendererDir: path.join(root, 'out', 'renderer'),
    vivEntry: path.join(root, 'out', 'cli', 'viv.mjs'),
    guestDir: env.VIVARIUM_GUEST_DIR ?? path.resolve(root, '..', 'shared', 'guests', 'riscv64'),
  };
}
