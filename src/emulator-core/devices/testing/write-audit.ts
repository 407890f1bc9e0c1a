// Test helper: catches writes to guest RAM that a GuestMemory did not report. It keeps a copy of
// RAM and the ranges reported since; `unreported()` lists the bytes that changed outside them
// (a device writing through a view, or a write path that forgot to report).
import type { GuestMemory } from '../guest-memory';

export class WriteAudit {
  private before: Uint8Array;
  private reported: Uint8Array;
  /** Each report, in order, with what RAM held in its range when it came. */
  readonly reports: Array<{ offset: number; length: number; bytes: Uint8Array }> = [];
  private readonly stop: () => void;

  constructor(private readonly mem: GuestMemory) {
    this.before = mem.ram.slice();
    this.reported = new Uint8Array(mem.ram.length);
    this.stop = mem.onWrite((offset, length) => {
      this.reported.fill(1, offset, offset + length);
      this.reports.push({ offset, length, bytes: mem.ram.slice(offset, offset + length) });
    });
  }

  /** RAM offsets of bytes that changed since the audit started (or the last reset) without a report. */
  unreported(): number[] {
    const out: number[] = [];
    const ram = this.mem.ram;
    for (let i = 0; i < ram.length; i++) if (ram[i] !== this.before[i] && !this.reported[i]) out.push(i);
    return out;
  }

  /** Starts over from RAM as it is now. */
  reset(): void {
    this.before = this.mem.ram.slice();
    this.reported.fill(0);
    this.reports.length = 0;
  }

  close(): void {
    this.stop();
  }
}
