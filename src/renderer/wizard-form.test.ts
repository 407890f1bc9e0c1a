import { describe, expect, it } from 'vitest';
import { vmArgv, vmCommandLine } from '../shared/vm-argv';
import { filesOfStep, localErrors, previewConfig, requestOf, stepOfField, suggestName, type WizardForm } from './wizard-form';

const form = (over: Partial<WizardForm> = {}): WizardForm => ({
  bootKind: 'kernel',
  kernel: '/g/Image',
  initrd: '',
  append: 'console=ttyS0',
  firmware: '',
  memoryMiB: 512,
  cpus: 1,
  diskKind: 'none',
  diskSizeGiB: 8,
  diskPath: '',
  diskBase: '',
  network: false,
  display: false,
  name: 'Linux VM',
  ...over,
});
const host = { maxMemoryMiB: 2048, maxCpus: 2 };

describe('wizard form', () => {
  it('bounds memory and CPUs by the host', () => {
    expect(localErrors(1, form({ memoryMiB: 4096 }), host, [])).toEqual({
      memoryMiB: 'Memory must be a whole number between 16 and 2048 MiB',
    });
    expect(localErrors(1, form({ memoryMiB: 12.5, cpus: 3 }), host, [])).toMatchObject({ memoryMiB: expect.any(String), cpus: 'CPUs must be between 1 and 2' });
    expect(localErrors(1, form(), host, [])).toEqual({});
  });

  it('needs a disk to boot from a disk, and a sane new disk size', () => {
    expect(localErrors(2, form({ bootKind: 'disk' }), host, [])).toEqual({ disk: 'Booting from a disk needs a disk: choose one' });
    expect(localErrors(2, form({ diskKind: 'new', diskSizeGiB: 0 }), host, []).sizeGiB).toMatch(/between 1 and/);
  });

  it('refuses empty and taken names, naming the VM that has it', () => {
    expect(localErrors(3, form({ name: '  ' }), host, []).name).toBe('Give the VM a name');
    expect(localErrors(3, form({ name: 'linux vm' }), host, ['Linux VM']).name).toBe("A VM named 'Linux VM' already exists");
    expect(suggestName('Linux VM', ['linux vm', 'Linux VM 2'])).toBe('Linux VM 3');
  });

  it('lists the files each step must check', () => {
    expect(filesOfStep(0, form()).map((f) => [f.field, f.optional])).toEqual([['kernel', false], ['initrd', true]]);
    expect(filesOfStep(0, form({ bootKind: 'firmware' }))[0]).toMatchObject({ field: 'firmware', optional: false });
    expect(filesOfStep(2, form({ diskKind: 'overlay', diskBase: '/b.qcow2' }))[0]).toMatchObject({ field: 'diskBase', path: '/b.qcow2' });
  });

  it('becomes a create request and a preview config', () => {
    const f = form({ initrd: ' /g/initrd ', diskKind: 'overlay', diskBase: '/b.raw', network: true });
    expect(requestOf(f, () => 'raw')).toEqual({
      name: 'Linux VM',
      memoryMiB: 512,
      cpus: 1,
      boot: { kind: 'kernel', kernel: '/g/Image', initrd: '/g/initrd', append: 'console=ttyS0' },
      disk: { kind: 'overlay', base: '/b.raw', baseFormat: 'raw' },
      network: { enabled: true },
    });
    expect(previewConfig(f, () => 'raw').disk).toMatchObject({ kind: 'image', format: 'qcow2' });
    expect(previewConfig(form({ diskKind: 'existing', diskPath: '/d.img' }), () => 'raw').disk).toMatchObject({ path: '/d.img', format: 'raw' });
  });

  it('maps the Display choice 1:1 into the VM\'s viv run argv', () => {
    const none = form();
    expect(requestOf(none, () => 'raw')).not.toHaveProperty('display');
    expect(vmArgv(previewConfig(none, () => 'raw'))).not.toContain('virtio-gpu-device');
    const screen = form({ display: true });
    expect(requestOf(screen, () => 'raw').display).toEqual({ enabled: true });
    const argv = vmArgv(previewConfig(screen, () => 'raw'));
    expect(argv.filter((_, i) => argv[i - 1] === '-device')).toEqual(['virtio-gpu-device', 'virtio-keyboard-device', 'virtio-tablet-device']);
    expect(vmCommandLine(previewConfig(screen, () => 'raw'))).toContain('-vnc :0');
    expect(stepOfField.display).toBe(3);
  });
});
