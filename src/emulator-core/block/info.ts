// What `getInfo` reports beyond the common fields: QEMU's SnapshotInfo and ImageInfoSpecificQCow2,
// with the same meanings, so `viv img info --output=json` can print qemu-img's shapes.

export interface SnapshotInfo {
  id: string;
  name: string;
  vmStateSize: number;
  dateSec: number;
  dateNsec: number;
  vmClockSec: number;
  vmClockNsec: number;
  /** Guest instruction count when taken (QEMU record/replay); absent when not recorded. */
  icount?: number;
}

export interface Qcow2FormatInfo {
  type: 'qcow2';
  compat: '0.10' | '1.1';
  compressionType?: 'zlib' | 'zstd';
  lazyRefcounts?: boolean;
  refcountBits: number;
  corrupt?: boolean;
  extendedL2?: boolean;
  dataFile?: string;
  dataFileRaw?: boolean;
  /** Names of persistent dirty bitmaps (the bitmaps extension), kept but not interpreted. */
  bitmaps?: { name: string; granularity: number; flags: string[] }[];
}
