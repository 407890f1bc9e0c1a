// The core host's snapshot monitor: the machine's drives named as QEMU names them (device
// virtio0, virtio1, ... or the drive id; node names from -drive node-name=, else #blockNNN),
// savevm/loadvm/delvm (vm-snapshots.ts), and what HMP (-monitor stdio, human-monitor-command)
// and QMP (snapshot-* jobs, query-block) need of it. Events (STOP, RESUME) go to whoever
// listens: QMP sets `emit` when it starts.
import { Qcow2Driver } from '../block';
import type { RunLoop } from '../machine/run-loop';
import type { VirtMachine } from '../machine/virt';
import type { HmpBackend, HmpSnapshot } from '../monitor/hmp';
import type { BlockView, SnapshotControl } from '../monitor/qmp/snapshot-commands';
import { openDrivesOf, type OpenDrive } from './drives';
import { VmSnapshots, type SnapshotDrive } from './vm-snapshots';

/** QEMU numbers automatic node names from a global counter; any stable unique name will do. */
const AUTO_NODE_BASE = 100;

export class VmMonitor {
  readonly snapshots: VmSnapshots;
  readonly hmp: HmpBackend;
  readonly control: SnapshotControl;
  /** Where STOP/RESUME/RESET events go (the QMP server, once it runs). */
  emit: (event: string, data?: Record<string, string | boolean>) => void = () => {};
  private readonly opened: OpenDrive[];
  private readonly named: SnapshotDrive[];

  constructor(
    readonly machine: VirtMachine,
    readonly loop: RunLoop,
    private readonly quit: () => void,
  ) {
    // In command-line order (slots are filled from the last one down): the vmstate goes to the
    // first writable drive, and virtio0 is the first if=virtio one, as in QEMU.
    this.opened = openDrivesOf([...machine.virtio].reverse().map((s) => s.device));
    let virtioIndex = 0;
    this.named = this.opened.map((d, i) => ({
      device: d.spec.id ?? `virtio${virtioIndex++}`,
      nodeName: d.spec.nodeName ?? `#block${AUTO_NODE_BASE + i}`,
      driver: d.driver,
      readOnly: d.driver.readOnly,
    }));
    this.snapshots = new VmSnapshots(machine, loop, this.named, { stopped: () => this.emit('STOP'), resumed: () => this.emit('RESUME') });
    const snaps = this.snapshots;
    const toHmp = (s: { id: string; name: string; vmStateSize: number; dateSec: number; vmClockNsec: number; icount?: number }): HmpSnapshot => ({
      id: s.id, name: s.name, vmStateSize: s.vmStateSize, dateSec: s.dateSec, vmClockNsec: s.vmClockNsec, icount: s.icount,
    });
    this.hmp = {
      savevm: async (tag) => void (await snaps.save(tag, { overwrite: true })),
      loadvm: (tag) => snaps.load(tag),
      delvm: (tag) => snaps.delete(tag),
      snapshots: () => {
        const l = snaps.list();
        return {
          loadable: l.loadable.map(toHmp),
          partial: l.partial.map((p) => ({ device: p.device, snapshots: p.snapshots.map(toHmp) })),
          anyDrive: this.named.some((d) => !d.readOnly && d.driver instanceof Qcow2Driver),
        };
      },
      status: () => (loop.paused ? 'paused' : 'running'),
      stop: () => {
        if (loop.paused) return;
        loop.pause();
        this.emit('STOP');
      },
      cont: () => {
        if (!loop.paused) return;
        if (snaps.inProgress) snaps.resumeAfterwards();
        else loop.resume();
        this.emit('RESUME');
      },
      reset: () => {
        machine.pendingReset = true;
        loop.wake();
        this.emit('RESET', { guest: false, reason: 'host-qmp-system-reset' });
      },
      quit: () => this.quit(),
    };
    this.control = {
      save: async (tag, vmstate, devices) => void (await snaps.save(tag, { vmstate, devices, overwrite: false })),
      load: (tag, vmstate, devices) => snaps.load(tag, { vmstate, devices }),
      delete: (tag, devices) => snaps.delete(tag, { devices }),
    };
  }

  blockViews(): BlockView[] {
    return this.opened.map((d, i) => ({
      device: this.named[i]!.device,
      nodeName: this.named[i]!.nodeName,
      driver: d.driver,
      readOnly: d.driver.readOnly,
      cache: {
        writeback: d.spec.cache !== 'writethrough' && d.spec.cache !== 'directsync',
        direct: d.spec.cache === 'none' || d.spec.cache === 'directsync',
        noFlush: d.spec.cache === 'unsafe',
      },
      qdev: `/machine/peripheral-anon/device[${i}]/virtio-backend`,
    }));
  }
}
