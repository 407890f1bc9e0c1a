// Makes out/cli/img.cjs.cache, the V8 code cache bin/viv.cjs loads `viv img` with: the bundle is
// loaded as bin/viv.cjs loads it, a few typical commands run on a small scratch image (so the
// functions they use are compiled too, not only the top level), and the script's cache is
// written. Runs in a child node, the node that will run `viv` (a cache only fits its own V8).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const WARM_UP = String.raw`
const fs = require('node:fs');
const path = require('node:path');
const [bin, dir, cacheFile] = process.argv.slice(1);
const { loadImg } = require(bin);
const { img, script } = loadImg();
(async () => {
  // A sparse raw image: data, holes, and a zero run inside the data.
  const raw = path.join(dir, 'a.raw');
  const fd = fs.openSync(raw, 'w');
  fs.writeSync(fd, Buffer.alloc(3 << 20, 'warm-up '), 0, 3 << 20, 1 << 20);
  fs.writeSync(fd, Buffer.alloc(1 << 20), 0, 1 << 20, 5 << 20);
  fs.ftruncateSync(fd, 8 << 20);
  fs.closeSync(fd);
  const q = path.join(dir, 'b.qcow2');
  for (const argv of [
    ['convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, q],
    ['convert', '-q', '-O', 'raw', q, path.join(dir, 'c.raw')],
    ['create', '-q', '-f', 'qcow2', path.join(dir, 'd.qcow2'), '1G'],
  ]) {
    const code = await img.main(argv);
    if (code !== 0) throw new Error('warm-up: viv img ' + argv.join(' ') + ' exited ' + code);
  }
  // Renamed into place: a viv starting meanwhile reads the old cache or the new one, whole.
  fs.writeFileSync(cacheFile + '.tmp', script.createCachedData());
  fs.renameSync(cacheFile + '.tmp', cacheFile);
})().catch((err) => {
  console.error(String(err));
  process.exitCode = 1;
});
`;

export function writeImgCodeCache(root) {
  const dir = mkdtempSync(path.join(tmpdir(), 'viv-code-cache-'));
  try {
    const cacheFile = path.join(root, 'out/cli/img.cjs.cache');
    const r = spawnSync(process.execPath, ['-e', WARM_UP, path.join(root, 'bin/viv.cjs'), dir, cacheFile], { stdio: 'inherit' });
    // Without a cache `viv img` still works, only slower to start: say so, do not fail the build.
    if (r.status !== 0) console.warn('build: no code cache for viv img (the warm-up failed)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
