// The app's half of "a VM's config maps 1:1 to a `viv run` argument list": every argv the app
// builds (src/shared/vm-argv.ts, plus the supervisor's -serial/-qmp) goes through viv run's own
// option parser. Options the emulator has not implemented yet may be refused, but only as
// "not implemented yet": a refusal for syntax means the app speaks the wrong dialect.
import { describe, expect, it } from 'vitest';
import { OptionError, parseRunArgs } from '../../src/emulator-core/host/options';
import { vmArgv } from '../../src/shared/vm-argv';
import type { VmConfig } from '../../src/shared/vm-config';

const base: VmConfig = {
  version: 1,
  id: 'argv',
  name: 'argv',
  createdAt: '2026-01-01T00:00:00.000Z',
  machine: 'virt',
  memoryMiB: 512,
  cpus: 2,
  boot: { kind: 'kernel', kernel: '/g/Image', initrd: '/g/initramfs.cpio.gz', append: "console=ttyS0 root='x y'" },
  disk: { kind: 'none' },
  network: { enabled: false },
};
const sockets = ['-serial', 'unix:/tmp/v/argv.serial,server=on,wait=off', '-qmp', 'unix:/tmp/v/argv.qmp,server=on,wait=off'];

function parse(config: VmConfig) {
  return parseRunArgs([...vmArgv(config), ...sockets]);
}

describe('the app -> viv run argument contract', () => {
  it('a kernel + initrd VM parses to the same machine', () => {
    const run = parse(base);
    expect(run).toMatchObject({
      machine: 'virt',
      ramBytes: 512 * 1024 * 1024,
      smp: 2,
      kernel: '/g/Image',
      initrd: '/g/initramfs.cpio.gz',
      append: "console=ttyS0 root='x y'",
      serial: { kind: 'unix', path: '/tmp/v/argv.serial', server: true, wait: false },
      qmp: { kind: 'unix', path: '/tmp/v/argv.qmp' },
    });
  });

  it('a VM with a display parses with the -vnc the supervisor adds in web mode', () => {
    const run = parseRunArgs([...vmArgv({ ...base, display: { enabled: true } }), ...sockets, '-vnc', 'unix:/tmp/v/argv.vnc,websocket=127.0.0.1:0,password=on']);
    expect(run.graphics.devices.map((d) => (d.kind === 'gpu' ? 'gpu' : d.input))).toEqual(['gpu', 'keyboard', 'tablet']);
    expect(run.graphics.vnc).toMatchObject({ listen: { kind: 'unix', path: '/tmp/v/argv.vnc' }, websocket: { host: '127.0.0.1', port: 0 }, password: true });
  });

  it('firmware boot parses', () => {
    expect(parse({ ...base, boot: { kind: 'firmware', firmware: '/fw.elf' } }).bios).toEqual({ kind: 'file', path: '/fw.elf' });
  });

  it.each([
    ['a disk', { ...base, disk: { kind: 'image', path: '/vms/a,b/disk.qcow2', format: 'qcow2', owned: true } } as VmConfig],
    ['user networking', { ...base, network: { enabled: true } }],
  ])('%s parses, or is refused only as not implemented yet', (_what, config) => {
    try {
      parse(config);
    } catch (e) {
      expect(e).toBeInstanceOf(OptionError);
      expect((e as Error).message).toMatch(/not implemented yet/);
    }
  });
});
