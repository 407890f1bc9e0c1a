// Persistent dirty bitmaps (qcow2.txt "Bitmaps extension", "Bitmap directory"): we do not track
// dirty regions, but we read the directory so `info` lists the bitmaps and `check` counts their
// clusters as QEMU does. Before we write guest data we mark every bitmap in_use, which is how
// QEMU itself marks a bitmap that may no longer match the disk: the bitmaps stay in the image
// (no leaked clusters), and QEMU will not use them for an incremental backup.
import { BlockError } from '../errors';
import { AUTOCLEAR_BITMAPS, EXT_BITMAPS } from './constants';
import type { Qcow2Header } from './header';
import type { HostFile } from '../host-file';

export interface BitmapEntry {
  name: string;
  granularityBits: number;
  inUse: boolean;
  auto: boolean;
  tableOffset: number;
  /** Entries in the bitmap table. */
  tableSize: number;
  /** Where this entry is in the file (its flags are at +12). */
  entryOffset: number;
}

export interface BitmapDirectory {
  offset: number;
  size: number;
  bitmaps: BitmapEntry[];
}

/** Bitmap table entries: offset bits 9..55 (qcow2.txt "Bitmap table"). */
export const BME_OFFSET_MASK = 0x00fffffffffffe00n;

const BME_FLAG_IN_USE = 1;
const BME_FLAG_AUTO = 2;

/** The directory when the image has consistent bitmaps, else null. */
export async function loadBitmapDirectory(file: HostFile, header: Qcow2Header): Promise<BitmapDirectory | null> {
  if (!(header.autoclearFeatures & AUTOCLEAR_BITMAPS)) return null;
  const ext = header.otherExtensions.find((e) => e.type === EXT_BITMAPS);
  if (!ext || ext.data.length < 24) return null;
  const v = new DataView(ext.data.buffer, ext.data.byteOffset, ext.data.length);
  const count = v.getUint32(0);
  const size = Number(v.getBigUint64(8));
  const offset = Number(v.getBigUint64(16));
  if (count === 0 || count > 65535 || size > 64 * 1024 * 1024 || offset % 2 ** header.clusterBits !== 0) {
    throw new BlockError('EINVAL', 'Invalid bitmaps extension');
  }
  const dir = new Uint8Array(size);
  await file.read(dir, offset);
  const d = new DataView(dir.buffer);
  const bitmaps: BitmapEntry[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 24 > size) throw new BlockError('EINVAL', 'Bitmap directory is truncated');
    const tableOffset = Number(d.getBigUint64(at));
    const tableSize = d.getUint32(at + 8);
    const flags = d.getUint32(at + 12);
    const granularityBits = d.getUint8(at + 17);
    const nameSize = d.getUint16(at + 18);
    const extra = d.getUint32(at + 20);
    const nameAt = at + 24 + extra;
    if (nameAt + nameSize > size) throw new BlockError('EINVAL', 'Bitmap directory is truncated');
    const name = new TextDecoder().decode(dir.subarray(nameAt, nameAt + nameSize));
      bitmaps.push({ name, granularityBits, inUse: (flags & BME_FLAG_IN_USE) !== 0, auto: (flags & BME_FLAG_AUTO) !== 0, tableOffset, tableSize, entryOffset: offset + at });
    at = (nameAt + nameSize + 7) & ~7;
  }
  return { offset, size, bitmaps };
}

/** Sets in_use on every bitmap that lacks it (one 4-byte write each, then a sync). */
export async function markBitmapsInUse(file: HostFile, dir: BitmapDirectory): Promise<void> {
  let wrote = false;
  for (const bm of dir.bitmaps) {
    if (bm.inUse) continue;
    const flags = new Uint8Array(4);
    await file.read(flags, bm.entryOffset + 12);
    new DataView(flags.buffer).setUint32(0, new DataView(flags.buffer).getUint32(0) | BME_FLAG_IN_USE);
    await file.write(flags, bm.entryOffset + 12);
    bm.inUse = true;
    wrote = true;
  }
  if (wrote) await file.datasync();
}
