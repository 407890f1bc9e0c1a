#!/usr/bin/env node
// The `viv` command: run, img, user, serve. The code lives in out/cli (built by `npm run build`,
// which `npm ci` runs through the prepare script).
import { existsSync } from 'node:fs';

const entry = new URL('../out/cli/viv.mjs', import.meta.url);
if (!existsSync(entry)) {
  console.error('viv: not built yet; run `npm run build` in the Vivarium folder');
  process.exit(1);
}
await import(entry.href);
