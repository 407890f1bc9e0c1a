// build/icon.svg -> build/icon.png (512x512, transparent) with Debian's headless Chromium, the
// one SVG renderer every machine of this project has. Run by hand when the SVG changes.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const here = import.meta.dirname;
const profile = mkdtempSync(path.join(os.tmpdir(), 'viv-icon-'));
try {
  execFileSync('/usr/bin/chromium', [
    '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--no-first-run',
    `--user-data-dir=${profile}`, '--window-size=512,512', '--default-background-color=00000000',
    `--screenshot=${path.join(here, 'icon.png')}`, `file://${path.join(here, 'icon.svg')}`,
  ], { stdio: 'ignore' });
} finally {
  rmSync(profile, { recursive: true, force: true });
}
