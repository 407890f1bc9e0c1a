#!/usr/bin/env node
// A core host backed by the reference implementation: runs Debian's qemu-system-riscv64 with the
// argv the app gives `viv run`. It checks the app's argv mapping, QMP client and serial relay
// against QEMU itself, and boots the real shared guest before our own emulator does.
// (An interop peer for tests and benchmarks, not a product path.)
import { spawn } from 'node:child_process';

const args = process.argv.slice(2);
if (args[0] === 'run') args.shift();
// No monitor on stdio (the app talks QMP on its socket; stdin is not a terminal).
const qemu = spawn('qemu-system-riscv64', [...args, '-monitor', 'none'], { stdio: ['ignore', 'inherit', 'inherit'] });
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => qemu.kill(signal));
// Pause by signal (viv serve --no-qmp) reaches this wrapper: pass it on.
process.on('SIGCONT', () => qemu.kill('SIGCONT'));
qemu.on('error', (err) => {
  console.error(`qemu-core-host: ${err.message}`);
  process.exit(127);
});
qemu.on('exit', (code, signal) => process.exit(code ?? (signal === 'SIGTERM' ? 143 : 1)));
