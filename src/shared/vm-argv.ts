// A VM's config -> the `viv run` argument list (QEMU's option names, qemu-system-riscv64 -M virt).
// The app's core host and a person at a terminal run the same machine from the same list.
// Runtime channels (-serial/-qmp sockets) are added by the supervisor, not stored here.
import type { VmConfig } from './vm-config';

/** QEMU's -drive: a virtio-blk disk (if=virtio on virt is virtio-mmio, as QEMU does). */
function driveArgs(disk: VmConfig['disk'], stateDisk: VmConfig['stateDisk']): string[] {
  const args = disk.kind === 'none' ? [] : ['-drive', `file=${escapeDriveValue(disk.path)},format=${disk.format},if=virtio`];
  // The snapshot holder of a diskless VM (vm-config.ts): after the disk, so a disk stays virtio0.
  if (stateDisk) args.push('-drive', `file=${escapeDriveValue(stateDisk.path)},format=qcow2,if=virtio`);
  return args;
}

/** QEMU's option parser splits on commas; a literal comma in a value is written twice. */
export function escapeDriveValue(value: string): string {
  return value.replaceAll(',', ',,');
}

function bootArgs(boot: VmConfig['boot']): string[] {
  switch (boot.kind) {
    case 'kernel': {
      const args = ['-kernel', boot.kernel];
      if (boot.initrd) args.push('-initrd', boot.initrd);
      if (boot.append) args.push('-append', boot.append);
      return args;
    }
    case 'disk':
      return boot.firmware ? ['-bios', boot.firmware] : [];
    case 'firmware':
      return ['-bios', boot.firmware];
  }
}

function networkArgs(network: VmConfig['network']): string[] {
  // User-mode NAT on a virtio-net device; off means no NIC at all (QEMU's explicit `-nic none`).
  return network.enabled
    ? ['-netdev', 'user,id=net0', '-device', 'virtio-net-device,netdev=net0']
    : ['-nic', 'none'];
}

/** A screen and input devices (QEMU's virtio-mmio names); the supervisor adds -vnc to show them. */
function displayArgs(display: VmConfig['display']): string[] {
  return display?.enabled
    ? ['-device', 'virtio-gpu-device', '-device', 'virtio-keyboard-device', '-device', 'virtio-tablet-device']
    : [];
}

export function vmArgv(config: VmConfig): string[] {
  return [
    '-M',
    config.machine,
    '-m',
    `${config.memoryMiB}M`,
    '-smp',
    String(config.cpus),
    ...bootArgs(config.boot),
    ...driveArgs(config.disk, config.stateDisk),
    ...networkArgs(config.network),
    ...displayArgs(config.display),
    '-nographic',
  ];
}

/** Quotes one argument for a POSIX shell when it needs it (for the copyable command line). */
export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/**
 * The command line shown in Settings: what a person pastes into a terminal to run the same VM.
 * A VM with a display also gets `-vnc :0` (127.0.0.1:5900) there, so a VNC viewer can show it;
 * the app adds its own -vnc instead.
 */
export function vmCommandLine(config: VmConfig): string {
  return ['viv', 'run', ...vmArgv(config), ...(config.display?.enabled ? ['-vnc', ':0'] : [])].map(shellQuote).join(' ');
}
