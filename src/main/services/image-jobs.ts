// Image operations run in the background: each is a job with a label, a progress fraction and a
// cancel switch (an AbortSignal the work checks between chunks). Every change is published, at
// most every 100 ms while it progresses, so the Images view shows a live bar. A job holds the
// images it touches: no second operation, and no VM start, may use them until it ends.
import { randomBytes } from 'node:crypto';
import type { CheckReport, ImageJob, ImageOp } from '../../shared/images';
import { UserError } from './errors';

export interface JobContext {
  signal: AbortSignal;
  /** fraction 0..1; a new label when the phase changes. */
  progress(fraction: number, label?: string): void;
}

export interface JobOutcome {
  report?: CheckReport;
  note?: string;
}

/** Thrown by work that noticed the signal: the job ends as cancelled, not failed. */
export class JobCancelled extends Error {
  constructor(readonly note?: string) {
    super('cancelled');
  }
}

interface Running {
  job: ImageJob;
  abort: AbortController;
  touches: string[];
  lastSent: number;
}

const progressIntervalMs = 100;
/** Finished jobs kept for a view that opens late. */
const keepFinished = 20;

export class JobRunner {
  private readonly running = new Map<string, Running>();
  private finished: ImageJob[] = [];

  constructor(private readonly publish: (job: ImageJob) => void) {}

  /** Which images are held, and by what (for the rules' "Wait: ..." refusal). */
  busy(): Map<string, string> {
    const out = new Map<string, string>();
    for (const r of this.running.values()) for (const p of r.touches) out.set(p, r.job.label);
    return out;
  }

  list(): ImageJob[] {
    return [...[...this.running.values()].map((r) => r.job), ...this.finished];
  }

  /** Refuses when any of `touches` is held by another job. */
  assertFree(touches: string[]): void {
    const busy = this.busy();
    const held = touches.find((p) => busy.has(p));
    if (held) throw new UserError(`Wait: ${busy.get(held)}.`, 'image-busy');
  }

  start(op: ImageOp, image: string, label: string, touches: string[], work: (ctx: JobContext) => Promise<JobOutcome | void>, onEnd?: (job: ImageJob) => void | Promise<void>): ImageJob {
    this.assertFree(touches);
    const job: ImageJob = { id: `job-${randomBytes(6).toString('hex')}`, op, image, label, state: 'running', startedAt: new Date().toISOString() };
    const run: Running = { job, abort: new AbortController(), touches, lastSent: 0 };
    this.running.set(job.id, run);
    this.publish({ ...job });
    const ctx: JobContext = {
      signal: run.abort.signal,
      progress: (fraction, newLabel) => {
        job.fraction = Math.max(0, Math.min(1, fraction));
        const now = Date.now();
        if (newLabel && newLabel !== job.label) {
          job.label = newLabel;
          run.lastSent = 0;
        }
        if (now - run.lastSent >= progressIntervalMs) {
          run.lastSent = now;
          this.publish({ ...job });
        }
      },
    };
    void (async () => {
      try {
        const outcome = await work(ctx);
        job.state = 'done';
        job.fraction = 1;
        if (outcome?.report) job.report = outcome.report;
        if (outcome?.note) job.note = outcome.note;
      } catch (err) {
        if (err instanceof JobCancelled || run.abort.signal.aborted) {
          job.state = 'cancelled';
          const note = err instanceof JobCancelled ? err.note : undefined;
          if (note) job.note = note;
        } else {
          job.state = 'failed';
          job.error = err instanceof Error ? err.message : String(err);
        }
      }
      this.running.delete(job.id);
      this.finished = [{ ...job }, ...this.finished].slice(0, keepFinished);
      try {
        await onEnd?.(job);
      } finally {
        this.publish({ ...job });
      }
    })();
    return { ...job };
  }

  cancel(id: string): void {
    const run = this.running.get(id);
    if (!run) throw new UserError('That operation is not running any more', 'no-such-job');
    run.abort.abort();
  }

  /** Waits for every running job (app quit, tests). */
  async drain(): Promise<void> {
    while (this.running.size) await new Promise((r) => setTimeout(r, 20));
  }
}

/** Throws JobCancelled when the job was cancelled; call between chunks of work. */
export function checkCancelled(signal: AbortSignal, note?: string): void {
  if (signal.aborted) throw new JobCancelled(note);
}
