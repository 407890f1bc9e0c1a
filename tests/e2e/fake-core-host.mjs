#!/usr/bin/env node
// A stand-in for `viv run` that speaks the same sockets: `-serial unix:PATH,server=on,wait=off`
// (a byte stream: boot lines, GUEST-READY, a shell that echoes and answers a few commands) and
// `-qmp unix:PATH,server=on,wait=off` (greeting, capabilities, query-status, stop, cont,
// system_reset, system_powerdown, quit, in QEMU 7.2's shapes). It lets the app be developed and
// tested before the emulator boots a guest; tests say which host they ran against.
import { existsSync, rmSync } from 'node:fs';
import net from 'node:net';

const args = process.argv.slice(2);
if (args[0] === 'run') args.shift();
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const unixPath = (spec) => spec && /^unix:([^,]+)/.exec(spec)?.[1];

const kernel = opt('-kernel');
if (kernel && !existsSync(kernel)) {
  console.error(`viv run: -kernel: cannot read ${kernel}`);
  process.exit(1);
}
const serialPath = unixPath(opt('-serial'));
const qmpPath = unixPath(opt('-qmp'));
if (!serialPath) {
  console.error('fake core host: needs -serial unix:PATH,server=on,wait=off');
  process.exit(1);
}

let running = true;
const out = [];
let serialClient;
const emit = (text) => {
  const bytes = Buffer.from(text.replace(/\n/g, '\r\n'));
  if (serialClient) serialClient.write(bytes);
  else out.push(bytes);
};

const boot = [
  '[    0.000000] Linux version 6.12.107-fake (vivarium fake core host) riscv64',
  `[    0.000000] Machine model: riscv-virtio,qemu (memory ${opt('-m') ?? '128M'}, ${opt('-smp') ?? 1} harts)`,
  '[    0.120000] Serial: 8250/16550 driver, 4 ports, IRQ sharing disabled',
  '[    0.480000] Run /init as init process',
];
let line = 0;
const bootTimer = setInterval(() => {
  if (!running) return;
  if (line < boot.length) emit(boot[line++] + '\n');
  else {
    clearInterval(bootTimer);
    emit('GUEST-READY 6.12.107-fake\n~ # ');
  }
}, 60);

let input = '';
function command(cmd) {
  const c = cmd.trim();
  if (c === '') return '';
  if (c === 'uname -a') return 'Linux (none) 6.12.107-fake #1 SMP riscv64 GNU/Linux\n';
  if (c === 'poweroff') {
    emit('[   12.000000] reboot: Power down\n');
    setTimeout(() => process.exit(0), 50);
    return null;
  }
  if (c === 'crash') {
    emit('Kernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b\n');
    setTimeout(() => process.exit(3), 50);
    return null;
  }
  return `sh: ${c.split(/\s+/)[0]}: not found\n`;
}

rmSync(serialPath, { force: true });
const serial = net.createServer((socket) => {
  serialClient = socket;
  for (const b of out.splice(0)) socket.write(b);
  socket.on('data', (bytes) => {
    if (!running) return;
    for (const ch of bytes.toString('utf8')) {
      if (ch === '\r' || ch === '\n') {
        emit('\n');
        const answer = command(input);
        input = '';
        if (answer !== null) emit(answer + '~ # ');
      } else if (ch === '\x7f') {
        if (input) {
          input = input.slice(0, -1);
          emit('\b \b');
        }
      } else {
        input += ch;
        emit(ch);
      }
    }
  });
  socket.on('error', () => undefined);
});
serial.listen(serialPath);

if (qmpPath) {
  rmSync(qmpPath, { force: true });
  const sessions = new Set();
  const event = (name, data) => {
    const now = Date.now();
    const msg = { timestamp: { seconds: Math.floor(now / 1000), microseconds: (now % 1000) * 1000 }, event: name };
    if (data) msg.data = data;
    for (const s of sessions) s.write(JSON.stringify(msg) + '\r\n');
  };
  net
    .createServer((socket) => {
      socket.write(JSON.stringify({ QMP: { version: { qemu: { micro: 0, minor: 2, major: 7 }, package: 'fake' }, capabilities: ['oob'] } }) + '\r\n');
      let negotiated = false;
      let buf = '';
      socket.on('data', (d) => {
        buf += d.toString();
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const text = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!text) continue;
          const req = JSON.parse(text);
          const reply = (body) => socket.write(JSON.stringify({ ...body, ...(req.id !== undefined ? { id: req.id } : {}) }) + '\r\n');
          const ok = (ret = {}) => reply({ return: ret });
          if (!negotiated) {
            if (req.execute === 'qmp_capabilities') {
              negotiated = true;
              sessions.add(socket);
              ok();
            } else reply({ error: { class: 'CommandNotFound', desc: "Expecting capabilities negotiation with 'qmp_capabilities'" } });
            continue;
          }
          switch (req.execute) {
            case 'query-status':
              ok({ status: running ? 'running' : 'paused', singlestep: false, running });
              break;
            case 'stop':
              running = false;
              event('STOP');
              ok();
              break;
            case 'cont':
              running = true;
              event('RESUME');
              ok();
              break;
            case 'system_reset':
              event('RESET', { guest: false, reason: 'host-qmp-system-reset' });
              ok();
              emit('\n[    0.000000] Linux version 6.12.107-fake (after reset)\nGUEST-READY 6.12.107-fake\n~ # ');
              break;
            case 'system_powerdown':
              event('POWERDOWN');
              ok();
              setTimeout(() => {
                emit('The system is going down NOW!\n');
                event('SHUTDOWN', { guest: true, reason: 'guest-shutdown' });
                setTimeout(() => process.exit(0), 50);
              }, 100);
              break;
            case 'quit':
              event('SHUTDOWN', { guest: false, reason: 'host-qmp-quit' });
              ok();
              setTimeout(() => process.exit(0), 20);
              break;
            default:
              reply({ error: { class: 'CommandNotFound', desc: `The command ${req.execute} has not been found` } });
          }
        }
      });
      socket.on('close', () => sessions.delete(socket));
      socket.on('error', () => undefined);
    })
    .listen(qmpPath);
}
process.on('SIGTERM', () => process.exit(143));
