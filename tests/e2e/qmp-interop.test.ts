// The control channel the app relies on, against the reference: the same QMP script sent to
// `viv run -qmp` and to qemu-system-riscv64 -qmp (both booting the shared guest) must get the
// same replies and events in the same order (timestamps and version numbers aside).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { root } from './harness';

const guestDir = path.resolve(root, '../shared/guests/riscv64');
const qemu = '/usr/bin/qemu-system-riscv64';
const dir = mkdtempSync(path.join(os.tmpdir(), 'viv-qmp-interop-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const script = ['stop', 'stop', 'query-status', 'cont', 'query-status', 'system_reset', 'system_powerdown', 'no-such-command', 'quit'];

async function transcript(which: 'viv' | 'qemu'): Promise<string[]> {
  const sock = path.join(dir, `${which}.qmp`);
  const machine = ['-M', 'virt', '-m', '256M', '-smp', '1', '-kernel', path.join(guestDir, 'Image'), '-append', 'console=ttyS0', '-nic', 'none', '-nographic', '-serial', 'null', '-qmp', `unix:${sock},server=on,wait=off`];
  const child =
    which === 'viv'
      ? spawn(process.execPath, [path.join(root, 'bin/viv.mjs'), 'run', ...machine], { stdio: 'ignore' })
      : spawn(qemu, [...machine, '-monitor', 'none'], { stdio: 'ignore' });
  children.push(child);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  for (let i = 0; i < 200 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
  const socket = net.connect(sock);
  const lines: string[] = [];
  let buf = '';
  socket.setEncoding('utf8');
  socket.on('error', () => undefined); // the host closes the socket as it exits after `quit`
  socket.on('data', (d: string) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, i).trim());
      buf = buf.slice(i + 1);
    }
  });
  const until = async (pred: () => boolean) => {
    for (let i = 0; i < 400 && !pred(); i++) await new Promise((r) => setTimeout(r, 10));
  };
  await until(() => lines.length > 0);
  const send = async (execute: string, id: number) => {
    socket.write(JSON.stringify({ execute, id }) + '\n');
    await until(() => lines.some((l) => l.includes(`"id": ${id}`)));
  };
  await send('qmp_capabilities', 0);
  for (const [i, cmd] of script.entries()) await send(cmd, i + 1);
  expect(await exited).toBe(0); // quit ends the process with status 0
  socket.destroy();
  return lines.map((l) =>
    l
      .replace(/"timestamp": \{"seconds": \d+, "microseconds": \d+\}/, '"timestamp": T')
      .replace(/"version": \{.*\}, "capabilities"/, '"version": V, "capabilities"'),
  );
}

describe.skipIf(!existsSync(qemu))('QMP: viv run and qemu-system-riscv64 answer the same script alike', () => {
  it('replies, events and their order match', async () => {
    const [ours, theirs] = [await transcript('viv'), await transcript('qemu')];
    expect(ours).toEqual(theirs);
    expect(ours).toContain('{"timestamp": T, "event": "STOP"}');
  });
});
