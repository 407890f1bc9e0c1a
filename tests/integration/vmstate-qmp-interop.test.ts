// The same QMP snapshot script sent to `viv run` and to qemu-system-riscv64 7.2 (the same
// bare-metal program, a QCOW2 disk with node-name disk0): the replies are the same, and so are the
// events of each step (timestamps aside). Failed loads are left out: QEMU 7.2 then leaves the VM
// paused (restore-vm), we leave it running (docs/snapshots.md).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildProgram, hasRiscvGcc } from '../../src/emulator-core/machine/testing/rv-toolchain';
import { repo } from './boot-guest';
import { ensureBuilt, removeDir, scratch } from './img-lib';
import { hasQemuImg } from './vmstate-lib';

const hasQemu = spawnSync('qemu-system-riscv64', ['--version']).status === 0;
const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

const PROGRAM = `
  .section .text.init
  .globl _start
_start:
  bnez a0, 2f
1:
  addi s2, s2, 1
  j 1b
2:
  wfi
  j 2b
`;

type Msg = Record<string, unknown>;

/** Sends each step, waits for its reply and (for jobs) for the job to conclude; returns what came back per step. */
async function runScript(sock: string, steps: Array<{ cmd: Msg; job?: string }>): Promise<Array<{ reply: Msg; events: Msg[] }>> {
  const s = await new Promise<ReturnType<typeof connect>>((resolve, reject) => {
    const t0 = Date.now();
    const attempt = () => {
      const c = connect(sock);
      c.once('connect', () => resolve(c));
      c.once('error', () => (Date.now() - t0 > 30_000 ? reject(new Error('no QMP socket')) : setTimeout(attempt, 100)));
    };
    attempt();
  });
  const msgs: Msg[] = [];
  let buf = '';
  let wake = () => {};
  s.setEncoding('utf8');
  s.on('data', (d: string) => {
    buf += d;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (line) msgs.push(JSON.parse(line) as Msg);
    }
    wake();
  });
  const until = async (pred: () => boolean) => {
    const t0 = Date.now();
    while (!pred()) {
      if (Date.now() - t0 > 60_000) throw new Error(`QMP: timed out; got ${JSON.stringify(msgs.slice(-3))}`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 50);
      });
    }
  };
  await until(() => msgs.some((m) => 'QMP' in m));
  const out: Array<{ reply: Msg; events: Msg[] }> = [];
  for (const step of steps) {
    const from = msgs.length;
    s.write(JSON.stringify(step.cmd) + '\n');
    await until(() => msgs.slice(from).some((m) => !('event' in m)));
    if (step.job) {
      await until(() => msgs.slice(from).some((m) => m.event === 'JOB_STATUS_CHANGE' && (m.data as Msg).id === step.job && (m.data as Msg).status === 'concluded'));
    }
    await new Promise((r) => setTimeout(r, 100)); // events that trail a reply (RESUME after a savevm)
    const got = msgs.slice(from);
    out.push({
      reply: got.find((m) => !('event' in m))!,
      events: got.filter((m) => 'event' in m).map((m) => ({ event: m.event, ...(m.data ? { data: m.data } : {}) })),
    });
  }
  s.destroy();
  return out;
}

function start(side: 'viv' | 'qemu', elf: string, disk: string, sock: string): ChildProcess {
  const args = ['-M', 'virt', '-m', '64M', '-bios', 'none', '-kernel', elf, '-display', 'none', '-serial', 'null', '-nic', 'none',
    '-drive', `file=${disk},format=qcow2,if=virtio,node-name=disk0`, '-qmp', `unix:${sock},server=on,wait=off`];
  return side === 'viv'
    ? spawn(process.execPath, [path.join(repo, 'bin/viv.mjs'), 'run', ...args], { stdio: 'ignore' })
    : spawn('qemu-system-riscv64', [...args, '-monitor', 'none', '-global', 'virtio-mmio.force-legacy=false'], { stdio: 'ignore' });
}

describe.skipIf(!hasRiscvGcc || !hasQemu || !hasQemuImg)('QMP snapshot commands: viv and QEMU 7.2 side by side', () => {
  it('give the same replies and the same events, step by step', async () => {
    ensureBuilt();
    const dir = scratch('vmstate-interop');
    dirs.push(dir);
    const elf = path.join(dir, 'p.elf');
    writeFileSync(elf, buildProgram(PROGRAM));
    const job = (execute: string, id: string, tag: string, more: Msg = { vmstate: 'disk0', devices: ['disk0'] }) => ({
      cmd: { execute, arguments: { 'job-id': id, tag, ...more } },
      job: id,
    });
    const hmp = (line: string) => ({ cmd: { execute: 'human-monitor-command', arguments: { 'command-line': line } } });
    const plain = (execute: string, args?: Msg) => ({ cmd: args ? { execute, arguments: args } : { execute } });
    const steps = [
      plain('qmp_capabilities'),
      job('snapshot-save', 'j1', 's1'),
      plain('query-jobs'),
      plain('job-dismiss', { id: 'j1' }),
      job('snapshot-save', 'j2', 's1'),
      plain('query-jobs'),
      plain('job-dismiss', { id: 'j2' }),
      job('snapshot-load', 'j3', 's1'),
      plain('query-jobs'),
      plain('job-dismiss', { id: 'j3' }),
      plain('job-dismiss', { id: 'j3' }),
      job('snapshot-save', 'j4', 's2', { vmstate: 'disk0', devices: [] }),
      plain('query-jobs'),
      plain('job-dismiss', { id: 'j4' }),
      job('snapshot-delete', 'j5', 's1', { devices: ['disk0'] }),
      plain('query-jobs'),
      plain('job-dismiss', { id: 'j5' }),
      hmp('savevm h1'),
      hmp('loadvm h1'),
      hmp('delvm h1'),
      hmp('delvm nothing'),
      hmp('info snapshots'),
      hmp('info status'),
      hmp('stop'),
      hmp('info status'),
      hmp('savevm h2'),
      hmp('cont'),
      plain('query-status'),
    ];
    const results: Record<string, Array<{ reply: Msg; events: Msg[] }>> = {};
    for (const side of ['qemu', 'viv'] as const) {
      const disk = path.join(dir, `${side}.qcow2`);
      const sock = path.join(dir, `${side}.sock`);
      expect(spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '16M']).status).toBe(0);
      const p = start(side, elf, disk, sock);
      try {
        results[side] = await runScript(sock, steps);
      } finally {
        p.kill('SIGKILL');
      }
    }
    // The script did what it says on QEMU (so the comparison is about something).
    expect(results.qemu![1]!.events.map((e) => e.event)).toEqual(['JOB_STATUS_CHANGE', 'JOB_STATUS_CHANGE', 'STOP', 'RESUME', 'JOB_STATUS_CHANGE', 'JOB_STATUS_CHANGE', 'JOB_STATUS_CHANGE']);
    expect(results.qemu![5]!.reply).toMatchObject({ return: [{ error: "Snapshot 's1' already exists in one or more devices" }] });
    expect(results.qemu![21]!.reply).toEqual({ return: 'There is no snapshot available.\r\n' });
    steps.forEach((step, i) => {
      const what = JSON.stringify(step.cmd);
      expect(results.viv![i]!.reply, `reply to ${what}`).toEqual(results.qemu![i]!.reply);
      expect(results.viv![i]!.events, `events of ${what}`).toEqual(results.qemu![i]!.events);
    });
  }, 240_000);
});
