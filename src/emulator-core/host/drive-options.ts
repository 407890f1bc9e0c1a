// The disk options of `viv run`, with QEMU's syntax: `-drive file=F[,format=raw|qcow2]
// [,if=virtio|none][,id=ID][,readonly=on][,cache=MODE][,snapshot=on][,serial=S][,media=disk]`,
// `-device virtio-blk-device,drive=ID[,serial=S]` for an if=none drive, and `-snapshot` (every
// writable drive gets a temporary overlay, discarded at exit). The default interface is virtio,
// as on QEMU's virt. Anything else is refused by name.
import { parseKeyValues } from './options';

export type DriveCache = 'writeback' | 'writethrough' | 'unsafe' | 'none' | 'directsync';

export interface DriveSpec {
  file: string;
  format?: 'raw' | 'qcow2';
  iface: 'virtio' | 'none';
  id?: string;
  readOnly: boolean;
  cache: DriveCache;
  snapshot: boolean;
  serial?: string;
  /** node-name: what QMP's block and snapshot commands call the drive's format node. */
  nodeName?: string;
  /** What the option said, for messages ("-drive file=a.qcow2,if=virtio: ..."). */
  option: string;
}

export interface DriveConfig {
  drives: DriveSpec[];
  /** -device virtio-blk-device,drive=ID: the drive id and the device's own serial. */
  blkDevices: { drive: string; serial?: string }[];
  /** -snapshot */
  snapshotAll: boolean;
}

export class DriveOptionError extends Error {
  override readonly name = 'DriveOptionError';
}

export const emptyDriveConfig = (): DriveConfig => ({ drives: [], blkDevices: [], snapshotAll: false });

const CACHE_MODES: DriveCache[] = ['writeback', 'writethrough', 'unsafe', 'none', 'directsync'];
const DRIVE_KEYS = ['file', 'format', 'if', 'id', 'node-name', 'readonly', 'read-only', 'cache', 'snapshot', 'serial', 'media', 'discard'];

function onOff(where: string, key: string, v: string): boolean {
  if (v === 'on' || v === 'yes' || v === 'true') return true;
  if (v === 'off' || v === 'no' || v === 'false') return false;
  throw new DriveOptionError(`${where}: Parameter '${key}' expects 'on' or 'off'`);
}

/** -drive VALUE */
export function addDrive(cfg: DriveConfig, value: string): void {
  const where = `-drive ${value}`;
  const kv = parseKeyValues(value, 'file');
  for (const k of kv.keys()) {
    if (!DRIVE_KEYS.includes(k)) throw new DriveOptionError(`${where}: Invalid parameter '${k}' (this emulator has ${DRIVE_KEYS.filter((x) => x !== 'read-only').join(', ')})`);
  }
  const file = kv.get('file');
  if (!file) throw new DriveOptionError(`${where}: Parameter 'file' is missing (a drive needs an image)`);
  const format = kv.get('format');
  if (format !== undefined && format !== 'raw' && format !== 'qcow2') {
    throw new DriveOptionError(`${where}: Unknown driver '${format}' (this emulator reads raw and qcow2)`);
  }
  const iface = kv.get('if') ?? 'virtio';
  if (iface !== 'virtio' && iface !== 'none') {
    throw new DriveOptionError(`${where}: if=${iface} is not supported (virt has virtio-mmio: if=virtio, or if=none with -device virtio-blk-device)`);
  }
  const media = kv.get('media') ?? 'disk';
  if (media !== 'disk') throw new DriveOptionError(`${where}: media=${media} is not supported (disks only)`);
  const cache = (kv.get('cache') ?? 'writeback') as DriveCache;
  if (!CACHE_MODES.includes(cache)) throw new DriveOptionError(`${where}: invalid cache option '${cache}'`);
  const discard = kv.get('discard');
  if (discard !== undefined && discard !== 'unmap' && discard !== 'on' && discard !== 'ignore' && discard !== 'off') {
    throw new DriveOptionError(`${where}: invalid discard option '${discard}'`);
  }
  const id = kv.get('id');
  if (id !== undefined && !/^[A-Za-z][A-Za-z0-9_.-]*$/.test(id)) throw new DriveOptionError(`${where}: Parameter 'id' expects an identifier`);
  if (id !== undefined && cfg.drives.some((d) => d.id === id)) throw new DriveOptionError(`${where}: Duplicate ID '${id}' for drive`);
  const nodeName = kv.get('node-name');
  if (nodeName !== undefined && !/^[A-Za-z][A-Za-z0-9_.-]*$/.test(nodeName)) throw new DriveOptionError(`${where}: Invalid node-name: '${nodeName}'`);
  if (nodeName !== undefined && cfg.drives.some((d) => d.nodeName === nodeName)) throw new DriveOptionError(`${where}: Duplicate nodes with node-name='${nodeName}'`);
  const readOnly = onOff(where, 'readonly', kv.get('readonly') ?? kv.get('read-only') ?? 'off');
  cfg.drives.push({
    file,
    format: format as DriveSpec['format'],
    iface,
    id,
    readOnly,
    cache,
    snapshot: onOff(where, 'snapshot', kv.get('snapshot') ?? 'off'),
    serial: kv.get('serial'),
    nodeName: kv.get('node-name'),
    option: where,
  });
}

/** -device VALUE: true if it was virtio-blk-device (added), false for someone else's device. */
export function addBlkDevice(cfg: DriveConfig, value: string): boolean {
  const kv = parseKeyValues(value, 'driver');
  const driver = kv.get('driver');
  if (driver === 'virtio-blk-pci') throw new DriveOptionError('-device virtio-blk-pci: virt has no PCI bus here; use virtio-blk-device');
  if (driver !== 'virtio-blk-device') return false;
  for (const k of kv.keys()) {
    if (!['driver', 'drive', 'serial', 'id', 'bus'].includes(k)) throw new DriveOptionError(`-device ${driver}: Property '${k}' not found`);
  }
  const drive = kv.get('drive');
  if (!drive) throw new DriveOptionError(`-device ${driver}: drive property not set`);
  cfg.blkDevices.push({ drive, serial: kv.get('serial') });
  return true;
}

/** Cross-checks once the command line is read: -device drive= ids exist, are if=none, used once. */
export function finishDriveConfig(cfg: DriveConfig): void {
  const used = new Set<string>();
  for (const d of cfg.blkDevices) {
    const drive = cfg.drives.find((x) => x.id === d.drive);
    if (!drive) throw new DriveOptionError(`-device virtio-blk-device,drive=${d.drive}: Property 'virtio-blk-device.drive' can't find value '${d.drive}'`);
    if (drive.iface !== 'none') throw new DriveOptionError(`-device virtio-blk-device,drive=${d.drive}: Drive '${d.drive}' is already in use by if=${drive.iface}`);
    if (used.has(d.drive)) throw new DriveOptionError(`-device virtio-blk-device,drive=${d.drive}: Drive '${d.drive}' is already in use`);
    used.add(d.drive);
  }
}
