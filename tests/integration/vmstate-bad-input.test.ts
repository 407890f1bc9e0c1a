// Snapshots that cannot be loaded here are refused with the reason named, and nothing changes:
// -loadvm with another RAM size or without a device the snapshot has (exit 1, the message names
// the mismatch), a disk-only snapshot (qemu-img snapshot -c), a vmstate QEMU wrote (savevm in
// qemu-system-riscv64 on the same image), and over QMP a running VM keeps running as it was.
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildProgram, hasRiscvGcc } from '../../src/emulator-core/machine/testing/rv-toolchain';
import { ensureBuilt, removeDir, scratch, viv } from './img-lib';
import { hasQemuImg, qmpConnect, startViv } from './vmstate-lib';

const PROGRAM = `
  .section .text.init
  .globl _start
_start:
  bnez a0, 2f
  li s1, 0x10000000
1:
  addi s2, s2, 1
  li t4, 0xffff
  and t5, s2, t4
  bnez t5, 1b
  li t3, 46
  sb t3, 0(s1)
  j 1b
2:
  wfi
  j 2b
`;

const hasQemu = spawnSync('qemu-system-riscv64', ['--version']).status === 0;
const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

async function runToExit(args: string[]): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const v = startViv(args);
  const t = setTimeout(() => v.child.kill('SIGKILL'), 60_000);
  const code = await v.exited;
  clearTimeout(t);
  return { code, stderr: v.errors(), stdout: v.output() };
}

describe.skipIf(!hasRiscvGcc || !hasQemuImg)('snapshots that do not fit', () => {
  it('are refused with the mismatch named, and a running VM is left as it was', async () => {
    ensureBuilt();
    const dir = scratch('vmstate-bad');
    dirs.push(dir);
    const elf = path.join(dir, 'p.elf');
    writeFileSync(elf, buildProgram(PROGRAM));
    const disk = path.join(dir, 'disk.qcow2');
    const data = path.join(dir, 'data.qcow2');
    const sock = path.join(dir, 'qmp.sock');
    expect(viv(['create', '-q', '-f', 'qcow2', disk, '16M']).status).toBe(0);
    expect(viv(['create', '-q', '-f', 'qcow2', data, '16M']).status).toBe(0);
    const base = ['-M', 'virt', '-bios', 'none', '-kernel', elf, '-serial', 'stdio', '-display', 'none', '-nic', 'none'];
    const drives = ['-drive', `file=${disk},format=qcow2,if=virtio,node-name=disk0`, '-drive', `file=${data},format=qcow2,if=virtio`];

    // A snapshot of a 64 MiB machine with two disks.
    const v = startViv([...base, '-m', '64M', ...drives, '-qmp', `unix:${sock},server=on,wait=off`]);
    await v.waitFor(/\.{3}/, 60_000);
    const qmp = await qmpConnect(sock);
    expect((await qmp.exec('human-monitor-command', { 'command-line': 'savevm s1' })).return).toBe('');
    // A disk-only snapshot, made behind the VM's back... (qemu-img works on the image while the VM runs, -U)
    qmp.close();
    v.child.kill('SIGKILL');
    await v.exited;
    expect(spawnSync('qemu-img', ['snapshot', '-c', 'diskonly', disk]).status).toBe(0);
    expect(spawnSync('qemu-img', ['snapshot', '-c', 'diskonly', data]).status).toBe(0);

    const bigger = await runToExit([...base, '-m', '128M', ...drives, '-loadvm', 's1']);
    expect(bigger.code).toBe(1);
    expect(bigger.stderr).toContain('snapshot was taken on another machine configuration: 64 MiB of RAM (this machine has 128 MiB)');
    const lessDevices = await runToExit([...base, '-m', '64M', '-drive', `file=${disk},format=qcow2,if=virtio`, '-loadvm', 's1']);
    expect(lessDevices.code).toBe(1);
    expect(lessDevices.stderr).toMatch(/devices not in this machine: virtio-blk|devices in another order/);
    const diskOnly = await runToExit([...base, '-m', '64M', ...drives, '-loadvm', 'diskonly']);
    expect(diskOnly.code).toBe(1);
    expect(diskOnly.stderr).toContain('This is a disk-only snapshot. Revert to it  offline using qemu-img');
    const missing = await runToExit([...base, '-m', '64M', ...drives, '-loadvm', 'nope']);
    expect(missing.stderr).toContain("Snapshot 'nope' does not exist in one or more devices");

    // Over QMP: a bad load changes nothing and the VM runs on.
    const w = startViv([...base, '-m', '64M', ...drives, '-qmp', `unix:${sock},server=on,wait=off`]);
    try {
      await w.waitFor(/\.{3}/, 60_000);
      const q = await qmpConnect(sock);
      const r = await q.exec('human-monitor-command', { 'command-line': 'loadvm diskonly' });
      expect(r.return).toBe('Error: This is a disk-only snapshot. Revert to it  offline using qemu-img\r\n');
      expect(await q.exec('query-status')).toEqual({ return: { status: 'running', singlestep: false, running: true } });
      const before = w.output().length;
      await w.waitFor(/\./, 30_000, before); // still printing
      q.close();
    } finally {
      w.child.kill('SIGKILL');
      await w.exited;
    }
  }, 300_000);

  it.skipIf(!hasQemu)('a vmstate saved by QEMU is refused by name', async () => {
    ensureBuilt();
    const dir = scratch('vmstate-foreign');
    dirs.push(dir);
    const elf = path.join(dir, 'p.elf');
    writeFileSync(elf, buildProgram(PROGRAM));
    const disk = path.join(dir, 'disk.qcow2');
    expect(spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '16M']).status).toBe(0);
    // QEMU runs the same program and saves its own vmstate into the image.
    const sock = path.join(dir, 'qemu.sock');
    const qemu = spawn('qemu-system-riscv64', ['-M', 'virt', '-m', '64M', '-bios', 'none', '-kernel', elf, '-display', 'none', '-serial', 'null', '-monitor', 'none',
      '-global', 'virtio-mmio.force-legacy=false', '-drive', `file=${disk},format=qcow2,if=virtio`, '-qmp', `unix:${sock},server=on,wait=off`]);
    try {
      const q = await qmpConnect(sock);
      expect((await q.exec('human-monitor-command', { 'command-line': 'savevm fromqemu' })).return).toBe('');
      await q.exec('quit');
      q.close();
    } finally {
      await new Promise((r) => qemu.on('close', r));
    }
    const r = await runToExit(['-M', 'virt', '-m', '64M', '-bios', 'none', '-kernel', elf, '-serial', 'stdio', '-display', 'none', '-nic', 'none',
      '-drive', `file=${disk},format=qcow2,if=virtio`, '-loadvm', 'fromqemu']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('not a Vivarium vmstate (bad magic)');
  }, 120_000);
});
