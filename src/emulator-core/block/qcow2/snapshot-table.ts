// The internal snapshot table (qcow2.txt "Snapshots"): variable-length entries, each with its own
// L1 table, its name and ID, dates, the VM state size and the extra data QEMU defines (large VM
// state size, virtual disk size, icount). Unknown extra data is kept verbatim.
import { BlockError } from '../errors';
import { MAX_SNAPSHOT_EXTRA_DATA, MAX_SNAPSHOT_TABLE_BYTES, MAX_SNAPSHOTS } from './constants';

export interface Snapshot {
  l1TableOffset: number;
  l1Size: number;
  id: string;
  name: string;
  dateSec: number;
  dateNsec: number;
  /** Guest run time when taken, in nanoseconds. */
  vmClockNsec: number;
  vmStateSize: number;
  /** Virtual disk size when taken (extra data bytes 48..55); undefined if not stored. */
  diskSize?: number;
  /** Guest instruction count (extra data 56..63); undefined if not stored or -1. */
  icount?: number;
  /** Extra data past what we know, written back unchanged. */
  unknownExtra: Uint8Array;
  /** A v3 entry without the disk size (qemu-img check reports it; we complete it on rewrite). */
  incomplete?: boolean;
}

const td = new TextDecoder();
const te = new TextEncoder();

/** Size of the fixed part of an entry. */
const ENTRY_FIXED = 40;
/** Extra data QEMU writes: vm_state_size_large, disk_size, icount. */
const EXTRA_KNOWN = 24;

function readU64(v: DataView, at: number): number {
  const x = v.getBigUint64(at);
  if (x > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
  return Number(x);
}

/**
 * Parses `count` entries from `buf` (the table read from the file). Throws a BlockError naming the
 * entry for anything malformed: a table we cannot trust must not be rewritten.
 */
export function parseSnapshotTable(buf: Uint8Array, count: number, version: number): { snapshots: Snapshot[]; size: number } {
  if (count > MAX_SNAPSHOTS) throw new BlockError('EFBIG', 'Snapshot table too large');
  const v = new DataView(buf.buffer, buf.byteOffset, buf.length);
  const snapshots: Snapshot[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + ENTRY_FIXED > buf.length) throw new BlockError('EINVAL', 'Snapshot table is truncated');
    const l1TableOffset = readU64(v, at);
    const l1Size = v.getUint32(at + 8);
    const idLen = v.getUint16(at + 12);
    const nameLen = v.getUint16(at + 14);
    const dateSec = v.getUint32(at + 16);
    const dateNsec = v.getUint32(at + 20);
    const vmClockNsec = readU64(v, at + 24);
    let vmStateSize = v.getUint32(at + 32);
    const extraLen = v.getUint32(at + 36);
    at += ENTRY_FIXED;
    if (extraLen > MAX_SNAPSHOT_EXTRA_DATA) {
      throw new BlockError('EFBIG', `Too much extra metadata in snapshot table entry ${i}`);
    }
    if (at + extraLen + idLen + nameLen > buf.length) throw new BlockError('EINVAL', 'Snapshot table is truncated');
    let diskSize: number | undefined;
    let icount: number | undefined;
    if (extraLen >= 8) vmStateSize = readU64(v, at);
    if (extraLen >= 16) diskSize = readU64(v, at + 8);
    if (extraLen >= 24) {
      const ic = v.getBigUint64(at + 16);
      icount = ic === 0xffffffffffffffffn ? undefined : Number(ic);
    }
    const incomplete = version >= 3 && extraLen < 16;
    const unknownExtra = extraLen > EXTRA_KNOWN ? buf.slice(at + EXTRA_KNOWN, at + extraLen) : new Uint8Array(0);
    at += extraLen;
    const id = td.decode(buf.subarray(at, at + idLen));
    at += idLen;
    const name = td.decode(buf.subarray(at, at + nameLen));
    at += nameLen;
    at = (at + 7) & ~7;
    if (at > MAX_SNAPSHOT_TABLE_BYTES) throw new BlockError('EFBIG', 'Snapshot table too large');
    snapshots.push({ l1TableOffset, l1Size, id, name, dateSec, dateNsec, vmClockNsec, vmStateSize, diskSize, icount, unknownExtra, incomplete });
  }
  return { snapshots, size: at };
}

/** Serialises the table as QEMU's qcow2_write_snapshots does (extra data: 24 bytes + unknown). */
export function serializeSnapshotTable(snapshots: readonly Snapshot[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const sn of snapshots) {
    const id = te.encode(sn.id);
    const name = te.encode(sn.name);
    const extraLen = EXTRA_KNOWN + sn.unknownExtra.length;
    const len = (ENTRY_FIXED + extraLen + id.length + name.length + 7) & ~7;
    const b = new Uint8Array(len);
    const v = new DataView(b.buffer);
    v.setBigUint64(0, BigInt(sn.l1TableOffset));
    v.setUint32(8, sn.l1Size);
    v.setUint16(12, id.length);
    v.setUint16(14, name.length);
    v.setUint32(16, sn.dateSec);
    v.setUint32(20, sn.dateNsec);
    v.setBigUint64(24, BigInt(sn.vmClockNsec));
    v.setUint32(32, sn.vmStateSize > 0xffffffff ? 0 : sn.vmStateSize);
    v.setUint32(36, extraLen);
    v.setBigUint64(40, BigInt(sn.vmStateSize));
    v.setBigUint64(48, BigInt(sn.diskSize ?? 0));
    v.setBigUint64(56, sn.icount === undefined ? 0xffffffffffffffffn : BigInt(sn.icount));
    b.set(sn.unknownExtra, 64);
    b.set(id, ENTRY_FIXED + extraLen);
    b.set(name, ENTRY_FIXED + extraLen + id.length);
    parts.push(b);
    total += len;
  }
  if (total > MAX_SNAPSHOT_TABLE_BYTES) throw new BlockError('EFBIG', 'Snapshot table too large');
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
