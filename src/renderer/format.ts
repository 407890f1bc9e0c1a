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
