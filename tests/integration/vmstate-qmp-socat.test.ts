// A QMP session driven from outside the project, as management scripts do it: socat sends JSON
// lines over the unix socket and prints what comes back. It covers every command of issue 9
// (query-version, query-status, stop, cont, query-block, snapshot-save/-load/-delete jobs,
// query-jobs, job-dismiss, human-monitor-command savevm/loadvm/delvm/info snapshots/info status,
// system_reset, system_powerdown, quit), malformed JSON and bad arguments (GenericError, the
// connection stays usable) and an unknown command (CommandNotFound). The guest is a bare-metal
// program, so the session starts at once.
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildProgram, hasRiscvGcc } from '../../src/emulator-core/machine/testing/rv-toolchain';
import { ensureBuilt, removeDir, scratch, viv } from './img-lib';
import { hasQemuImg, hasSocat, startViv } from './vmstate-lib';

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

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

/** socat with the session's lines on its stdin (a pause after each, so jobs finish). */
function socatSession(sock: string, lines: string[], pauseSec = 1): Promise<string> {
  const script = lines.map((l) => `printf '%s\\n' '${l.replace(/'/g, "'\\''")}'; sleep ${pauseSec}`).join('; ');
  return new Promise((resolve, reject) => {
    const p = spawn('sh', ['-c', `(${script}; sleep 1) | socat -t 5 - UNIX-CONNECT:${sock}`]);
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', () => resolve(out));
  });
}

