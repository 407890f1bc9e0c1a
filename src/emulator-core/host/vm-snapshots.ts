// savevm / loadvm / delvm (QEMU 7.2's migration/savevm.c save_snapshot, load_snapshot,
// bdrv_all_delete_snapshot): a snapshot is an internal QCOW2 snapshot of every writable drive,
// taken at one instant with the machine paused and its block requests drained, and the machine's
// vmstate stored in the snapshot of one of them (the first writable QCOW2 drive, as QEMU's
// bdrv_all_find_vmstate_bs picks it). The snapshot table commit of each drive is an fdatasync'd
// atomic transaction (block/qcow2/transaction.ts), so a snapshot reported saved is durable and
// a crash at any point leaves earlier snapshots loadable.
//
// Loading checks everything before anything changes: the snapshot on every drive, the vmstate
// decoded and matched against this machine (another RAM size, other devices: the mismatch is
// named); only then are the disks reverted and the machine restored. A failed load leaves the VM
// as it was and running (QEMU 7.2 leaves it paused; we need not).
import { Qcow2Driver, type BlockDriver } from '../block';
import type { Snapshot } from '../block/qcow2/snapshot-table';
import type { RunLoop } from '../machine/run-loop';
import type { VirtMachine } from '../machine/virt';
import { RamChunkCache } from '../snapshot/ram-cache';
import { RamPrecompressor } from '../snapshot/ram-precompress';
import { captureMachine, drainBlockRequests, encodeCapture, prepareRestore } from './machine-vmstate';

/** One drive as the monitor names it: QEMU's device name (virtio0, or the drive id) and node name. */
export interface SnapshotDrive {
  device: string;
  nodeName: string;
  driver: BlockDriver;
  readOnly: boolean;
}

/** An error with QEMU's message (the monitor prints it, QMP returns it as a GenericError). */
export class SnapshotError extends Error {
  override readonly name = 'SnapshotError';
}

/** Pause and resume around an operation, with the STOP/RESUME events QEMU sends for them. */
export interface RunControl {
  /** The VM ran when the operation started: it is paused (STOP) and resumed after (RESUME). */
  stopped(): void;
  resumed(): void;
}

/**
 * How often the background pre-compression looks at RAM again. A look costs what the guest wrote
 * since the last one (the dirty-page log says which chunks): nothing for an idle guest, so often
 * enough that a save finds at most a couple of seconds of writes to compress.
 */
const PRECOMPRESS_INTERVAL_MS = 2_000;

export interface SaveOptions {
  /** QMP: the node to store the vmstate in; default the first writable QCOW2 drive. */
  vmstate?: string;
  /** QMP: the nodes to snapshot; default every writable drive. */
  devices?: string[];
  /** HMP savevm replaces a snapshot of the same name; QMP snapshot-save refuses it. */
  overwrite: boolean;
}

export interface SnapshotTiming {
  /** The guest stood still for this long (ms). */
  pausedMs: number;
  totalMs: number;
  vmStateBytes: number;
}

export class VmSnapshots {
  private busy = false;
  /**
   * What RAM holds, chunk by chunk, as of the last save, load or background pass, kept true by
   * the CPU's dirty-page log: a save and a load look only at what was written since.
   */
  private readonly ramCache: RamChunkCache;
  /** The last operation's timing (for the bench and logs). */
  lastTiming: SnapshotTiming | undefined;

  constructor(
    private readonly m: VirtMachine,
    private readonly loop: RunLoop,
    readonly drives: readonly SnapshotDrive[],
    private readonly events: RunControl = { stopped: () => {}, resumed: () => {} },
  ) {
    this.ramCache = new RamChunkCache(m.cpu.ram, m.cpu.dirtyLog?.reader());
    // With a drive that can take a snapshot, RAM is compressed ahead in the background, so a
    // savevm only compresses what changed since (VIV_SNAPSHOT_PRECOMPRESS=0 turns it off).
    const canSnapshot = drives.some((d) => !d.readOnly && d.driver instanceof Qcow2Driver);
    if (canSnapshot && process.env.VIV_SNAPSHOT_PRECOMPRESS !== '0') {
      this.precompressor = new RamPrecompressor(this.ramCache, PRECOMPRESS_INTERVAL_MS, () => !loop.paused && !this.busy);
      this.precompressor.start();
    }
  }

  private readonly precompressor: RamPrecompressor | undefined;

  /** Stops the background work (the machine is going away). */
  close(): void {
    this.precompressor?.stop();
  }

  private qcow2(d: SnapshotDrive): Qcow2Driver | undefined {
    return d.driver instanceof Qcow2Driver ? d.driver : undefined;
  }

  /** A node by node name, or by device name (a convenience QEMU does not have). */
  private node(name: string): SnapshotDrive {
    const d = this.drives.find((x) => x.nodeName === name) ?? this.drives.find((x) => x.device === name);
    if (!d) throw new SnapshotError(`No block device node '${name}'`);
    return d;
  }

