// The new-VM wizard's form: its fields, which step each belongs to, the per-step checks that need
// no server, and the request it becomes. Kept out of the view so it is testable without a DOM.
import { Limits, VmName, type CreateVmRequest, type DiskFormat, type VmConfig } from '../shared/vm-config';

export type BootKind = 'kernel' | 'disk' | 'firmware';
export type DiskKind = 'none' | 'new' | 'existing' | 'overlay';

export interface WizardForm {
  bootKind: BootKind;
  kernel: string;
  initrd: string;
  append: string;
  firmware: string;
  memoryMiB: number;
  cpus: number;
  diskKind: DiskKind;
  diskSizeGiB: number;
  diskPath: string;
  diskBase: string;
  network: boolean;
  /** A screen, keyboard and tablet (virtio-gpu, virtio-input), or the serial console only. */
  display: boolean;
  name: string;
}

export const steps = ['Boot', 'Memory & CPUs', 'Disk', 'Name, network & display', 'Summary'] as const;

/** Which step shows a field (server errors name fields; the wizard jumps to the step). */
export const stepOfField: Record<string, number> = {
  kernel: 0,
  initrd: 0,
  append: 0,
  firmware: 0,
  boot: 0,
  memoryMiB: 1,
  cpus: 1,
  disk: 2,
  diskPath: 2,
  diskBase: 2,
  sizeGiB: 2,
  name: 3,
  network: 3,
  display: 3,
};

export interface HostLimits {
  maxMemoryMiB: number;
  maxCpus: number;
}

/** Checks of one step that need no file system: ranges, names. Paths are checked by the images store. */
export function localErrors(step: number, form: WizardForm, host: HostLimits, takenNames: string[]): Record<string, string> {
  const errors: Record<string, string> = {};
  if (step === 1) {
    const maxMem = host.maxMemoryMiB;
    if (!Number.isInteger(form.memoryMiB) || form.memoryMiB < Limits.memoryMiB.min || form.memoryMiB > maxMem) {
      errors.memoryMiB = `Memory must be a whole number between ${Limits.memoryMiB.min} and ${maxMem} MiB`;
    }
    if (!Number.isInteger(form.cpus) || form.cpus < 1 || form.cpus > host.maxCpus) {
      errors.cpus = `CPUs must be between 1 and ${host.maxCpus}`;
    }
  }
  if (step === 2) {
    if (form.diskKind === 'new' && (!Number.isInteger(form.diskSizeGiB) || form.diskSizeGiB < Limits.diskGiB.min || form.diskSizeGiB > Limits.diskGiB.max)) {
      errors.sizeGiB = `A new disk has between ${Limits.diskGiB.min} and ${Limits.diskGiB.max} GiB`;
    }
    if (form.bootKind === 'disk' && form.diskKind === 'none') errors.disk = 'Booting from a disk needs a disk: choose one';
  }
  if (step === 3) {
    const name = VmName.safeParse(form.name);
    if (!name.success) errors.name = name.error.issues[0]!.message;
    else {
      const taken = takenNames.find((n) => n.toLocaleLowerCase() === name.data.toLocaleLowerCase());
      if (taken !== undefined) errors.name = `A VM named '${taken}' already exists`;
    }
  }
  return errors;
}

/** The files a step points at, with the label used in messages ('' = optional and empty). */
export function filesOfStep(step: number, form: WizardForm): { field: string; path: string; what: string; optional: boolean }[] {
  if (step === 0) {
    if (form.bootKind === 'kernel') {
      return [
        { field: 'kernel', path: form.kernel, what: 'Kernel', optional: false },
        { field: 'initrd', path: form.initrd, what: 'Initrd', optional: true },
      ];
    }
    return [{ field: 'firmware', path: form.firmware, what: 'Firmware', optional: form.bootKind === 'disk' }];
  }
  if (step === 2) {
    if (form.diskKind === 'existing') return [{ field: 'diskPath', path: form.diskPath, what: 'Disk image', optional: false }];
    if (form.diskKind === 'overlay') return [{ field: 'diskBase', path: form.diskBase, what: 'Base image', optional: false }];
  }
  return [];
}

export function bootOf(form: WizardForm): VmConfig['boot'] {
  if (form.bootKind === 'kernel') {
    return { kind: 'kernel', kernel: form.kernel.trim(), ...(form.initrd.trim() ? { initrd: form.initrd.trim() } : {}), append: form.append };
  }
  if (form.bootKind === 'disk') return { kind: 'disk', ...(form.firmware.trim() ? { firmware: form.firmware.trim() } : {}) };
  return { kind: 'firmware', firmware: form.firmware.trim() };
}

export function requestOf(form: WizardForm, formatOf: (path: string) => DiskFormat): CreateVmRequest {
  const disk: CreateVmRequest['disk'] =
    form.diskKind === 'new'
      ? { kind: 'new', sizeGiB: form.diskSizeGiB }
      : form.diskKind === 'existing'
        ? { kind: 'existing', path: form.diskPath.trim(), format: formatOf(form.diskPath.trim()) }
        : form.diskKind === 'overlay'
          ? { kind: 'overlay', base: form.diskBase.trim(), baseFormat: formatOf(form.diskBase.trim()) }
          : { kind: 'none' };
  return {
    name: form.name.trim(),
    memoryMiB: form.memoryMiB,
    cpus: form.cpus,
    boot: bootOf(form),
    disk,
    network: { enabled: form.network },
    // 1:1 into the VM's argv (shared/vm-argv.ts): virtio-gpu + keyboard + tablet, or nothing.
    ...(form.display ? { display: { enabled: true } } : {}),
  };
}

/** The config the request will become, for the summary's command line (disk paths are placeholders). */
export function previewConfig(form: WizardForm, formatOf: (path: string) => DiskFormat): VmConfig {
  const r = requestOf(form, formatOf);
  const disk: VmConfig['disk'] =
    r.disk.kind === 'none'
      ? { kind: 'none' }
      : r.disk.kind === 'existing'
        ? { kind: 'image', path: r.disk.path, format: r.disk.format, owned: false }
        : { kind: 'image', path: r.disk.kind === 'new' ? '/…/disk.qcow2' : '/…/overlay.qcow2', format: 'qcow2', owned: true };
  return {
    version: 1,
    id: 'preview',
    name: r.name || 'preview',
    createdAt: '',
    machine: 'virt',
    memoryMiB: r.memoryMiB,
    cpus: r.cpus,
    boot: r.boot,
    disk,
    network: r.network,
    ...(r.display ? { display: r.display } : {}),
  };
}

/** "Linux VM", or "Linux VM 2" when that is taken. */
export function suggestName(base: string, taken: string[]): string {
  const lower = new Set(taken.map((n) => n.toLocaleLowerCase()));
  if (!lower.has(base.toLocaleLowerCase())) return base;
  for (let n = 2; ; n++) if (!lower.has(`${base} ${n}`.toLocaleLowerCase())) return `${base} ${n}`;
}