describe.skipIf(!hasRiscvGcc || !hasSocat || !hasQemuImg)('QMP over socat', () => {
  it('answers every command as QEMU 7.2 does, keeps a session usable after bad input', async () => {
    ensureBuilt();
    const dir = scratch('vmstate-socat');
    dirs.push(dir);
    const elf = path.join(dir, 'p.elf');
    writeFileSync(elf, buildProgram(PROGRAM));
    const disk = path.join(dir, 'disk.qcow2');
    const sock = path.join(dir, 'qmp.sock');
    expect(viv(['create', '-q', '-f', 'qcow2', disk, '16M']).status).toBe(0);
    const v = startViv(['-M', 'virt', '-m', '64M', '-bios', 'none', '-kernel', elf, '-serial', 'stdio', '-display', 'none',
      '-drive', `file=${disk},format=qcow2,if=virtio,node-name=disk0`, '-qmp', `unix:${sock},server=on,wait=off`]);
    try {
      await v.waitFor(/\.{3}/, 60_000);
      const hmp = (cmd: string) => JSON.stringify({ execute: 'human-monitor-command', arguments: { 'command-line': cmd } });
      const job = (execute: string, id: string, tag: string, extra: object = { vmstate: 'disk0' }) =>
        JSON.stringify({ execute, arguments: { 'job-id': id, tag, ...extra, devices: ['disk0'] } });
      const out = await socatSession(sock, [
        '{"execute":"query-status"}',
        '{"execute":"qmp_capabilities"}',
        '{"execute":"query-version"}',
        '{"execute":"query-status"}',
        '{"execute":"query-block"}',
        job('snapshot-save', 'j1', 's1'),
        '{"execute":"query-jobs"}',
        '{"execute":"job-dismiss","arguments":{"id":"j1"}}',
        job('snapshot-save', 'j2', 's1'),
        '{"execute":"query-jobs"}',
        '{"execute":"job-dismiss","arguments":{"id":"j2"}}',
        job('snapshot-load', 'j3', 's1'),
        '{"execute":"job-dismiss","arguments":{"id":"j3"}}',
        hmp('savevm s2'),
        hmp('info snapshots'),
        hmp('loadvm s2'),
        hmp('loadvm nope'),
        hmp('delvm s2'),
        job('snapshot-delete', 'j4', 's1', {}),
        '{"execute":"job-dismiss","arguments":{"id":"j4"}}',
        hmp('info snapshots'),
        '{"execute":"stop"}',
        hmp('info status'),
        '{"execute":"cont"}',
        '{"execute":"system_reset"}',
        '{"execute":"system_powerdown"}',
        '{"execute":"query-status", "arguments": [1]}',
        '{"execute": "snapshot-save", "arguments": {"job-id": "j5", "tag": 5, "vmstate": "disk0", "devices": ["disk0"]}}',
        '{"execute":"no-such-command"}',
        '{"execute": ',
        '}',
        '{"execute":"query-status","id":7}',
        '{"execute":"quit"}',
      ], 1);
      const msgs = out.trim().split(/\r?\n/).map((l) => JSON.parse(l) as Record<string, unknown>);
      const replies = msgs.filter((m) => !('event' in m));
      const events = msgs.filter((m) => 'event' in m).map((m) => m.event);
      const r = (i: number) => replies[i];
      expect(r(0)).toHaveProperty('QMP');
      expect(r(1)).toEqual({ error: { class: 'CommandNotFound', desc: "Expecting capabilities negotiation with 'qmp_capabilities'" } });
      expect(r(2)).toEqual({ return: {} });
      expect(r(3)).toEqual({ return: { qemu: { micro: 0, minor: 2, major: 7 }, package: 'vivarium' } });
      expect(r(4)).toEqual({ return: { status: 'running', singlestep: false, running: true } });
      expect((r(5)!.return as Array<Record<string, unknown>>)[0]).toMatchObject({ device: 'virtio0', inserted: { 'node-name': 'disk0', drv: 'qcow2', ro: false } });
      expect(r(6)).toEqual({ return: {} }); // snapshot-save j1
      expect(r(7)).toEqual({ return: [{ 'current-progress': 1, status: 'concluded', 'total-progress': 1, type: 'snapshot-save', id: 'j1' }] });
      expect(r(8)).toEqual({ return: {} });
      expect(r(9)).toEqual({ return: {} }); // j2: same tag
      expect(r(10)).toEqual({ return: [{ 'current-progress': 1, status: 'concluded', 'total-progress': 1, type: 'snapshot-save', id: 'j2', error: "Snapshot 's1' already exists in one or more devices" }] });
      expect(r(11)).toEqual({ return: {} });
      expect(r(12)).toEqual({ return: {} }); // snapshot-load j3
      expect(r(13)).toEqual({ return: {} });
      expect(r(14)).toEqual({ return: '' }); // savevm s2
      expect(r(15)!.return).toMatch(/^List of snapshots present on all disks:\r\nID {8}TAG {15}VM SIZE {16}DATE {5}VM CLOCK {5}ICOUNT\r\n-- {8}s1 .*\r\n-- {8}s2 .*\r\n$/);
      expect(r(16)).toEqual({ return: '' }); // loadvm s2
      expect(r(17)).toEqual({ return: "Error: Snapshot 'nope' does not exist in one or more devices\r\n" });
      expect(r(18)).toEqual({ return: '' }); // delvm s2
      expect(r(19)).toEqual({ return: {} }); // snapshot-delete j4
      expect(r(20)).toEqual({ return: {} });
      expect(r(21)).toEqual({ return: 'There is no snapshot available.\r\n' });
      expect(r(22)).toEqual({ return: {} }); // stop
      expect(r(23)).toEqual({ return: 'VM status: paused\r\n' });
      expect(r(24)).toEqual({ return: {} }); // cont
      expect(r(25)).toEqual({ return: {} }); // system_reset
      expect(r(26)).toEqual({ return: {} }); // system_powerdown
      expect(r(27)).toEqual({ error: { class: 'GenericError', desc: "QMP input member 'arguments' must be an object" } });
      expect(r(28)).toEqual({ error: { class: 'GenericError', desc: "Invalid parameter type for 'tag', expected: string" } });
      expect(r(29)).toEqual({ error: { class: 'CommandNotFound', desc: 'The command no-such-command has not been found' } });
      expect((r(30)!.error as { class: string }).class).toBe('GenericError'); // the malformed JSON
      expect(r(31)).toEqual({ return: { status: 'running', singlestep: false, running: true }, id: 7 });
      expect(r(32)).toEqual({ return: {} }); // quit
      // Events: each job's status changes, STOP/RESUME around every save and load, the rest.
      for (const e of ['JOB_STATUS_CHANGE', 'STOP', 'RESUME', 'RESET', 'POWERDOWN', 'SHUTDOWN']) expect(events).toContain(e);
      expect(events.filter((e) => e === 'STOP').length).toBe(5); // j1, j3, savevm s2, loadvm s2, stop
      expect(await v.exited).toBe(0);
    } finally {
      v.child.kill('SIGKILL');
    }
    const check = spawnSync('qemu-img', ['check', disk], { encoding: 'utf8' });
    expect(check.status).toBe(0);
  }, 300_000);

  it('-monitor stdio: the same HMP commands on the terminal, with QEMU\'s banner and prompt', async () => {
    ensureBuilt();
    const dir = scratch('vmstate-monitor');
    dirs.push(dir);
    const elf = path.join(dir, 'p.elf');
    writeFileSync(elf, buildProgram(PROGRAM));
    const disk = path.join(dir, 'disk.qcow2');
    expect(viv(['create', '-q', '-f', 'qcow2', disk, '16M']).status).toBe(0);
    const v = startViv(['-M', 'virt', '-m', '64M', '-bios', 'none', '-kernel', elf, '-display', 'none', '-monitor', 'stdio',
      '-drive', `file=${disk},format=qcow2,if=virtio`]);
    try {
      await v.waitFor(/\(qemu\) $/, 60_000);
      expect(v.output()).toMatch(/^QEMU 7\.2\.0 monitor .*- type 'help' for more information\r\n\(qemu\) $/);
      for (const line of ['info status', 'savevm s1', 'info snapshots', 'stop', 'info status', 'loadvm s1', 'cont', 'delvm s1', 'info snapshots', 'loadvm gone']) {
        const mark = v.output().length;
        v.child.stdin!.write(line + '\n');
        await v.waitFor(/\(qemu\) $/, 60_000, mark);
      }
      const out = v.output();
      expect(out).toContain('VM status: running\r\n(qemu) ');
      expect(out).toMatch(/List of snapshots present on all disks:\r\nID {8}TAG.*\r\n-- {8}s1 /);
      expect(out).toContain('VM status: paused\r\n(qemu) ');
      expect(out).toContain('There is no snapshot available.\r\n(qemu) ');
      expect(out).toContain("Error: Snapshot 'gone' does not exist in one or more devices\r\n(qemu) ");
      v.child.stdin!.write('q\n');
      expect(await v.exited).toBe(0);
    } finally {
      v.child.kill('SIGKILL');
    }
  }, 120_000);

  it('-nographic: Ctrl-A c switches the muxed line to the monitor and back', async () => {
    ensureBuilt();
    const dir = scratch('vmstate-mux');
    dirs.push(dir);
    const elf = path.join(dir, 'p.elf');
    writeFileSync(elf, buildProgram(PROGRAM));
    const disk = path.join(dir, 'disk.qcow2');
    expect(viv(['create', '-q', '-f', 'qcow2', disk, '16M']).status).toBe(0);
    const v = startViv(['-M', 'virt', '-m', '64M', '-bios', 'none', '-kernel', elf, '-nographic', '-drive', `file=${disk},format=qcow2,if=virtio`]);
    try {
      await v.waitFor(/\.{3}/, 60_000);
      let mark = v.output().length;
      v.child.stdin!.write('\x01c');
      await v.waitFor(/QEMU 7\.2\.0 monitor .*\r\n\(qemu\) /, 30_000, mark);
      mark = v.output().length;
      v.child.stdin!.write('savevm m1\ninfo snapshots\n');
      await v.waitFor(/-- {8}m1 [\s\S]*\(qemu\) /, 60_000, mark);
      v.child.stdin!.write('\x01c');
      v.child.stdin!.write('\x01x');
      expect(await v.exited).toBe(0);
    } finally {
      v.child.kill('SIGKILL');
    }
    expect(spawnSync('qemu-img', ['snapshot', '-l', disk], { encoding: 'utf8' }).stdout).toMatch(/^1\s+m1\s/m);
  }, 120_000);
});
