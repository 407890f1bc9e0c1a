// RunConfig (the parsed command line) -> a VirtMachine: reads the kernel, initrd and firmware
// files, picks the clock, and hands everything to the board. File problems and images that do
// not fit are MachineSetupErrors with a one-line message naming the file, as QEMU's are.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { LoadError } from '../machine/loaders/errors';
import { VirtMachine, type CpuFactory } from '../machine/virt';
import type { BiosChoice } from '../machine/boot-plan';
import { createDisplayDevices } from './display-devices';
import type { RunConfig } from './options';
import { openNetworks } from './networks';
import { closeDrives, DriveSetupError, openDrives, type OpenDrive } from './drives';

export class MachineSetupError extends Error {
  override readonly name = 'MachineSetupError';
}

function readImage(what: string, file: string): { name: string; data: Uint8Array } {
  try {
    const data = new Uint8Array(readFileSync(file));
    if (data.length === 0) throw new Error('the file is empty');
    return { name: `${what} '${file}'`, data };
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message;
    throw new MachineSetupError(`could not load ${what} '${file}': ${reason}`);
  }
}

/** Deterministic runs get a fixed /chosen/rng-seed (the kernel credits it as entropy). */
const ICOUNT_RNG_SEED = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff);

export async function buildMachine(config: RunConfig, makeCpu: CpuFactory, serialOut: (bytes: Uint8Array) => void): Promise<VirtMachine> {
  const bios: BiosChoice =
    config.bios.kind === 'file' ? { kind: 'file', ...readImage('firmware', config.bios.path) } : config.bios;
  const kernel = config.kernel === undefined ? undefined : readImage('kernel', config.kernel);
  const initrd = config.initrd === undefined ? undefined : readImage('initrd', config.initrd);
  const rngSeed = config.icountShift === undefined ? new Uint8Array(randomBytes(32)) : ICOUNT_RNG_SEED;
  // NICs and their backends; a backend that cannot bind (a hostfwd port in use) is a setup error.
  const machineRef: { m?: VirtMachine } = {};
  let nics;
  try {
    nics = await openNetworks(config.net, () => machineRef.m?.onIo());
  } catch (e) {
    throw new MachineSetupError((e as Error).message);
  }
  let drives: OpenDrive[];
  try {
    drives = await openDrives(config.drives, () => machineRef.m?.onIo());
  } catch (e) {
    await Promise.all(nics.map((n) => n.backend.close()));
    if (e instanceof DriveSetupError) throw new MachineSetupError(e.message);
    throw e;
  }
  try {
    machineRef.m = await VirtMachine.create(
      {
        harts: config.smp,
        ramSize: config.ramBytes,
        bios,
        kernel,
        initrd,
        append: config.append,
        icountShift: config.icountShift,
        noReboot: config.noReboot,
        virtioDevices: [...nics, ...createDisplayDevices(config.graphics), ...drives.map((d) => d.device)],
      },
      makeCpu,
      serialOut,
      rngSeed,
    );
    return machineRef.m;
  } catch (e) {
    await Promise.all(nics.map((n) => n.backend.close()));
    await closeDrives(drives.map((d) => d.device));
    if (e instanceof LoadError || e instanceof RangeError) throw new MachineSetupError(e.message);
    throw e;
  }
}
