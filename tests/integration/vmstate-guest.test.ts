// savevm/loadvm on the shared Linux guest under `viv run`, driven over QMP as a management
// program would: the guest counts, writing each count to its disk (fsync'd) and then to the
// console. The test saves it live (snapshot-save job), lets it count on, loads the snapshot
// (snapshot-load job) and checks that the count continues from the saved point, that the
// snapshot's disk holds the count the guest was at, and, after a restart with -loadvm, the same
// again. qemu-img lists the snapshot (with its vm state size) and checks the image. Twice: a busy
// counter, and one that sleeps 0.2 s between counts, so timers (mtime, stimecmp), pending
// interrupts and WFI must be restored too (QEMU 7.2 stalls after loadvm on that one; we must not).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasCpio, hasGuest, initrdWithAutorun, kernel } from './boot-guest';
import { ensureBuilt, removeDir, scratch, viv } from './img-lib';
import { counterScript, counts, hasQemuImg, qmpConnect, startViv, type QmpClient, type VivChild } from './vmstate-lib';

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

/** The count the snapshot's disk holds in sector 0 ("DISK n"), read with qemu-img. */
function snapshotDiskCount(disk: string, tag: string): number {
  const out = path.join(path.dirname(disk), `${tag}.raw`);
  const r = spawnSync('qemu-img', ['convert', '-U', '-l', `snapshot.name=${tag}`, '-f', 'qcow2', '-O', 'raw', disk, out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`qemu-img convert: ${r.stderr}`);
  return diskCount(out, 'raw');
}

function diskCount(file: string, format: 'raw' | 'qcow2'): number {
  let bytes: Buffer;
  if (format === 'raw') bytes = readFileSync(file).subarray(0, 512);
  else {
    const r = spawnSync('qemu-io', ['-r', '-f', 'qcow2', '-c', 'read -v 0 32', file], { encoding: 'utf8' });
    // qemu-io -v prints "00000000:  44 49 53 4b ...  DISK.1234"
    const hex = [...r.stdout.matchAll(/^[0-9a-f]{8}:((?:\s+[0-9a-f]{2})+)/gm)].flatMap((m) => m[1]!.trim().split(/\s+/));
    bytes = Buffer.from(hex.join(''), 'hex');
  }
  const m = /^DISK (\d+)/.exec(bytes.toString('latin1'));
  if (!m) throw new Error(`sector 0 holds no count: ${JSON.stringify(bytes.toString('latin1').slice(0, 20))}`);
  return Number(m[1]);
}

async function waitJob(qmp: QmpClient, id: string): Promise<void> {
  await qmp.waitEvent((e) => e.event === 'JOB_STATUS_CHANGE' && e.data?.id === id && e.data?.status === 'concluded', 300_000);
  const jobs = (await qmp.exec('query-jobs')).return as Array<{ id: string; error?: string }>;
  const job = jobs.find((j) => j.id === id);
  expect(job?.error, `job ${id}`).toBeUndefined();
  expect(await qmp.exec('job-dismiss', { id })).toEqual({ return: {} });
}

/** The counts printed after `mark`, from the first one that went back in time (the load) on. */
function countsAfterLoad(v: VivChild, mark: number, beforeLoad: number): number[] {
  const c = counts(v.output().slice(mark));
  const i = c.findIndex((n) => n < beforeLoad - 1);
  return i < 0 ? [] : c.slice(i);
}

async function waitCounts(v: VivChild, mark: number, beforeLoad: number, n: number, timeoutMs: number): Promise<number[]> {
  const t0 = Date.now();
  for (;;) {
    const c = countsAfterLoad(v, mark, beforeLoad);
    if (c.length >= n) return c;
    if (Date.now() - t0 > timeoutMs) throw new Error(`only ${c.length} counts after the load (${c.join(' ')}); output: ${v.output().slice(-300)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const expectSequential = (c: number[]) => c.forEach((n, i) => expect(n).toBe(c[0]! + i));

describe.skipIf(!hasGuest || !hasCpio || !hasQemuImg)('savevm/loadvm with the shared guest (QMP jobs, -loadvm)', () => {
  for (const variant of [
    { name: 'a busy counter', sleep: undefined },
    { name: 'a counter that sleeps 0.2 s between counts', sleep: 0.2 },
  ]) {
    it(`${variant.name}: saved live, run on, loaded: the count continues from the saved point and the disk agrees`, async () => {
      ensureBuilt();
      const dir = scratch('vmstate-guest');
      dirs.push(dir);
      const disk = path.join(dir, 'disk.qcow2');
      const sock = path.join(dir, 'qmp.sock');
      expect(viv(['create', '-q', '-f', 'qcow2', disk, '64M']).status).toBe(0);
      const initrd = initrdWithAutorun(counterScript(variant.sleep));
      const common = ['-M', 'virt', '-m', '256M', '-serial', 'stdio', '-display', 'none', '-kernel', kernel, '-initrd', initrd,
        '-append', 'console=ttyS0 quiet', '-drive', `file=${disk},format=qcow2,if=virtio,node-name=disk0`, '-qmp', `unix:${sock},server=on,wait=off`];
      const v = startViv(common);
      try {
        await v.waitFor(/^COUNT 5\r?$/m, 480_000);
        const qmp = await qmpConnect(sock);
        const a = Math.max(...counts(v.output()));
        expect(await qmp.exec('snapshot-save', { 'job-id': 'save1', tag: 's1', vmstate: 'disk0', devices: ['disk0'] })).toEqual({ return: {} });
        await waitJob(qmp, 'save1');
        const b = Math.max(...counts(v.output()));
        // STOP and RESUME around the save, as QEMU sends them.
        expect(qmp.events.map((e) => e.event)).toEqual(expect.arrayContaining(['STOP', 'RESUME']));

        // Run on, well past the saved point.
        await v.waitFor(new RegExp(`^COUNT ${b + 6}\\r?$`, 'm'), 300_000);
        const k = snapshotDiskCount(disk, 's1');
        expect(k).toBeGreaterThanOrEqual(a);
        expect(k).toBeLessThanOrEqual(b + 1);

        const beforeLoad = Math.max(...counts(v.output()));
        const mark = v.output().length;
        expect(await qmp.exec('snapshot-load', { 'job-id': 'load1', tag: 's1', vmstate: 'disk0', devices: ['disk0'] })).toEqual({ return: {} });
        await waitJob(qmp, 'load1');
        // The guest goes on from the saved point (the count on the snapshot's disk, or the next
        // one), in sequence, and keeps going (a sleeping guest's timers work after the load).
        const after = await waitCounts(v, mark, beforeLoad, 6, 240_000);
        expect([k, k + 1]).toContain(after[0]);
        expectSequential(after);

        const info = (await qmp.exec('human-monitor-command', { 'command-line': 'info snapshots' })).return as string;
        expect(info).toMatch(/^--\s+s1\s+\d+(\.\d+)? MiB /m);
        expect(await qmp.exec('quit')).toEqual({ return: {} });
        expect(await v.exited).toBe(0);
        qmp.close();

        // The disk agrees with the console: the last count written is the last printed (or the one after).
        const last = Math.max(...countsAfterLoad(v, mark, beforeLoad));
        expect([last, last + 1]).toContain(diskCount(disk, 'qcow2'));
        const list = spawnSync('qemu-img', ['snapshot', '-l', disk], { encoding: 'utf8' });
        expect(list.stdout).toMatch(/^1\s+s1\s+\d+(\.\d+)? MiB \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+\d\d:\d\d:\d\d\.\d{3}\s*$/m);
        const check = spawnSync('qemu-img', ['check', disk], { encoding: 'utf8' });
        expect(check.stdout).toContain('No errors were found on the image.');
        expect(check.status).toBe(0);
      } finally {
        v.child.kill('SIGKILL');
      }

      // A new process started from the snapshot (-loadvm) goes on from the same point, without booting.
      const k = snapshotDiskCount(disk, 's1');
      const w = startViv([...common, '-loadvm', 's1']);
      try {
        await w.waitFor(/^COUNT \d+\r?$/m, 120_000);
        const t0 = Date.now();
        while (counts(w.output()).length < 5 && Date.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 200));
        const c = counts(w.output());
        expect(w.output()).not.toContain('GUEST-READY');
        expect([k, k + 1]).toContain(c[0]);
        expect(c.length).toBeGreaterThanOrEqual(5);
        expectSequential(c);
      } finally {
        w.child.kill('SIGKILL');
        await w.exited;
      }
      const check = spawnSync('qemu-img', ['check', disk], { encoding: 'utf8' });
      expect(check.status).toBe(0);
    }, 1_200_000);
  }
});
