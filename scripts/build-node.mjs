// Bundles the Node-side entry points (the `viv` CLI and the core host) with esbuild.
// npm packages stay external: they are installed beside the bundle.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const entries = {
  'cli/viv': 'src/cli/main.ts',
  'host/core-host': 'src/emulator-core/host/core-host.ts',
  // The translator's worker thread (src/emulator-core/tcg/translator.ts finds it here).
  'tcg/worker': 'src/emulator-core/tcg/worker.ts',
};
const entryPoints = Object.fromEntries(
  Object.entries(entries).filter(([, src]) => existsSync(path.join(root, src))),
);
if (Object.keys(entryPoints).length === 0) process.exit(0);
await build({
  absWorkingDir: root,
  entryPoints,
  outdir: 'out',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  // Each subcommand in its own chunk, loaded on use: `viv img` does not load the emulator (measured:
  // ~0.2 s less per invocation, which the image store and qemu-img-style scripts pay every time).
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  platform: 'node',
  target: 'node20',
  format: 'esm',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
  banner: { js: "import { createRequire as __vivCreateRequire } from 'node:module'; const require = __vivCreateRequire(import.meta.url);" },
});
