// QMP's snapshot and block commands as QEMU 7.2 has them (qapi/migration.json, qapi/block.json,
// qapi/misc.json): snapshot-save, snapshot-load, snapshot-delete as jobs (jobs.ts),
// human-monitor-command (the HMP commands of ../hmp.ts), and query-block. The host supplies the
// snapshot operations and the drives; this file knows nothing of machines.
import type { BlockDriver, ImageInfo } from '../../block';
import { runHmp, type HmpBackend } from '../hmp';
import { JobRegistry } from './jobs';
import type { JsonValue } from './json-reader';
import type { QmpServer } from './server';

export interface SnapshotControl {
  save(tag: string, vmstate: string, devices: string[]): Promise<void>;
  load(tag: string, vmstate: string, devices: string[]): Promise<void>;
  delete(tag: string, devices: string[]): Promise<void>;
}

/** A drive as query-block shows it. */
export interface BlockView {
  device: string;
  nodeName: string;
  driver: BlockDriver;
  readOnly: boolean;
  cache: { writeback: boolean; direct: boolean; noFlush: boolean };
  /** The QOM path of the virtio-blk device it backs. */
  qdev: string;
}

export function registerSnapshotCommands(qmp: QmpServer, snapshots: SnapshotControl, hmp: HmpBackend, drives: () => readonly BlockView[]): JobRegistry {
  const jobs = new JobRegistry(qmp);
  const jobArgs = { 'job-id': { type: 'str' }, tag: { type: 'str' }, vmstate: { type: 'str' }, devices: { type: 'array', of: 'str' } } as const;
  qmp.register('snapshot-save', {
    args: jobArgs,
    run: (a) => {
      jobs.start(a['job-id'] as string, 'snapshot-save', () => snapshots.save(a.tag as string, a.vmstate as string, a.devices as string[]));
      return {};
    },
  });
  qmp.register('snapshot-load', {
    args: jobArgs,
    run: (a) => {
      jobs.start(a['job-id'] as string, 'snapshot-load', () => snapshots.load(a.tag as string, a.vmstate as string, a.devices as string[]));
      return {};
    },
  });
  qmp.register('snapshot-delete', {
    args: { 'job-id': { type: 'str' }, tag: { type: 'str' }, devices: { type: 'array', of: 'str' } },
    run: (a) => {
      jobs.start(a['job-id'] as string, 'snapshot-delete', () => snapshots.delete(a.tag as string, a.devices as string[]));
      return {};
    },
  });
  qmp.register('human-monitor-command', {
    args: { 'command-line': { type: 'str' }, 'cpu-index': { type: 'int', optional: true } },
    run: (a) => runHmp(hmp, a['command-line'] as string),
  });
  qmp.register('query-block', { run: async () => Promise.all(drives().map(blockInfo)) });
  return jobs;
}

/** BlockInfo (qapi/block-core.json) in QEMU 7.2's member order. */
async function blockInfo(d: BlockView): Promise<JsonValue> {
  const info = await d.driver.getInfo();
  let depth = 0;
  for (let b = d.driver.backing; b; b = b.backing) depth++;
  return {
    'io-status': 'ok',
    device: d.device,
    locked: false,
    removable: false,
    inserted: {
      iops_rd: 0,
      detect_zeroes: 'off',
      image: imageJson(info),
      iops_wr: 0,
      ro: d.readOnly,
      'node-name': d.nodeName,
      backing_file_depth: depth,
      drv: info.format,
      iops: 0,
      bps_wr: 0,
      write_threshold: 0,
      ...(info.backingFilename !== undefined ? { backing_file: info.backingFilename } : {}),
      encrypted: false,
      bps: 0,
      bps_rd: 0,
      cache: { 'no-flush': d.cache.noFlush, direct: d.cache.direct, writeback: d.cache.writeback },
      file: info.filename,
    },
    qdev: d.qdev,
    type: 'unknown',
  };
}

function imageJson(info: ImageInfo): JsonValue {
  const o: Record<string, JsonValue> = {};
  if (info.snapshots?.length) {
    o.snapshots = info.snapshots.map((s) => ({
      ...(s.icount !== undefined ? { icount: s.icount } : {}),
      'vm-clock-nsec': s.vmClockNsec,
      name: s.name,
      'date-sec': s.dateSec,
      'date-nsec': s.dateNsec,
      'vm-clock-sec': s.vmClockSec,
      id: s.id,
      'vm-state-size': s.vmStateSize,
    }));
  }
  o['virtual-size'] = info.virtualSize;
  o.filename = info.filename;
  if (info.clusterSize !== undefined) o['cluster-size'] = info.clusterSize;
  o.format = info.format;
  o['actual-size'] = info.actualSize;
  if (info.backingFilename !== undefined) o['backing-filename'] = info.backingFilename;
  if (info.fullBackingFilename !== undefined) o['full-backing-filename'] = info.fullBackingFilename;
  const f = info.formatSpecific;
  if (f) {
    const data: Record<string, JsonValue> = { compat: f.compat };
    if (f.compressionType !== undefined) data['compression-type'] = f.compressionType;
    if (f.lazyRefcounts !== undefined) data['lazy-refcounts'] = f.lazyRefcounts;
    data['refcount-bits'] = f.refcountBits;
    if (f.corrupt !== undefined) data.corrupt = f.corrupt;
    if (f.extendedL2 !== undefined) data['extended-l2'] = f.extendedL2;
    o['format-specific'] = { type: 'qcow2', data };
  }
  o['dirty-flag'] = info.dirtyFlag;
  return o;
}
