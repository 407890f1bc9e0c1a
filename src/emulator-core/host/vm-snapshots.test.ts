// savevm/loadvm/delvm over real QCOW2 drives and a real machine (not running: the semantics, not
// the guest): where the vmstate goes, QEMU's refusals and messages, overwrite, a `cont` during a
// save, and a failed load that changes nothing.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createQcow2, openImage, Qcow2Driver, type BlockDriver } from '../block';
import { createRiscvCpu } from '../cpu/riscv/wasm-cpu';
import { VirtioBlk } from '../devices/virtio/blk';
import { RunLoop } from '../machine/run-loop';
import { buildProgram, hasRiscvGcc } from '../machine/testing/rv-toolchain';
import { VirtMachine } from '../machine/virt';
import { decodeRam } from '../snapshot/ram';
import { decodeVmState } from '../snapshot/vmstate';
import { captureMachine } from './machine-vmstate';
import { VmSnapshots, type SnapshotDrive } from './vm-snapshots';

const MiB = 1024 * 1024;
const dir = mkdtempSync(path.join(tmpdir(), 'viv-vmsnap-'));
const open: BlockDriver[] = [];
afterAll(async () => {
  await Promise.all(open.map((d) => d.close()));
  rmSync(dir, { recursive: true, force: true });
});

async function machine(drives: Array<{ name: string; format: 'qcow2' | 'raw'; readOnly?: boolean }>, source = '.section .text.init\n.globl _start\n_start:\n  li t0, 0x1234\n  j _start\n') {
  const named: SnapshotDrive[] = [];
  const devices: VirtioBlk[] = [];
  for (const [i, d] of drives.entries()) {
    const file = path.join(dir, `${d.name}-${Math.random().toString(36).slice(2)}.${d.format}`);
    if (d.format === 'qcow2') await createQcow2(file, { size: 4 * MiB });
    else writeFileSync(file, new Uint8Array(4 * MiB));
    const driver = await openImage(file, { format: d.format, readOnly: d.readOnly });
    open.push(driver);
    devices.push(new VirtioBlk(driver));
    named.push({ device: `virtio${i}`, nodeName: d.name, driver, readOnly: driver.readOnly });
  }
  const program = buildProgram(source);
  const m = await VirtMachine.create(
    { harts: 1, ramSize: 16 * MiB, bios: { kind: 'none' }, kernel: { name: 'p.elf', data: program }, virtioDevices: [...devices].reverse() },
    createRiscvCpu,
    () => {},
  );
  const loop = new RunLoop(m);
  const events: string[] = [];
  const snaps = new VmSnapshots(m, loop, named, { stopped: () => events.push('STOP'), resumed: () => events.push('RESUME') });
  snaps.close(); // no background pre-compression in these tests
  return { m, loop, snaps, named, events };
}

const q = (d: SnapshotDrive) => d.driver as Qcow2Driver;