  /** The drives a snapshot covers: writable ones, each able to hold internal snapshots. */
  private targets(devices: string[] | undefined): Array<SnapshotDrive & { driver: Qcow2Driver }> {
    const chosen = devices ? devices.map((n) => this.node(n)) : this.drives.filter((d) => !d.readOnly);
    if (devices && chosen.length === 0) throw new SnapshotError('At least one device is required for snapshot');
    return chosen.map((d) => {
      const q = this.qcow2(d);
      if (!q) throw new SnapshotError(`Device '${d.device}' is writable but does not support snapshots`);
      return { ...d, driver: q };
    });
  }

  private vmstateDrive(targets: Array<SnapshotDrive & { driver: Qcow2Driver }>, vmstate: string | undefined) {
    if (vmstate !== undefined) {
      const d = this.node(vmstate);
      const q = this.qcow2(d);
      if (!q || d.readOnly) throw new SnapshotError(`Device '${d.device}' is writable but does not support snapshots`);
      return { ...d, driver: q };
    }
    const first = targets[0];
    if (!first) throw new SnapshotError('No block device can accept snapshots');
    return first;
  }

  /** A save or load is under way (the machine is held paused by it). */
  get inProgress(): boolean {
    return this.busy;
  }

  /**
   * A `cont` while a save or load holds the machine: it runs once the operation is done (resuming
   * in the middle of a save would let the guest write to a disk not yet snapshotted).
   */
  resumeAfterwards(): void {
    this.resumeRequested = true;
  }
  private resumeRequested = false;

