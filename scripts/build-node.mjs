// Bundles the Node-side entry points (the `viv` CLI and the core host) with esbuild.
// npm packages stay external: they are installed beside the bundle.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { writeImgCodeCache } from './img-code-cache.mjs';

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
const common = {
  absWorkingDir: root,
  outdir: 'out',
  bundle: true,
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
};
await build({
  ...common,
  entryPoints,
  outExtension: { '.js': '.mjs' },
  // Each subcommand in its own chunk, loaded on use: `viv img` does not load the emulator (measured:
  // ~0.2 s less per invocation, which the image store and qemu-img-style scripts pay every time).
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  format: 'esm',
  banner: { js: "import { createRequire as __vivCreateRequire } from 'node:module'; const require = __vivCreateRequire(import.meta.url);" },
});
// `viv img` once more, on its own, as one CommonJS file: bin/viv.cjs loads it with a V8 code
// cache (src/cli/img-main.ts says why), which this build makes by running it.
if (existsSync(path.join(root, 'src/cli/img-main.ts'))) {
  await build({
    ...common,
    entryPoints: { 'cli/img': 'src/cli/img-main.ts' },
    outExtension: { '.js': '.cjs' },
    format: 'cjs',
    // import() of fflate and node:child_process becomes require(): a script compiled by
    // vm.Script (which the code cache needs) cannot import() in node 20 without a flag.
    supported: { 'dynamic-import': false },
  });
  writeImgCodeCache(root);
}
