// The `viv img` launcher: bin/viv.cjs loads out/cli/img.cjs with the V8 code cache the build
// made (and V8 accepts it), falls back to compiling when the cache is missing or does not fit,
// and the old entry bin/viv.mjs still runs every command.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, root, viv } from './img-lib';

const cache = path.join(root, 'out/cli/img.cjs.cache');
const dir = mkdtempSync(path.join(tmpdir(), 'viv-img-launcher-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(() => ensureBuilt(), 120_000);

const node = (args: string[]) => spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8' });
const cacheState = () => node(['-e', `const { loadImg } = require(${JSON.stringify(path.join(root, 'bin/viv.cjs'))});
  const { script } = loadImg(); console.log(script.cachedDataRejected ? 'rejected' : 'accepted')`]).stdout.trim();

describe('viv img launcher', () => {
  it('the build made a code cache and this node accepts it', () => {
    expect(existsSync(cache)).toBe(true);
    expect(cacheState()).toBe('accepted');
  });

  it('without a usable cache the command still works', () => {
    const saved = path.join(dir, 'saved.cache');
    copyFileSync(cache, saved);
    try {
      writeFileSync(cache, 'not a code cache');
      expect(cacheState()).toBe('rejected');
      expect(viv(['create', '-q', '-f', 'qcow2', path.join(dir, 'a.qcow2'), '1M']).status).toBe(0);
      rmSync(cache);
      expect(viv(['info', path.join(dir, 'a.qcow2')]).stdout).toMatch(/^file format: qcow2$/m);
    } finally {
      copyFileSync(saved, cache);
    }
  });

  it('bin/viv.mjs runs img and the other commands as before', () => {
    const r = node([path.join(root, 'bin/viv.mjs'), 'img', '--version']);
    expect(r.stdout).toMatch(/^viv img \(Vivarium\)/);
    const usage = node([path.join(root, 'bin/viv.mjs'), 'help']);
    expect(usage.status).toBe(0);
    expect(usage.stdout).toMatch(/^usage: viv <command>/);
  });
});
