// QMP jobs (qapi/job.json) as QEMU 7.2 runs snapshot-save/-load/-delete: created with manual
// dismiss, so a job goes created -> running -> waiting -> pending -> concluded on success, or
// created -> running -> aborting -> concluded on failure, each change a JOB_STATUS_CHANGE event;
// query-jobs lists it (with "error" once failed) until job-dismiss, which sends status "null".
// Shapes and messages as observed on qemu-system-riscv64 7.2's socket.
import type { JsonValue } from './json-reader';
import type { QmpServer } from './server';
import { genericError } from './wire';

export type JobStatus = 'created' | 'running' | 'waiting' | 'pending' | 'aborting' | 'concluded';

interface Job {
  id: string;
  type: string;
  status: JobStatus;
  error?: string;
}

export class JobRegistry {
  private readonly jobs = new Map<string, Job>();

  constructor(private readonly qmp: QmpServer) {
    qmp.register('query-jobs', {
      run: () =>
        [...this.jobs.values()].map((j) => {
          const done = j.status === 'concluded' ? 1 : 0;
          const o: Record<string, JsonValue> = { 'current-progress': done, status: j.status, 'total-progress': 1, type: j.type, id: j.id };
          if (j.error !== undefined) o.error = j.error;
          return o;
        }),
    });
    qmp.register('job-dismiss', {
      args: { id: { type: 'str' } },
      run: (args) => {
        const job = this.jobs.get(args.id as string);
        if (!job) throw genericError('Job not found');
        if (job.status !== 'concluded') throw genericError(`Job '${job.id}' in state '${job.status}' cannot accept command verb 'dismiss'`);
        this.jobs.delete(job.id);
        this.event(job.id, 'null');
        return {};
      },
    });
  }

  private event(id: string, status: JobStatus | 'null'): void {
    this.qmp.emit('JOB_STATUS_CHANGE', { status, id });
  }

  private set(job: Job, status: JobStatus): void {
    job.status = status;
    this.event(job.id, status);
  }

  /**
   * Starts a job: the command returns once it is running; `work` goes on after the reply, and
   * its result (or its error's message) decides how the job ends.
   */
  start(id: string, type: string, work: () => Promise<void>): void {
    if (!/^[A-Za-z][A-Za-z0-9_.-]*$/.test(id)) throw genericError(`Invalid job ID '${id}'`);
    if (this.jobs.has(id)) throw genericError(`Job ID '${id}' already in use`);
    const job: Job = { id, type, status: 'created' };
    this.jobs.set(id, job);
    this.event(id, 'created');
    this.set(job, 'running');
    setImmediate(() => {
      work().then(
        () => {
          this.set(job, 'waiting');
          this.set(job, 'pending');
          this.set(job, 'concluded');
        },
        (e: unknown) => {
          job.error = e instanceof Error ? e.message : String(e);
          this.set(job, 'aborting');
          this.set(job, 'concluded');
        },
      );
    });
  }

  /** Resolves when no job is created/running (tests, and quit waiting for a save). */
  get active(): number {
    return [...this.jobs.values()].filter((j) => j.status !== 'concluded').length;
  }
}
