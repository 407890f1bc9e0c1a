// Opening an image and its backing chain: format probing, backing file names resolved as QEMU
// resolves them (relative to the directory of the image that names them), loops refused.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { BlockDriver, ImageFormat } from './driver';
import { BlockError, fromHostError } from './errors';
import type { IoFaults } from './host-file';
import { QCOW2_MAGIC } from './qcow2/constants';
import { parseHeader, peekClusterBits, HEADER_PROBE_BYTES, type Qcow2Header } from './qcow2/header';
import { HostFile } from './host-file';
import { Qcow2Driver } from './qcow2/driver';
import { RawDriver } from './raw';

export interface OpenImageOptions {
  /** The format to use; probed from the file when absent. */
  format?: string;
  readOnly?: boolean;
  /** Do not open the backing chain (qemu's BDRV_O_NO_BACKING): reads of unallocated clusters see zeros. */
  noBacking?: boolean;
  faults?: IoFaults;
  l2CacheTables?: number;
  refblockCacheTables?: number;
  /** Opened for `check` (no automatic repair of a dirty image on a read-write open). */
  forCheck?: boolean;
  /** cache=unsafe: flushes do not fdatasync (see HostFileOptions.unsafe). */
  unsafe?: boolean;
}

/**
 * QEMU's path_combine: a relative backing file name is relative to the directory part of the
 * name its overlay was opened with (not its real path), so "sub/o.qcow2" naming "b.qcow2" opens
 * "sub/b.qcow2".
 */
export function resolveBackingPath(overlayFilename: string, backing: string): string {
  if (path.isAbsolute(backing) || /^[a-z][a-z0-9+.-]*:/i.test(backing) && !backing.startsWith('file:')) return backing;
  const name = backing.startsWith('file:') ? backing.slice(5) : backing;
  if (path.isAbsolute(name)) return name;
  const slash = overlayFilename.lastIndexOf('/');
  return slash < 0 ? name : overlayFilename.slice(0, slash + 1) + name;
}

/** Guesses the format from the first bytes as QEMU's probes do (qcow2: magic and version >= 2). */
export async function probeFormat(filename: string): Promise<ImageFormat> {
  const file = await HostFile.open(filename, { readOnly: true });
  try {
    const head = new Uint8Array(8);
    const size = await file.size();
    await file.read(head, 0);
    const v = new DataView(head.buffer);
    if (size >= 8 && v.getUint32(0) === QCOW2_MAGIC) {
      const version = v.getUint32(4);
      if (version >= 2) return 'qcow2';
      throw new BlockError('ENOTSUP', `image format 'qcow' (version ${version}) is not supported`);
    }
    return 'raw';
  } finally {
    await file.close();
  }
}

export function checkFormatName(format: string): ImageFormat {
  if (format === 'raw' || format === 'qcow2') return format;
  throw new BlockError('ENOTSUP', `Unknown driver '${format}'`);
}

/**
 * Opens `filename` and, unless `noBacking`, its whole backing chain (read-only). Errors read as
 * qemu-img's: "Could not open backing file: Could not open 'x': No such file or directory".
 */
export async function openImage(filename: string, options: OpenImageOptions = {}): Promise<BlockDriver> {
  return openChain(filename, options, new Set());
}

async function realKey(filename: string): Promise<string> {
  try {
    const st = await fs.stat(filename);
    return `${st.dev}:${st.ino}`;
  } catch {
    return path.resolve(filename);
  }
}

async function openChain(filename: string, options: OpenImageOptions, seen: Set<string>): Promise<BlockDriver> {
  const key = await realKey(filename);
  if (seen.has(key)) throw new BlockError('ELOOP', `Backing file '${filename}' creates an infinite loop.`);
  seen.add(key);
  const format = options.format ? checkFormatName(options.format) : await probeFormat(filename);
  const readOnly = options.readOnly ?? false;
  if (format === 'raw') return RawDriver.open(filename, { readOnly, faults: options.faults, unsafe: options.unsafe });

  // Read the header first (read-only) to learn the backing file, open the chain, then the image.
  let backing: BlockDriver | null = null;
  let fullBackingFilename: string | undefined;
  const header = await readQcow2Header(filename);
  if (header.backingFile !== null) {
    fullBackingFilename = resolveBackingPath(filename, header.backingFile);
    if (!options.noBacking) {
      try {
        backing = await openChain(fullBackingFilename, {
          format: header.backingFormat ?? undefined,
          readOnly: true,
          faults: options.faults,
        }, seen);
      } catch (err) {
        const e = err instanceof BlockError ? err : fromHostError(err);
        throw new BlockError(e.code, `Could not open backing file: ${e.message}`);
      }
    }
  }
  try {
    return await Qcow2Driver.open(filename, {
      readOnly,
      backing,
      fullBackingFilename,
      faults: options.faults,
      l2CacheTables: options.l2CacheTables,
      refblockCacheTables: options.refblockCacheTables,
      forCheck: options.forCheck,
      unsafe: options.unsafe,
    });
  } catch (err) {
    await backing?.close();
    throw err;
  }
}

/** The header (and extensions) of a QCOW2 file, without opening its tables. */
export async function readQcow2Header(filename: string): Promise<Qcow2Header> {
  const file = await HostFile.open(filename, { readOnly: true });
  try {
    const probe = new Uint8Array(HEADER_PROBE_BYTES);
    await file.read(probe, 0);
    const first = new Uint8Array(2 ** peekClusterBits(probe));
    await file.read(first, 0);
    return parseHeader(first);
  } finally {
    await file.close();
  }
}
