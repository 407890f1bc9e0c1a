#!/usr/bin/env node
'use strict';
// The `viv` command: run, img, user, serve. The code lives in out/cli (built by `npm run build`,
// which `npm ci` runs through the prepare script).
//
// A CommonJS file, because an ES module entry costs node ~6 ms more to start, and `viv img` is
// run once per qemu-img-style command. `viv img` loads its own bundle, out/cli/img.cjs, compiled
// with the V8 code cache the build made for it (out/cli/img.cjs.cache): when this node's V8
// does not accept the cache (another version or flags), it is compiled as usual.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

const outCli = path.join(__dirname, '..', 'out', 'cli');
const imgBundle = path.join(outCli, 'img.cjs');

/** Loads out/cli/img.cjs with its code cache; returns its exports and the compiled script. */
function loadImg() {
  const source = Module.wrap(fs.readFileSync(imgBundle, 'utf8'));
  let cachedData;
  try {
    cachedData = fs.readFileSync(`${imgBundle}.cache`);
  } catch {
    cachedData = undefined;
  }
  // (The bundle has no import(): the build turned them into require(), which vm.Script allows.)
  const script = new vm.Script(source, { filename: imgBundle, cachedData });
  const mod = { exports: {} };
  script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(imgBundle), mod, imgBundle, outCli);
  return { img: mod.exports, script };
}

function run() {
  if (process.argv[2] === 'img' && fs.existsSync(imgBundle)) {
    loadImg().img.main(process.argv.slice(3)).then((code) => {
      process.exitCode = code;
    });
    return;
  }
  const entry = path.join(outCli, 'viv.mjs');
  if (!fs.existsSync(entry)) {
    console.error('viv: not built yet; run `npm run build` in the Vivarium folder');
    process.exit(1);
  }
  import(require('node:url').pathToFileURL(entry).href);
}

module.exports = { run, loadImg };
if (require.main === module) run();
