// How numbers and configs read to a person.
import type { VmConfig } from '../shared/vm-config';

export function formatMemory(mib: number): string {
  return mib >= 1024 && mib % 1024 === 0 ? `${mib / 1024} GiB` : `${mib} MiB`;
}

export function bootSummary(boot: VmConfig['boot']): string {
  switch (boot.kind) {
    case 'kernel':
      return boot.initrd ? 'Linux kernel + initrd' : 'Linux kernel';
    case 'disk':
      return 'From disk';
    case 'firmware':
      return 'Firmware';
  }
}

export function diskSummary(disk: VmConfig['disk']): string {
  if (disk.kind === 'none') return 'No disk';
  const name = disk.path.split(/[\\/]/).pop();
  return disk.base ? `Overlay on ${disk.base.split(/[\\/]/).pop()}` : `${name} (${disk.format})`;
}

export function cpuLabel(n: number): string {
  return n === 1 ? '1 CPU' : `${n} CPUs`;
}

export const stateLabel: Record<string, string> = {
  stopped: 'Stopped',
  starting: 'Starting…',
  running: 'Running',
  paused: 'Paused',
  stopping: 'Stopping…',
  crashed: 'Crashed',
};

/** Bytes as a person reads them: 512 B, 64 KiB, 1.5 GiB (binary units, as qemu-img prints them). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 100 || Number.isInteger(value) ? 0 : 1;
  return `${value.toFixed(digits)} ${units[unit]}`;
}

/** A timestamp in the person's own locale, to the minute (with seconds when asked). */
export function formatWhen(iso: string, seconds = false): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: seconds ? 'medium' : 'short' });
}
