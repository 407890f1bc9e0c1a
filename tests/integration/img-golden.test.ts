// Golden outputs: each tests/fixtures/img/*.cmds is a script of commands (qemu-iotests style);
// its .out is what Debian's qemu-img prints for it, after normalising paths and dates. viv img
// must print the same; qemu-img is run too, so a golden that stopped being qemu-img's shows.
// To regenerate the goldens from qemu-img: VIV_IMG_ACCEPT=1 npx vitest run --project integration img-golden
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, fixtures, hasQemuTools, loadScript, runScript } from './img-lib';

const qemu = hasQemuTools();
const accept = process.env.VIV_IMG_ACCEPT === '1';
const scripts = readdirSync(fixtures).filter((f) => f.endsWith('.cmds')).sort();

describe.skipIf(!qemu)('viv img golden outputs (qemu-img 7.2)', () => {
  beforeAll(() => ensureBuilt());
  for (const file of scripts) {
    const script = loadScript(path.join(fixtures, file));
    const golden = path.join(fixtures, `${script.name}.out`);
    it(script.name, () => {
      if (accept) writeFileSync(golden, runScript(script, script.vivOnly ? 'viv' : 'qemu'));
      expect(existsSync(golden), `${golden} missing: run with VIV_IMG_ACCEPT=1`).toBe(true);
      const expected = readFileSync(golden, 'utf8');
      if (!script.vivOnly) expect(runScript(script, 'qemu'), 'qemu-img no longer prints the golden').toBe(expected);
      expect(runScript(script, 'viv')).toBe(expected);
    });
  }
});
