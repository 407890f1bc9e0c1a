// -drive (drive-options.ts) -> opened block drivers and their virtio-blk devices. Images are
// opened before the guest runs, so a missing file, a corrupt image or a backing file that cannot
// be found stops `viv run` with a one-line error naming the drive, as QEMU does. snapshot=on puts
// a temporary QCOW2 overlay over the image (in the OS temp directory, deleted at exit): the guest
// writes go there and the image itself is opened read-only and left as it was.
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BlockError, createQcow2, openImage, Qcow2Driver, type BlockDriver } from '../block';
import { VirtioBlk } from '../devices/virtio/blk';
import type { DriveConfig, DriveSpec } from './drive-options';

export class DriveSetupError extends Error {
  override readonly name = 'DriveSetupError';
}

/** What a running machine holds for one drive. */
export interface OpenDrive {
  spec: DriveSpec;
  driver: BlockDriver;
  device: VirtioBlk;
  /** The temporary overlay of snapshot=on, removed at close. */
  overlay?: string;
}

async function openOne(spec: DriveSpec, snapshotAll: boolean, wake: () => void, serial?: string): Promise<OpenDrive> {
  const snapshot = (spec.snapshot || snapshotAll) && !spec.readOnly;
  const unsafe = spec.cache === 'unsafe';
  let overlay: string | undefined;
  let driver: BlockDriver;
  try {
    if (snapshot) {
      // The overlay names the image by its absolute path, so it resolves from the temp directory.
      const base = await openImage(spec.file, { format: spec.format, readOnly: true });
      const size = base.length();
      const format = base.format;
      await base.close();
      overlay = path.join(await fs.mkdtemp(path.join(tmpdir(), 'viv-snapshot-')), 'overlay.qcow2');
      await createQcow2(overlay, { size, backingFile: path.resolve(spec.file), backingFormat: format });
      driver = await openImage(overlay, { format: 'qcow2', unsafe });
    } else {
      driver = await openImage(spec.file, { format: spec.format, readOnly: spec.readOnly, unsafe });
    }
  } catch (e) {
    if (overlay) await fs.rm(path.dirname(overlay), { recursive: true, force: true });
    const msg = e instanceof BlockError ? e.message : (e as Error).message;
    throw new DriveSetupError(`${spec.option}: Could not open '${spec.file}': ${msg}`);
  }
  if (!spec.format && !snapshot && !spec.readOnly && driver.format === 'raw') {
    // QEMU's warning: a probed raw image could be turned into something else by the guest.
    process.stderr.write(`viv run: warning: Image format was not specified for '${spec.file}' and probing guessed raw.\n` +
      '         Automatically detecting the format is dangerous for raw images; specify format=raw explicitly.\n');
  }
  const device = new VirtioBlk(driver, {
    readOnly: spec.readOnly,
    cache: spec.cache === 'writethrough' || spec.cache === 'directsync' ? 'writethrough' : spec.cache === 'unsafe' ? 'unsafe' : 'writeback',
    serial: serial ?? spec.serial,
    discardGranularity: driver instanceof Qcow2Driver ? driver.image.clusterSize : 4096,
  }, wake);
  const open: OpenDrive = { spec, driver, device, overlay };
  openedBy.set(device, open);
  return open;
}

/** The open drive behind each device (for closeDrives, given the machine's devices). */
const openedBy = new WeakMap<VirtioBlk, OpenDrive>();

/** Opens every drive that has a device: if=virtio ones, and if=none ones named by -device. */
export async function openDrives(cfg: DriveConfig, wake: () => void): Promise<OpenDrive[]> {
  const opened: OpenDrive[] = [];
  try {
    for (const d of cfg.blkDevices) {
      const spec = cfg.drives.find((x) => x.id === d.drive)!;
      opened.push(await openOne(spec, cfg.snapshotAll, wake, d.serial));
    }
    for (const spec of cfg.drives) {
      if (spec.iface === 'virtio') opened.push(await openOne(spec, cfg.snapshotAll, wake));
    }
  } catch (e) {
    await closeDrives(opened.map((d) => d.device));
    throw e;
  }
  return opened;
}

/** The open drives behind `devices` (the machine's virtio devices), in the devices' order. */
export function openDrivesOf(devices: readonly unknown[]): OpenDrive[] {
  return devices.filter((d): d is VirtioBlk => d instanceof VirtioBlk).map((d) => openedBy.get(d)).filter((d) => d !== undefined);
}

/**
 * Finishes the drives among `devices` (the machine's virtio devices) at exit: waits for their
 * requests, flushes, closes, removes snapshot overlays.
 */
export async function closeDrives(devices: readonly unknown[]): Promise<void> {
  const drives = devices.filter((d): d is VirtioBlk => d instanceof VirtioBlk).map((d) => openedBy.get(d)).filter((d) => d !== undefined);
  // VIV_BLK_STATS=1: what each drive served, on stderr at exit.
  if (process.env.VIV_BLK_STATS) {
    for (const d of drives) process.stderr.write(`viv run: blk: ${JSON.stringify({ drive: d.spec.file, ...d.device.counters })}\n`);
  }
  for (const d of drives) {
    try {
      await d.device.drain();
      await d.driver.close();
    } catch (e) {
      process.stderr.write(`viv run: ${d.spec.option}: ${(e as Error).message}\n`);
    } finally {
      if (d.overlay) await fs.rm(path.dirname(d.overlay), { recursive: true, force: true });
    }
  }
}

