// kill -9 during snapshot-save, many times at random points: the snapshots reported saved before
// still load (-loadvm, and the guest goes on), and the image passes `qemu-img check` every time.
// The guest is a bare-metal program (instant boot) that keeps rewriting 32 MiB of RAM with new
// pseudo-random bytes (a letter on the console after each pass), so every save has tens of MiB
// to compress and write, and takes long enough to be cut anywhere.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildProgram, hasRiscvGcc } from '../../src/emulator-core/machine/testing/rv-toolchain';
import { ensureBuilt, removeDir, scratch, viv } from './img-lib';
import { hasQemuImg, qmpConnect, startViv, type VivChild } from './vmstate-lib';

const PROGRAM = `
  .section .text.init
  .globl _start
_start:
  bnez a0, park
  li t2, 88172645463325252
  li s1, 0x10000000
  li s2, 0
outer:
  li t0, 0x81000000
  li t1, 0x83000000
fill:
  slli t3, t2, 13
  xor t2, t2, t3
  srli t3, t2, 7
  xor t2, t2, t3
  slli t3, t2, 17
  xor t2, t2, t3
  sd t2, 0(t0)
  addi t0, t0, 8
  bltu t0, t1, fill
  addi s2, s2, 1
  andi t3, s2, 15
  addi t3, t3, 97
  sb t3, 0(s1)
  j outer
park:
  wfi
  j park
`;

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

function qemuImgCheck(disk: string): { status: number; out: string } {
  const r = spawnSync('qemu-img', ['check', disk], { encoding: 'utf8' });
  return { status: r.status ?? -1, out: r.stdout + r.stderr };
}

describe.skipIf(!hasRiscvGcc || !hasQemuImg)('kill -9 during snapshot-save', () => {
  it('earlier snapshots still load and qemu-img check passes, at random kill points', async () => {
    ensureBuilt();
    const dir = scratch('vmstate-crash');
    dirs.push(dir);
    const elf = path.join(dir, 'fill.elf');
    writeFileSync(elf, buildProgram(PROGRAM));
    const disk = path.join(dir, 'disk.qcow2');
    const sock = path.join(dir, 'qmp.sock');
    expect(viv(['create', '-q', '-f', 'qcow2', disk, '32M']).status).toBe(0);
    const args = ['-M', 'virt', '-m', '128M', '-bios', 'none', '-kernel', elf, '-serial', 'stdio', '-display', 'none',
      '-drive', `file=${disk},format=qcow2,if=virtio,node-name=d0`, '-qmp', `unix:${sock},server=on,wait=off`];

    const saved: string[] = [];
    let saveMs = 0;
    {
      // A first snapshot, timed: the kill points are spread over that duration.
      const v = startViv(args);
      await v.waitFor(/[a-p]{3}/, 120_000);
      const qmp = await qmpConnect(sock);
      const t0 = performance.now();
      expect((await qmp.exec('human-monitor-command', { 'command-line': 'savevm base' })).return).toBe('');
      saveMs = performance.now() - t0;
      saved.push('base');
      qmp.close();
      v.child.kill('SIGKILL');
      await v.exited;
    }
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const rounds = 10;
    let interrupted = 0;
    for (let i = 0; i < rounds; i++) {
      // Start from the last saved snapshot (-loadvm): it must load after every crash.
      const from = saved[saved.length - 1]!;
      const v: VivChild = startViv([...args, '-loadvm', from]);
      const mark = 0;
      await v.waitFor(/[a-p]{3}/, 120_000, mark);
      expect(v.output()).not.toMatch(/-loadvm/);
      const qmp = await qmpConnect(sock);
      // Every snapshot saved so far is listed.
      const info = (await qmp.exec('human-monitor-command', { 'command-line': 'info snapshots' })).return as string;
      for (const tag of saved) expect(info).toMatch(new RegExp(`^--\\s+${tag}\\s`, 'm'));
      const tag = `k${i}`;
      const delay = random() * saveMs * 1.3;
      expect(await qmp.exec('snapshot-save', { 'job-id': tag, tag, vmstate: 'd0', devices: ['d0'] })).toEqual({ return: {} });
      await new Promise((r) => setTimeout(r, delay));
      const concluded = qmp.events.some((e) => e.event === 'JOB_STATUS_CHANGE' && e.data?.id === tag && e.data?.status === 'concluded');
      v.child.kill('SIGKILL');
      await v.exited;
      qmp.close();
      // Reported saved (the job concluded before the kill): it must have survived.
      if (concluded) saved.push(tag);
      else interrupted++;
      const check = qemuImgCheck(disk);
      expect(check.out, `round ${i} (kill after ${delay.toFixed(0)} ms)`).toContain('No errors were found on the image.');
      expect(check.status).toBe(0);
      const list = spawnSync('qemu-img', ['snapshot', '-l', disk], { encoding: 'utf8' }).stdout;
      for (const t of saved) expect(list).toMatch(new RegExp(`^\\d+\\s+${t}\\s`, 'm'));
    }
    // Every snapshot reported saved loads, and the guest goes on from it.
    for (const tag of saved) {
      const v = startViv([...args, '-loadvm', tag]);
      await v.waitFor(/[a-p]{3}/, 120_000);
      v.child.kill('SIGKILL');
      await v.exited;
    }
    expect(saved.length).toBeGreaterThan(1);
    expect(interrupted).toBeGreaterThan(0); // some kills did land inside a save
  }, 900_000);
});
