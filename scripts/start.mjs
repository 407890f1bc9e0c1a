// `npm start`: the app with a ready demo VM. Builds what is missing, then starts the Electron app
// where its binary was downloaded (node_modules/electron/dist), else web mode, which prints a URL
// to open in a browser. Either way the demo VM (the shared RISC-V guest) is added if absent.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const built = ['out/cli/viv.mjs', 'out/renderer/index.html', 'out/main/index.js', 'out/preload/index.cjs'];
if (built.some((f) => !existsSync(path.join(root, f)))) {
  console.log('npm start: building the app first (npm run build)…');
  const r = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const electronDist = path.join(root, 'node_modules', 'electron', 'dist');
let child;
if (existsSync(electronDist)) {
  const { default: electronBinary } = await import('electron');
  child = spawn(electronBinary, [root], { cwd: root, stdio: 'inherit', env: { ...process.env, VIVARIUM_DEMO: '1' } });
} else {
  console.log('npm start: no Electron binary here (offline install), so the app runs in web mode.\n');
  child = spawn(process.execPath, [path.join(root, 'bin', 'viv.mjs'), 'serve', '--demo', ...process.argv.slice(2)], {
    cwd: root,
    stdio: 'inherit',
  });
}
// Ctrl-C reaches the child through the terminal; pass on a plain SIGTERM too.
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
