// Running a QMP job to its end, as libvirt runs QEMU's snapshot-save/-load/-delete (qapi/job.json):
// start it with a job-id, wait for JOB_STATUS_CHANGE "concluded", read its error (if any) from
// query-jobs, dismiss it. Works the same against `viv run` and qemu-system-riscv64.
import { randomBytes } from 'node:crypto';
import type { QmpClient, QmpEvent } from './qmp-client';

export class QmpJobError extends Error {}

export interface BlockDrive {
  device: string;
  nodeName: string;
  file: string;
  readOnly: boolean;
  format: string;
  snapshots: QmpSnapshot[];
}

export interface QmpSnapshot {
  id: string;
  name: string;
  dateSec: number;
  dateNsec: number;
  vmStateSize: number;
  vmClockNsec: number;
}

export async function runQmpJob(qmp: QmpClient, command: string, args: Record<string, unknown>, timeoutMs = 10 * 60_000): Promise<void> {
  const id = `viv-${command}-${randomBytes(4).toString('hex')}`;
  let onEvent!: (e: QmpEvent) => void;
  let onClose!: () => void;
  const concluded = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new QmpJobError(`${command} did not finish within ${timeoutMs / 1000} s`)), timeoutMs);
    onEvent = (e) => {
      const data = e.data as { id?: string; status?: string } | undefined;
      if (e.event === 'JOB_STATUS_CHANGE' && data?.id === id && data.status === 'concluded') {
        clearTimeout(timer);
        resolve();
      }
    };
    onClose = () => {
      clearTimeout(timer);
      reject(new QmpJobError(`the VM's monitor closed during ${command}`));
    };
    qmp.on('event', onEvent);
    qmp.once('close', onClose);
  });
  try {
    await qmp.execute(command, { 'job-id': id, ...args });
    await concluded;
  } finally {
    qmp.off('event', onEvent);
    qmp.off('close', onClose);
  }
  const jobs = (await qmp.execute('query-jobs')) as { id: string; error?: string }[];
  const error = jobs.find((j) => j.id === id)?.error;
  await qmp.execute('job-dismiss', { id }).catch(() => undefined);
  if (error) throw new QmpJobError(error);
}

/** query-block's drives, with what the timeline needs of each (qapi/block-core.json BlockInfo). */
export async function queryDrives(qmp: QmpClient): Promise<BlockDrive[]> {
  const blocks = (await qmp.execute('query-block')) as {
    device: string;
    inserted?: {
      'node-name': string;
      file: string;
      ro: boolean;
      drv: string;
      image?: { snapshots?: { id: string; name: string; 'date-sec': number; 'date-nsec': number; 'vm-state-size': number; 'vm-clock-sec': number; 'vm-clock-nsec': number }[] };
    };
  }[];
  return blocks
    .filter((b) => b.inserted)
    .map((b) => ({
      device: b.device,
      nodeName: b.inserted!['node-name'],
      file: b.inserted!.file,
      readOnly: b.inserted!.ro,
      format: b.inserted!.drv,
      snapshots: (b.inserted!.image?.snapshots ?? []).map((s) => ({
        id: s.id,
        name: s.name,
        dateSec: s['date-sec'],
        dateNsec: s['date-nsec'],
        vmStateSize: s['vm-state-size'],
        vmClockNsec: s['vm-clock-sec'] * 1e9 + s['vm-clock-nsec'],
      })),
    }));
}
