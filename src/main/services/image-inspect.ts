// What one image file is, as the Images view shows it: format, sizes, backing file, snapshots, and
// whether it is missing or broken (with the reason, in words). Read with the project's block
// engine. An image a running VM writes is only looked at through its header (one sector, rewritten
// atomically), as `qemu-img info -U` would: its tables may be half-way through an update.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BlockError, openImage, Qcow2Driver, resolveBackingPath } from '../../emulator-core/block';
import { readQcow2Header } from '../../emulator-core/block/open';
import type { DiskFormat } from '../../shared/vm-config';

/** "QFI\xfb" (qcow2.txt: magic). */
const qcow2Magic = 0x514649fb;

export interface InspectedImage {
  path: string;
  status: 'ok' | 'missing' | 'broken';
  reason?: string;
  format?: DiskFormat;
  virtualSize?: number;
  actualSize?: number;
  clusterSize?: number;
  /** Resolved backing file (QEMU's path_combine against this image's folder) and its format. */
  backing?: string;
  backingFormat?: DiskFormat;
  snapshots: number;
}

export interface InspectOptions {
  /** The format the app recorded for it (a VM's config, the catalog); else probed. */
  format?: DiskFormat;
  /** Open the tables too (not for an image a running VM writes). */
  deep: boolean;
}

function errorText(err: unknown): string {
  if (err instanceof BlockError) return err.message;
  const code = (err as NodeJS.ErrnoException).code;
  return code ? `${code}: ${(err as Error).message}` : String((err as Error).message ?? err);
}

export async function inspectImage(file: string, options: InspectOptions): Promise<InspectedImage> {
  const base: InspectedImage = { path: file, status: 'ok', snapshots: 0 };
  let stat;
  try {
    stat = await fs.stat(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      return { ...base, status: 'missing', format: options.format, reason: 'The file is gone: it was deleted or moved outside Vivarium.' };
    }
    return { ...base, status: 'broken', format: options.format, reason: `The file cannot be read (${code}).` };
  }
  if (!stat.isFile()) return { ...base, status: 'broken', reason: 'This is a folder, not an image file.' };
  base.actualSize = stat.blocks * 512;

  let magic: number | undefined;
  try {
    const handle = await fs.open(file, 'r');
    try {
      const head = Buffer.alloc(4);
      const { bytesRead } = await handle.read(head, 0, 4, 0);
      if (bytesRead === 4) magic = head.readUInt32BE(0);
    } finally {
      await handle.close();
    }
  } catch (err) {
    return { ...base, status: 'broken', format: options.format, reason: `The file cannot be read (${errorText(err)}).` };
  }
  const probed: DiskFormat = magic === qcow2Magic ? 'qcow2' : 'raw';
  const format = options.format ?? probed;
  if (format === 'qcow2' && probed !== 'qcow2') {
    const what = stat.size === 0 ? 'The file is empty' : 'The file no longer starts with a QCOW2 header';
    return { ...base, status: 'broken', format, reason: `${what}: it was overwritten or truncated outside Vivarium.` };
  }
  if (format === 'raw') {
    // A raw image is its bytes; nothing in it can be broken.
    return { ...base, format, virtualSize: stat.size };
  }

  let header;
  try {
    header = await readQcow2Header(file);
  } catch (err) {
    return { ...base, status: 'broken', format, reason: `The QCOW2 header is damaged: ${errorText(err)}.` };
  }
  const info: InspectedImage = {
    ...base,
    format,
    virtualSize: header.size,
    clusterSize: 2 ** header.clusterBits,
    snapshots: header.nbSnapshots,
  };
  if (header.backingFile !== null) {
    info.backing = path.resolve(path.dirname(file), resolveBackingPath(file, header.backingFile));
    if (header.backingFormat === 'raw' || header.backingFormat === 'qcow2') info.backingFormat = header.backingFormat;
  }
  if (header.incompatibleFeatures & 2n) {
    // qcow2.txt incompatible bit 1: a writer found an inconsistency and stopped trusting the image.
    return { ...info, status: 'broken', reason: 'The image is marked corrupt (a writer found its metadata inconsistent); run Check.' };
  }
  if (!options.deep) return info;
  try {
    const drv = await openImage(file, { format: 'qcow2', readOnly: true, noBacking: true });
    try {
      if (drv instanceof Qcow2Driver) info.snapshots = drv.listSnapshots().length;
    } finally {
      await drv.close();
    }
  } catch (err) {
    return { ...info, status: 'broken', reason: `The image cannot be opened: ${errorText(err)}.` };
  }
  return info;
}
