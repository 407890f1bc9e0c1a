// ImageInfo as qemu-img prints it: the QAPI object (for --output=json) and the human dump of
// block/qapi.c (bdrv_image_info_dump, bdrv_snapshot_dump, dump_qdict).
import type { ImageInfo, SnapshotInfo } from '../../emulator-core/block';
import { sizeToStr } from './common';
import { qdictOrder, type JsonValue } from './qjson';

/** Fields in QAPI declaration order (insertion order matters for QDict bucket collisions). */
export function imageInfoJson(info: ImageInfo): JsonValue {
  const o: Record<string, JsonValue | undefined> = {};
  o['filename'] = info.filename;
  o['format'] = info.format;
  o['dirty-flag'] = info.dirtyFlag;
  o['actual-size'] = info.actualSize;
  o['virtual-size'] = info.virtualSize;
  if (info.clusterSize !== undefined) o['cluster-size'] = info.clusterSize;
  if (info.encrypted) o['encrypted'] = true;
  if (info.backingFilename !== undefined) {
    o['backing-filename'] = info.backingFilename;
    if (info.fullBackingFilename !== undefined) o['full-backing-filename'] = info.fullBackingFilename;
    if (info.backingFilenameFormat !== undefined) o['backing-filename-format'] = info.backingFilenameFormat;
  }
  if (info.snapshots?.length) o['snapshots'] = info.snapshots.map(snapshotJson);
  if (info.formatSpecific) o['format-specific'] = { type: 'qcow2', data: formatSpecificData(info) };
  return o;
}

export function snapshotJson(s: SnapshotInfo): JsonValue {
  const o: Record<string, JsonValue | undefined> = {
    id: s.id,
    name: s.name,
    'vm-state-size': s.vmStateSize,
    'date-sec': s.dateSec,
    'date-nsec': s.dateNsec,
    'vm-clock-sec': s.vmClockSec,
    'vm-clock-nsec': s.vmClockNsec,
  };
  if (s.icount !== undefined) o['icount'] = s.icount;
  return o;
}

function formatSpecificData(info: ImageInfo): Record<string, JsonValue | undefined> {
  const f = info.formatSpecific!;
  const d: Record<string, JsonValue | undefined> = {};
  d['compat'] = f.compat;
  if (f.dataFile !== undefined) d['data-file'] = f.dataFile;
  if (f.dataFileRaw !== undefined) d['data-file-raw'] = f.dataFileRaw;
  if (f.extendedL2 !== undefined) d['extended-l2'] = f.extendedL2;
  if (f.lazyRefcounts !== undefined) d['lazy-refcounts'] = f.lazyRefcounts;
  if (f.corrupt !== undefined) d['corrupt'] = f.corrupt;
  d['refcount-bits'] = f.refcountBits;
  if (f.bitmaps !== undefined) d['bitmaps'] = f.bitmaps.map((b) => ({ flags: b.flags, name: b.name, granularity: b.granularity }));
  if (f.compressionType !== undefined) d['compression-type'] = f.compressionType;
  return d;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** One line of the snapshot table (bdrv_snapshot_dump), or its header when `sn` is undefined. */
export function snapshotLine(sn?: SnapshotInfo): string {
  if (!sn) {
    return 'ID'.padEnd(10) + 'TAG'.padEnd(17) + 'VM SIZE'.padStart(8) + 'DATE'.padStart(20) + 'VM CLOCK'.padStart(13) + 'ICOUNT'.padStart(11);
  }
  const d = new Date(sn.dateSec * 1000);
  const date = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  const totalNs = sn.vmClockSec * 1e9 + sn.vmClockNsec;
  const secs = Math.floor(totalNs / 1e9);
  const clock = `${pad2(Math.floor(secs / 3600))}:${pad2(Math.floor(secs / 60) % 60)}:${pad2(secs % 60)}.${String(Math.floor(totalNs / 1e6) % 1000).padStart(3, '0')}`;
  const icount = sn.icount === undefined ? '' : String(sn.icount);
  return sn.id.padEnd(9) + ' ' + sn.name.padEnd(16) + ' ' + sizeToStr(sn.vmStateSize).padStart(8) + date.padStart(20) + clock.padStart(13) + icount.padStart(11);
}

function dumpValue(v: JsonValue, indent: number, lines: string[], prefix: string): void {
  const composite = v !== null && typeof v === 'object';
  if (!composite) {
    lines.push(`${prefix} ${String(v)}`);
    return;
  }
  lines.push(prefix);
  if (Array.isArray(v)) {
    v.forEach((item, i) => dumpValue(item, indent + 1, lines, `${' '.repeat(indent * 4)}[${i}]:`));
  } else {
    for (const k of qdictOrder(Object.keys(v).filter((k) => v[k] !== undefined))) {
      dumpValue(v[k]!, indent + 1, lines, `${' '.repeat(indent * 4)}${k.replace(/-/g, ' ')}:`);
    }
  }
}

/** bdrv_image_info_dump. */
export function imageInfoHuman(info: ImageInfo): string {
  const lines: string[] = [];
  lines.push(`image: ${info.filename}`);
  lines.push(`file format: ${info.format}`);
  lines.push(`virtual size: ${sizeToStr(info.virtualSize)} (${info.virtualSize} bytes)`);
  lines.push(`disk size: ${sizeToStr(info.actualSize)}`);
  if (info.encrypted) lines.push('encrypted: yes');
  if (info.clusterSize !== undefined) lines.push(`cluster_size: ${info.clusterSize}`);
  if (info.dirtyFlag) lines.push('cleanly shut down: no');
  if (info.backingFilename !== undefined) {
    let l = `backing file: ${info.backingFilename}`;
    if (info.fullBackingFilename === undefined) l += ' (cannot determine actual path)';
    else if (info.fullBackingFilename !== info.backingFilename) l += ` (actual path: ${info.fullBackingFilename})`;
    lines.push(l);
    if (info.backingFilenameFormat !== undefined) lines.push(`backing file format: ${info.backingFilenameFormat}`);
  }
  if (info.snapshots?.length) {
    lines.push('Snapshot list:');
    lines.push(snapshotLine());
    for (const s of info.snapshots) lines.push(snapshotLine(s));
  }
  if (info.formatSpecific) {
    lines.push('Format specific information:');
    const data = formatSpecificData(info);
    for (const k of qdictOrder(Object.keys(data).filter((k) => data[k] !== undefined))) {
      dumpValue(data[k]!, 2, lines, `    ${k.replace(/-/g, ' ')}:`);
    }
  }
  return lines.join('\n') + '\n';
}
