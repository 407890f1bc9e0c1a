// The host's limits as the wizard shows them: a VM's RAM is allocated up front (one
// WebAssembly.Memory, ARCHITECTURE.md), so it must fit in the host's memory with room to spare.
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { HostInfo } from '../../shared/api';
import { Limits } from '../../shared/vm-config';

/** Memory kept for the host itself, the app and the core host's own heap. */
const hostReserveMiB = 1024;
/** viv run's -m maximum: guest RAM shares one 4 GiB WebAssembly memory with ROM and hart state
 * (MAX_RAM_MIB in src/emulator-core/host/options.ts; main may not import the core's values). */
const wasmMemoryLimitMiB = 4032;

export function hostInfo(dataDir: string, guestDir: string | undefined, version: string): HostInfo {
  const totalMiB = Math.floor(os.totalmem() / (1024 * 1024));
  const maxMemoryMiB = Math.max(
    Limits.memoryMiB.min,
    Math.min(totalMiB - hostReserveMiB, wasmMemoryLimitMiB, Limits.memoryMiB.max),
  );
  const maxCpus = Math.max(1, Math.min(os.availableParallelism(), Limits.cpus.max));
  const kernel = guestDir && path.join(guestDir, 'Image');
  const initrd = guestDir && path.join(guestDir, 'initramfs.cpio.gz');
  const demoGuest = kernel && initrd && existsSync(kernel) && existsSync(initrd) ? { kernel, initrd } : undefined;
  return { maxMemoryMiB, maxCpus, dataDir, version, ...(demoGuest ? { demoGuest } : {}) };
}
