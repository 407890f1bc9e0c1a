import { describe, expect, it } from 'vitest';
import { OptionError, parseRunArgs } from './options';

const run = (...args: string[]) => parseRunArgs(['-kernel', 'k', ...args]);

describe('-drive, -snapshot, -device virtio-blk-device', () => {
  it('reads QEMU drive options with virt defaults (virtio, writeback)', () => {
    const c = run('-drive', 'file=a.qcow2,format=qcow2,if=virtio,readonly=on,cache=unsafe,snapshot=on,serial=S1', '-drive', 'b.raw');
    expect(c.drives.drives).toEqual([
      { file: 'a.qcow2', format: 'qcow2', iface: 'virtio', id: undefined, readOnly: true, cache: 'unsafe', snapshot: true, serial: 'S1', option: '-drive file=a.qcow2,format=qcow2,if=virtio,readonly=on,cache=unsafe,snapshot=on,serial=S1' },
      { file: 'b.raw', format: undefined, iface: 'virtio', id: undefined, readOnly: false, cache: 'writeback', snapshot: false, serial: undefined, option: '-drive b.raw' },
    ]);
    expect(c.drives.snapshotAll).toBe(false);
    expect(run('-snapshot', '-drive', 'file=x').drives.snapshotAll).toBe(true);
  });

  it('pairs if=none drives with -device virtio-blk-device,drive=ID', () => {
    const c = run('-drive', 'file=a.qcow2,if=none,id=d0', '-device', 'virtio-blk-device,drive=d0,serial=X');
    expect(c.drives.blkDevices).toEqual([{ drive: 'd0', serial: 'X' }]);
  });

  it('refuses what it does not have, by name', () => {
    const bad: [string[], RegExp][] = [
      [['-drive', 'format=qcow2'], /Parameter 'file' is missing/],
      [['-drive', 'file=a,format=vmdk'], /Unknown driver 'vmdk'/],
      [['-drive', 'file=a,if=ide'], /if=ide is not supported/],
      [['-drive', 'file=a,media=cdrom'], /media=cdrom is not supported/],
      [['-drive', 'file=a,cache=fast'], /invalid cache option 'fast'/],
      [['-drive', 'file=a,aio=native'], /Invalid parameter 'aio'/],
      [['-drive', 'file=a,readonly=maybe'], /expects 'on' or 'off'/],
      [['-drive', 'file=a,id=x', '-drive', 'file=b,id=x'], /Duplicate ID 'x'/],
      [['-device', 'virtio-blk-device,drive=nope'], /can't find value 'nope'/],
      [['-drive', 'file=a,id=d0', '-device', 'virtio-blk-device,drive=d0'], /already in use by if=virtio/],
      [['-drive', 'file=a,id=d0,if=none', '-device', 'virtio-blk-device,drive=d0', '-device', 'virtio-blk-device,drive=d0'], /already in use/],
      [['-device', 'virtio-blk-device'], /drive property not set/],
      [['-device', 'virtio-blk-pci,drive=d0'], /no PCI bus/],
      [['-device', 'virtio-blk-device,drive=d0,scsi=on'], /Property 'scsi' not found/],
    ];
    for (const [args, msg] of bad) {
      expect(() => run(...args), args.join(' ')).toThrow(OptionError);
      expect(() => run(...args), args.join(' ')).toThrow(msg);
    }
  });
});