  private async exclusive<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.busy) throw new SnapshotError(`Cannot ${what}: another snapshot operation is in progress`);
    this.busy = true;
    this.resumeRequested = false;
    const wasRunning = !this.loop.paused;
    if (wasRunning) {
      this.loop.pause();
      this.events.stopped();
    }
    try {
      return await fn();
    } finally {
      this.busy = false;
      if (wasRunning || this.resumeRequested) {
        this.loop.resume();
        // A deferred `cont` already announced RESUME.
        if (!this.resumeRequested) this.events.resumed();
      }
    }
  }

  /** savevm TAG (no tag: QEMU's vm-YYYYMMDDHHMMSS, local time). */
  async save(tag: string | undefined, opts: SaveOptions): Promise<Snapshot> {
    const targets = this.targets(opts.devices);
    const vmDrive = this.vmstateDrive(targets, opts.vmstate);
    if (!targets.some((t) => t.nodeName === vmDrive.nodeName)) targets.unshift(vmDrive);
    const now = new Date();
    const name = tag ?? `vm-${now.getFullYear()}${p2(now.getMonth() + 1)}${p2(now.getDate())}${p2(now.getHours())}${p2(now.getMinutes())}${p2(now.getSeconds())}`;
    if (!opts.overwrite && targets.some((t) => t.driver.listSnapshots().some((s) => s.name === name))) {
      throw new SnapshotError(`Snapshot '${name}' already exists in one or more devices`);
    }
    return this.exclusive('save the VM', async () => {
      const t0 = performance.now();
      const phase = phases('savevm');
      await drainBlockRequests(this.m);
      for (const t of targets) await t.driver.flush();
      phase('drain+flush');
      const capture = captureMachine(this.m, this.loop, this.ramCache);
      const ram = capture.ram;
      phase(`capture (RAM: ${ram.looked} of ${ram.chunks.length} chunks looked at, ${ram.chunks.filter((c) => c).length} to compress)`);
      const vmState = await encodeCapture(capture);
      phase('encode');
      if (opts.overwrite) {
        for (const t of targets) if (t.driver.listSnapshots().some((s) => s.name === name)) await t.driver.deleteSnapshot(name);
      }
      const dateSec = Math.floor(now.getTime() / 1000);
      const dateNsec = (now.getTime() % 1000) * 1e6;
      const spec = { name, dateSec, dateNsec, vmClockNsec: Number(capture.vmClockNs), icount: capture.icount };
      let saved: Snapshot | undefined;
      const done: Array<SnapshotDrive & { driver: Qcow2Driver }> = [];
      // The vmstate drive first: the other drives' snapshots are only made once it holds the state.
      const order = [vmDrive, ...targets.filter((x) => x.nodeName !== vmDrive.nodeName)];
      try {
        for (const t of order) {
          const sn = await t.driver.createSnapshot(t === vmDrive ? { ...spec, vmState } : spec);
          done.push(t);
          if (t === vmDrive) saved = sn;
        }
      } catch (e) {
        // Not all drives have it: take it off those that do, so no partial snapshot is left.
        for (const t of done) await t.driver.deleteSnapshot(name).catch(() => undefined);
        throw new SnapshotError(`Error while creating snapshot on '${order[done.length]?.device ?? vmDrive.device}': ${(e as Error).message}`);
      }
      phase('snapshot');
      const total = performance.now() - t0;
      this.lastTiming = { pausedMs: total, totalMs: total, vmStateBytes: vmState.length };
      return saved!;
    });
  }

  /** loadvm TAG: the disks and the machine back to the snapshot, or nothing changes. */
  async load(tag: string, opts: { vmstate?: string; devices?: string[] } = {}): Promise<void> {
    const targets = this.targets(opts.devices);
    const vmDrive = this.vmstateDrive(targets, opts.vmstate);
    const sn = vmDrive.driver.listSnapshots().find((s) => s.id === tag) ?? vmDrive.driver.listSnapshots().find((s) => s.name === tag);
    if (!sn) throw new SnapshotError(`Snapshot '${tag}' does not exist in one or more devices`);
    for (const t of targets) {
      if (!t.driver.listSnapshots().some((s) => s.name === sn.name)) {
        throw new SnapshotError(`Snapshot '${sn.name}' does not exist in one or more devices`);
      }
    }
    if (sn.vmStateSize === 0) throw new SnapshotError('This is a disk-only snapshot. Revert to it  offline using qemu-img');
    await this.exclusive('load the VM', async () => {
      const t0 = performance.now();
      const phase = phases('loadvm');
      await drainBlockRequests(this.m);
      const blob = await vmDrive.driver.readSnapshotVmState(sn.id);
      phase('read');
      let restore;
      try {
        restore = await prepareRestore(this.m, this.loop, blob, this.ramCache);
        phase(`decode (RAM: ${restore.ramChunks.inPlace} of ${restore.ramChunks.stored} chunks in place)`);
      } catch (e) {
        throw new SnapshotError(`Error while loading VM state of snapshot '${sn.name}': ${(e as Error).message}`);
      }
      // A dry run first: every part takes its state (and is put back) before the disks change.
      // The real one comes after the disks, with RAM, in one synchronous step: nothing (a network
      // frame) can then reach the devices between their state and RAM.
      try {
        restore.apply().undo();
      } catch (e) {
        throw new SnapshotError(`Error while loading VM state of snapshot '${sn.name}': ${(e as Error).message}`);
      }
      try {
        for (const t of targets) await t.driver.applySnapshot(t.driver.listSnapshots().find((s) => s.name === sn.name)!.id);
      } catch (e) {
        throw new SnapshotError(`Could not revert the disks to snapshot '${sn.name}': ${(e as Error).message}`);
      }
      phase('revert disks');
      try {
        restore.apply().finish();
      } catch (e) {
        throw new SnapshotError(`Error while loading VM state of snapshot '${sn.name}': ${(e as Error).message}`);
      }
      phase('apply');
      const total = performance.now() - t0;
      this.lastTiming = { pausedMs: total, totalMs: total, vmStateBytes: blob.length };
    });
  }

  /** delvm TAG: off every drive that has it (by ID or name). */
  async delete(tag: string, opts: { devices?: string[] } = {}): Promise<void> {
    const targets = opts.devices ? this.targets(opts.devices) : this.drives.filter((d) => !d.readOnly).flatMap((d) => {
      const q = this.qcow2(d);
      return q ? [{ ...d, driver: q }] : [];
    });
    if (this.busy) throw new SnapshotError('Cannot delete the snapshot: another snapshot operation is in progress');
    this.busy = true;
    try {
      for (const t of targets) {
        const sn = t.driver.listSnapshots().find((s) => s.id === tag) ?? t.driver.listSnapshots().find((s) => s.name === tag);
        if (!sn) continue;
        try {
          await t.driver.deleteSnapshot(sn.id);
        } catch (e) {
          throw new SnapshotError(`Could not delete snapshot '${tag}' on '${t.device}': ${(e as Error).message}`);
        }
      }
    } finally {
      this.busy = false;
    }
  }

  /**
   * `info snapshots`: the snapshots with a vmstate present on every writable snapshot-capable
   * drive (loadable), and per drive the others.
   */
  list(): { loadable: Snapshot[]; partial: Array<{ device: string; snapshots: Snapshot[] }> } {
    const drives = this.drives.filter((d) => !d.readOnly && this.qcow2(d));
    const vm = drives[0] && this.qcow2(drives[0]);
    if (!vm) return { loadable: [], partial: [] };
    const onAll = (s: Snapshot) => drives.every((d) => this.qcow2(d)!.listSnapshots().some((o) => o.name === s.name));
    const loadable = vm.listSnapshots().filter((s) => s.vmStateSize > 0 && onAll(s));
    const partial = drives
      .map((d) => ({ device: d.device, snapshots: this.qcow2(d)!.listSnapshots().filter((s) => !loadable.some((l) => l.name === s.name)) }))
      .filter((p) => p.snapshots.length > 0);
    return { loadable, partial };
  }
}

const p2 = (n: number) => String(n).padStart(2, '0');

/** VIV_SNAPSHOT_STATS=1: each phase's time on stderr (what the bench looks at). */
function phases(what: string): (name: string) => void {
  if (!process.env.VIV_SNAPSHOT_STATS) return () => {};
  let t = performance.now();
  return (name) => {
    const now = performance.now();
    process.stderr.write(`viv run: ${what}: ${name} ${(now - t).toFixed(1)} ms\n`);
    t = now;
  };
}
