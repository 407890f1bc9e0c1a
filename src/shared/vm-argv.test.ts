import { describe, expect, it } from 'vitest';
import { VmConfig } from './vm-config';
import { shellQuote, vmArgv, vmCommandLine } from './vm-argv';

const base = VmConfig.parse({
  version: 1,
  id: 'demo',
  name: 'Demo',
  createdAt: '2026-01-01T00:00:00.000Z',
  machine: 'virt',
  memoryMiB: 512,
  cpus: 2,
  boot: { kind: 'kernel', kernel: '/g/Image', initrd: '/g/initramfs.cpio.gz', append: 'console=ttyS0 quiet' },
  disk: { kind: 'none' },
  network: { enabled: false },
});

describe('vmArgv', () => {
  it('maps a kernel + initrd VM to QEMU option names, in order', () => {
    expect(vmArgv(base)).toEqual([
      '-M', 'virt', '-m', '512M', '-smp', '2',
      '-kernel', '/g/Image', '-initrd', '/g/initramfs.cpio.gz', '-append', 'console=ttyS0 quiet',
      '-nic', 'none', '-nographic',
    ]);
  });

  it('adds a virtio drive and user networking', () => {
    const argv = vmArgv({
      ...base,
      disk: { kind: 'image', path: '/vms/a,b/disk.qcow2', format: 'qcow2', owned: true },
      network: { enabled: true },
    });
    // A comma inside a -drive value is doubled, as QEMU's option parser expects.
    expect(argv).toContain('file=/vms/a,,b/disk.qcow2,format=qcow2,if=virtio');
    expect(argv.slice(argv.indexOf('-netdev'), argv.indexOf('-netdev') + 4)).toEqual([
      '-netdev', 'user,id=net0', '-device', 'virtio-net-device,netdev=net0',
    ]);
    expect(argv).not.toContain('-nic');
  });

  it('gives a VM with a display a virtio GPU, keyboard and tablet (the supervisor adds -vnc)', () => {
    const argv = vmArgv({ ...base, display: { enabled: true } });
    expect(argv.join(' ')).toContain('-nic none -device virtio-gpu-device -device virtio-keyboard-device -device virtio-tablet-device -nographic');
    expect(vmArgv({ ...base, display: { enabled: false } })).toEqual(vmArgv(base));
    // The command line a person pastes gets a VNC display to look at; without a display, none.
    expect(vmCommandLine({ ...base, display: { enabled: true } })).toMatch(/-device virtio-tablet-device -nographic -vnc :0$/);
    expect(vmCommandLine(base)).not.toContain('-vnc');
  });

  it('omits an empty initrd and append, and boots firmware with -bios', () => {
    expect(vmArgv({ ...base, boot: { kind: 'kernel', kernel: '/k', append: '' } })).not.toContain('-append');
    expect(vmArgv({ ...base, boot: { kind: 'firmware', firmware: '/fw.bin' } })).toContain('-bios');
    expect(vmArgv({ ...base, boot: { kind: 'disk' } })).not.toContain('-bios');
  });
});

describe('vmCommandLine', () => {
  it('quotes what a shell would split', () => {
    expect(shellQuote('plain/path.img')).toBe('plain/path.img');
    expect(shellQuote("it's here")).toBe(`'it'\\''s here'`);
    expect(vmCommandLine(base)).toBe(
      "viv run -M virt -m 512M -smp 2 -kernel /g/Image -initrd /g/initramfs.cpio.gz -append 'console=ttyS0 quiet' -nic none -nographic",
    );
  });
});