describe.skipIf(!hasRiscvGcc)('savevm / loadvm / delvm', () => {
  it('snapshots every writable drive at once, the vmstate in the first; QEMU refusals', async () => {
    const { snaps, named, events } = await machine([{ name: 'a', format: 'qcow2' }, { name: 'b', format: 'qcow2' }, { name: 'ro', format: 'qcow2', readOnly: true }]);
    const sn = await snaps.save('s1', { overwrite: false });
    expect(sn.vmStateSize).toBeGreaterThan(0);
    expect(q(named[0]!).listSnapshots().map((s) => [s.name, s.vmStateSize > 0])).toEqual([['s1', true]]);
    expect(q(named[1]!).listSnapshots().map((s) => [s.name, s.vmStateSize])).toEqual([['s1', 0]]);
    expect(q(named[2]!).listSnapshots()).toEqual([]);
    expect(events).toEqual(['STOP', 'RESUME']);
    await expect(snaps.save('s1', { overwrite: false })).rejects.toThrow("Snapshot 's1' already exists in one or more devices");
    await snaps.save('s1', { overwrite: true }); // HMP savevm replaces it
    expect(q(named[0]!).listSnapshots().map((s) => s.name)).toEqual(['s1']);
    await expect(snaps.save('x', { overwrite: false, vmstate: 'nope' })).rejects.toThrow("No block device node 'nope'");
    await expect(snaps.save('x', { overwrite: false, devices: [] })).rejects.toThrow('At least one device is required for snapshot');
    await expect(snaps.load('nope')).rejects.toThrow("Snapshot 'nope' does not exist in one or more devices");
    await q(named[0]!).createSnapshot({ name: 'disk-only' });
    await q(named[1]!).createSnapshot({ name: 'disk-only' });
    await expect(snaps.load('disk-only')).rejects.toThrow('This is a disk-only snapshot. Revert to it  offline using qemu-img');
    expect(snaps.list().loadable.map((s) => s.name)).toEqual(['s1']);
    expect(snaps.list().partial.map((p) => [p.device, p.snapshots.map((s) => s.name)])).toEqual([['virtio0', ['disk-only']], ['virtio1', ['disk-only']]]);
    await snaps.delete('s1');
    await snaps.delete('nothing-by-that-name'); // no error, as QEMU 7.2
    expect(q(named[0]!).listSnapshots().map((s) => s.name)).toEqual(['disk-only']);
  });

  it('refuses a writable drive that cannot hold snapshots', async () => {
    const { snaps } = await machine([{ name: 'raw0', format: 'raw' }]);
    await expect(snaps.save('s1', { overwrite: false })).rejects.toThrow("Device 'virtio0' is writable but does not support snapshots");
  });

  it('a cont during a save takes effect when the save is done; a load brings the machine back', async () => {
    const { m, loop, snaps, named } = await machine([{ name: 'a', format: 'qcow2' }]);
    loop.pause();
    const saving = snaps.save('s1', { overwrite: false });
    expect(snaps.inProgress).toBe(true);
    snaps.resumeAfterwards();
    expect(loop.paused).toBe(true);
    await saving;
    expect(loop.paused).toBe(false);
    loop.pause(); // the wall clock stands still from here on: the load brings it back to the save's time
    const before = captureMachine(m, loop);
    m.cpu.setX(0, 5, 0xdeadn);
    m.mem.write8(m.mem.base + 100, 0x42);
    await q(named[0]!).write(0, new Uint8Array(512).fill(7));
    await snaps.load('s1');
    const after = captureMachine(m, loop);
    // Everything as saved (the wall clock went on between the save and `before`: the board's
    // section differs in mtime only, and goes back to the saved, earlier time).
    const board = (c: typeof before) => c.sections.find((x) => x.name === 'riscv-virt-board')!.record as { clock: { mtime: number } };
    expect(after.sections.filter((x) => x.name !== 'riscv-virt-board')).toEqual(before.sections.filter((x) => x.name !== 'riscv-virt-board'));
    expect(board(after).clock.mtime).toBeLessThanOrEqual(board(before).clock.mtime);
    expect(m.cpu.ram[100]).toBe(before.ram.chunks[0]![100]);
    const sector = new Uint8Array(512);
    await q(named[0]!).read(0, sector);
    expect(sector.every((b) => b === 0)).toBe(true); // the disk went back too
  });

  it('what the guest and the devices write between saves is in the next save, and a load takes it back', async () => {
    // The guest counts and stores the count in a page that moves on every round (so new chunks
    // keep getting written), and adds it to a shared word with an AMO.
    const { m, snaps, named } = await machine(
      [{ name: 'a', format: 'qcow2' }],
      `.option arch, +a
      .section .text.init
      .globl _start
      _start:
        li s1, 0
        la s2, area
        la s3, shared
      1:
        addi s1, s1, 1
        andi t0, s1, 255
        slli t0, t0, 12
        add t0, t0, s2
        sd s1, 0(t0)
        amoadd.d zero, s1, (s3)
        j 1b
      .data
      .balign 8
      shared: .dword 0
      .balign 4096
      area: .space 256 * 4096
      `,
    );
    const ramOf = async (tag: string) => {
      const blob = await q(named[0]!).readSnapshotVmState(tag);
      const out = new Uint8Array(m.cpu.ram.length);
      await decodeRam(decodeVmState(blob).ram, out);
      return out;
    };
    m.cpu.run(0, 20_000);
    await snaps.save('s1', { overwrite: false });
    const s1 = m.cpu.ram.slice();
    expect(Buffer.compare(await ramOf('s1'), s1)).toBe(0);
    m.cpu.run(0, 30_000); // guest stores and AMOs
    m.mem.writeBytes(m.mem.base + (12 << 20), new Uint8Array(300).fill(5)); // a device's DMA
    await m.mem.writeInPlace(m.mem.base + (13 << 20), 8192, async (view) => void view.fill(6)); // a disk read
    await snaps.save('s2', { overwrite: false });
    expect(Buffer.compare(await ramOf('s2'), m.cpu.ram)).toBe(0);
    expect(Buffer.compare(await ramOf('s2'), s1)).not.toBe(0);
    const other = m.cpu.dirtyLog!.reader(); // another reader of the log (a code cache, a display)
    other.take();
    await snaps.load('s1');
    expect(Buffer.compare(m.cpu.ram, s1)).toBe(0);
    expect(other.take().some((byte) => byte !== 0)).toBe(true); // the load's writes were reported
    m.cpu.run(0, 10_000);
    await snaps.load('s2');
    expect(Buffer.compare(m.cpu.ram, await ramOf('s2'))).toBe(0);
  });
});
