// Shared helpers of the `viv img` integration tests: the built CLI, Debian's qemu-img/qemu-io,
// scratch directories, and the golden-output runner (qemu-iotests style).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const root = path.resolve(import.meta.dirname, '../..');
export const fixtures = path.join(root, 'tests/fixtures/img');
export const vivBin = path.join(root, 'bin/viv.cjs');

let built = false;
/** Bundles the CLI (esbuild, about a second) so the tests run the code under test. */
export function ensureBuilt(): void {
  if (built) return;
  execFileSync(process.execPath, [path.join(root, 'scripts/build-node.mjs')], { cwd: root, stdio: 'inherit' });
  built = true;
}

export function hasQemuTools(): boolean {
  return spawnSync('qemu-img', ['--version']).status === 0 && spawnSync('qemu-io', ['--version']).status === 0;
}

export interface Run {
  stdout: string;
  stderr: string;
  status: number;
}

export function viv(args: string[], cwd?: string, env?: NodeJS.ProcessEnv): Run {
  const r = spawnSync(process.execPath, [vivBin, 'img', ...args], { cwd, encoding: 'utf8', env: env ?? process.env, maxBuffer: 64 << 20 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
}

export function qemuImg(args: string[], cwd?: string): Run {
  const r = spawnSync('qemu-img', args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
}

export function qemuIo(args: string[], cwd?: string): Run {
  const r = spawnSync('qemu-io', args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
}

export function scratch(name: string): string {
  return mkdtempSync(path.join(tmpdir(), `viv-img-${name}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

// ---- golden scripts ---------------------------------------------------------------------------

export interface Script {
  name: string;
  commands: string[];
  filters: Set<string>;
  /** The golden is viv's own output (features qemu-img has and we refuse): not compared with qemu-img. */
  vivOnly: boolean;
}

export function loadScript(file: string): Script {
  const commands: string[] = [];
  const filters = new Set<string>();
  let vivOnly = false;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const t = line.trim();
    if (t.startsWith('#!')) {
      const [kw, ...rest] = t.slice(2).trim().split(/\s+/);
      if (kw === 'filter') rest.forEach((f) => filters.add(f));
      else if (kw === 'viv-only') vivOnly = true;
      else throw new Error(`${file}: unknown directive ${t}`);
      continue;
    }
    if (!t || t.startsWith('#')) continue;
    commands.push(t);
  }
  return { name: path.basename(file, '.cmds'), commands, filters, vivOnly };
}

/** A directory whose `qemu-img` runs the tool under test. */
function shimDir(tool: 'viv' | 'qemu'): string {
  const dir = path.join(tmpdir(), `viv-img-shim-${tool}-${process.pid}`);
  if (existsSync(path.join(dir, 'qemu-img'))) return dir;
  mkdirSync(dir, { recursive: true });
  const target = tool === 'viv'
    ? `#!/bin/sh\nexec "${process.execPath}" "${vivBin}" img "$@"\n`
    : '#!/bin/sh\nexec /usr/bin/env -S qemu-img "$@"\n';
  if (tool === 'qemu') {
    const real = execFileSync('bash', ['-c', 'command -v qemu-img'], { encoding: 'utf8' }).trim();
    writeFileSync(path.join(dir, 'qemu-img'), `#!/bin/sh\nexec "${real}" "$@"\n`);
  } else writeFileSync(path.join(dir, 'qemu-img'), target);
  chmodSync(path.join(dir, 'qemu-img'), 0o755);
  return dir;
}

function normalize(text: string, dir: string, filters: Set<string>): string {
  let t = text.split(dir).join('$TEST_DIR');
  t = t.replace(/^(qemu-img|viv img): /gm, 'IMG: ');
  t = t.replace(/Try '(qemu-img|viv img) --help'/g, "Try 'IMG --help'");
  t = t.replace(/(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)( +\d\d:\d\d:\d\d\.\d{3})/g, 'YYYY-MM-DD HH:MM:SS$2');
  t = t.replace(/"date-(sec|nsec)": \d+/g, '"date-$1": T');
  if (filters.has('disk-size')) {
    t = t.replace(/^disk size: .*$/gm, 'disk size: SIZE').replace(/"actual-size": \d+/g, '"actual-size": SIZE');
  }
  if (filters.has('end-offset')) {
    t = t.replace(/^Image end offset: \d+$/gm, 'Image end offset: N').replace(/"image-end-offset": \d+/g, '"image-end-offset": N');
  }
  if (filters.has('fragmented')) {
    t = t.replace(/\d+\.\d\d% fragmented/g, 'F% fragmented').replace(/"fragmented-clusters": \d+/g, '"fragmented-clusters": F');
  }
  if (filters.has('map-offset')) {
    t = t.replace(/"offset": \d+/g, '"offset": OFF').replace(/^(\S+\s+\S+\s+)0x[0-9a-f]+(\s+)/gm, '$1OFF$2');
  }
  if (filters.has('progress')) t = t.replace(/( +\(\d+\.\d\d\/100%\)\r)+/g, 'PROGRESS\r');
  return t;
}

function section(label: string, text: string): string {
  if (!text) return '';
  return `${label ? `--- ${label}\n` : ''}${text}${text.endsWith('\n') ? '' : '\n[no newline]\n'}`;
}

/** Runs every command of `script` in a fresh directory with `tool` as qemu-img; the transcript. */
export function runScript(script: Script, tool: 'viv' | 'qemu'): string {
  const dir = scratch(script.name);
  const bin = shimDir(tool);
  let out = '';
  try {
    for (const cmd of script.commands) {
      const r = spawnSync('bash', ['-c', cmd], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, TOOLS: path.join(fixtures, 'tools'), TZ: 'UTC', LC_ALL: 'C' },
        maxBuffer: 64 << 20,
      });
      out += `== ${cmd}\n`;
      out += section('', normalize(r.stdout, dir, script.filters));
      out += section('stderr', normalize(r.stderr, dir, script.filters));
      if (r.status !== 0) out += `--- exit ${r.status}\n`;
    }
  } finally {
    removeDir(dir);
  }
  return out;
}
