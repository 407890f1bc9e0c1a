// The vmstate of a whole virt machine: every hart, the board (clock, WFI, built-in firmware,
// mask ROM), every device on the bus and every virtio transport and device behind it, and RAM,
// in the container of snapshot/vmstate.ts. Taken between slices (the machine is paused, its
// block requests drained); restored all or nothing: everything is decoded and checked against
// this machine before anything changes, and an error while applying rolls the machine back to
// the state it had, so a bad snapshot leaves the running VM untouched.
import { hasVmstateAccess, HART_STATE_FIELDS, HART_STATE_NAME, HART_STATE_VERSION, loadHart, saveHart, type HartRecord, type HartVmstateAccess } from '../cpu/riscv/hart-vmstate';
import type { RiscvCpu } from '../cpu/riscv/cpu';
import { checkState, declarationOf, type MmioDevice, type SavedState } from '../devices/device';
import { VirtioBlk } from '../devices/virtio/blk';
import type { RunLoop } from '../machine/run-loop';
import type { VirtMachine } from '../machine/virt';
import type { SbiHartSnapshot } from '../machine/firmware/sbi';
import { StateFormatError } from '../snapshot/codec';
import { captureRam, encodeRam, prepareRam, type RamCapture } from '../snapshot/ram';
import type { RamChunkCache } from '../snapshot/ram-cache';
import { loadSection, saveSection, type StateDescription, type StateRecord, type StateSection } from '../snapshot/schema';
import { checkFingerprint, decodeVmState, encodeVmStateHead, type MachineFingerprint } from '../snapshot/vmstate';

const HART: StateDescription = { name: HART_STATE_NAME, version: HART_STATE_VERSION, fields: HART_STATE_FIELDS };

const BOARD: StateDescription = {
  name: 'riscv-virt-board',
  version: 1,
  fields: {
    clock: { struct: { mtime: 'f64', instructions: 'f64', skippedTicks: 'f64' } },
    wfi: { array: 'bool', maxLength: 8 },
    /** The built-in firmware's per-hart HSM state and timers; null under -bios FILE/none. */
    sbi: {
      optional: {
        array: {
          struct: {
            state: 'u8',
            timer: { optional: 'u64' },
            suspension: { optional: { struct: { retentive: 'bool', resumeAddr: 'f64', opaque: 'u64' } } },
          },
        },
        maxLength: 8,
      },
    },
    rom: { bytes: 'any' },
  },
};

/** One stateful part of the machine, in save and restore order. */
interface Part {
  desc(): StateDescription | { check(section: StateSection): StateRecord };
  save(): StateSection;
  load(record: StateRecord): void;
}

function cpuOf(m: VirtMachine): RiscvCpu & HartVmstateAccess {
  if (!hasVmstateAccess(m.cpu)) throw new StateFormatError('this CPU cannot save its state (no vmstate access)');
  return m.cpu;
}

function devicePart(d: { saveState(): SavedState; loadState(s: SavedState): void }, what: string): Part {
  return {
    desc: () => {
      const decl = declarationOf(d.saveState());
      if (!decl) throw new StateFormatError(`${what}: no declared state`);
      return { check: (s) => checkState(decl, { name: s.name, version: s.version, fields: s.record as SavedState['fields'] }) as StateRecord };
    },
    save: () => {
      const s = d.saveState();
      return { name: s.name, version: s.version, record: s.fields as StateRecord };
    },
    load: (record) => {
      const cur = d.saveState();
      d.loadState({ name: cur.name, version: cur.version, fields: record as SavedState['fields'] });
    },
  };
}

/**
 * The machine's parts in restore order: the board first (its clock drives the timer devices),
 * then the devices, the PLIC after every interrupt source, each virtio device after its
 * transport (which rebuilds the queues and the running driver's context), the harts last (their
 * interrupt line levels are set to the saved ones whatever the devices drove meanwhile).
 */
function parts(m: VirtMachine, loop: RunLoop): Part[] {
  const cpu = cpuOf(m);
  const out: Part[] = [];
  out.push({
    desc: () => BOARD,
    save: () =>
      saveSection(BOARD, {
        clock: { ...m.clock.saveState() },
        wfi: loop.wfiState(),
        sbi: m.sbi ? m.sbi.saveState().map((h) => ({ state: h.state, timer: h.timer ?? null, suspension: h.suspension ? { ...h.suspension } : null })) : null,
        rom: m.cpu.rom.slice(),
      }),
    load: (r) => {
      const clock = r.clock as { mtime: number; instructions: number; skippedTicks: number };
      const sbi = r.sbi as Array<{ state: number; timer: bigint | null; suspension: SbiHartSnapshot['suspension'] | null }> | null;
      if (!!sbi !== !!m.sbi) {
        throw new StateFormatError(`snapshot was taken ${sbi ? 'with' : 'without'} the built-in firmware, this machine runs ${m.sbi ? 'it' : `-bios ${m.config.bios.kind}`}`);
      }
      const rom = r.rom as Uint8Array;
      if (rom.length !== m.cpu.rom.length) throw new StateFormatError(`snapshot ROM is ${rom.length} bytes, this machine's ${m.cpu.rom.length}`);
      m.clock.loadState(clock);
      loop.setWfiState(r.wfi as boolean[]);
      m.sbi?.loadState(sbi!.map((h) => ({ state: h.state as SbiHartSnapshot['state'], timer: h.timer ?? undefined, suspension: h.suspension ?? undefined })));
      m.cpu.rom.set(rom);
      m.romWritten();
    },
  });
  const devices: MmioDevice[] = m.bus.devices();
  const ordered = [...devices.filter((d) => d !== m.plic), m.plic];
  for (const d of ordered) {
    out.push(devicePart(d, d.name));
    const slot = m.virtio.find((v) => v === d);
    if (slot?.device) out.push(devicePart(slot.device, `${slot.name}: virtio device`));
  }
  for (let h = 0; h < m.config.harts; h++) {
    out.push({
      desc: () => HART,
      save: () => saveSection(HART, saveHart(cpu, h) as unknown as StateRecord),
      load: (r) => loadHart(cpu, h, r as unknown as HartRecord),
    });
  }
  return out;
}

export function machineFingerprint(m: VirtMachine, loop: RunLoop): MachineFingerprint {
  return { machine: 'riscv-virt', harts: m.config.harts, ramSize: m.config.ramSize, sections: parts(m, loop).map((p) => p.save().name) };
}

/** What a save copies out of the paused machine; encoding it may run after the guest goes on. */
export interface MachineCapture {
  fingerprint: MachineFingerprint;
  vmClockNs: bigint;
  /** The guest's icount (instructions retired) under -icount. */
  icount: number | undefined;
  sections: StateSection[];
  ram: RamCapture;
}

/**
 * Copies the machine's state. Call it between slices with the machine paused and every block
 * request finished (drainBlockRequests): a request in flight is neither in RAM nor in the disk.
 * `cache`: the machine's chunk cache; RAM it knows unchanged is not looked at, RAM whose content
 * it has compressed is not copied.
 */
export function captureMachine(m: VirtMachine, loop: RunLoop, cache?: RamChunkCache): MachineCapture {
  const all = parts(m, loop);
  const sections = all.map((p) => p.save());
  const clock = m.clock.saveState();
  return {
    fingerprint: { machine: 'riscv-virt', harts: m.config.harts, ramSize: m.config.ramSize, sections: sections.map((s) => s.name) },
    vmClockNs: BigInt(Math.round(clock.mtime)) * 100n,
    icount: m.clock.deterministic ? clock.instructions : undefined,
    sections,
    ram: captureRam(m.cpu.ram, cache),
  };
}

/** Encodes a capture; the chunk cache given to captureMachine, if any, learns what is compressed. */
export async function encodeCapture(c: MachineCapture): Promise<Uint8Array> {
  const head = encodeVmStateHead({ fingerprint: c.fingerprint, vmClockNs: c.vmClockNs, sections: c.sections });
  // The RAM image is laid out behind the head in one buffer: tens of MiB not copied once more.
  const out = await encodeRam(c.ram, head.length);
  out.set(head, 0);
  return out;
}

/** Waits until no virtio-blk request is in flight (QEMU's bdrv_drain_all before a snapshot). */
export async function drainBlockRequests(m: VirtMachine): Promise<void> {
  await Promise.all(m.virtio.map((slot) => (slot.device instanceof VirtioBlk ? slot.device.drain() : undefined)));
}

/**
 * Restores the machine from a vmstate blob, all or nothing. Throws StateFormatError naming what
 * does not fit (another configuration, a foreign or truncated blob, a field out of range); the
 * machine is then as it was.
 */
export async function restoreMachine(m: VirtMachine, loop: RunLoop, blob: Uint8Array): Promise<{ vmClockNs: bigint }> {
  const r = await prepareRestore(m, loop, blob);
  r.apply().finish();
  return { vmClockNs: r.vmClockNs };
}

/** A vmstate decoded and checked against this machine, ready to apply (nothing changed yet). */
export interface PreparedRestore {
  vmClockNs: bigint;
  /** RAM chunks in the snapshot, and those RAM already holds (not inflated, not written). */
  ramChunks: { stored: number; inPlace: number };
  /**
   * Applies the CPU, board and device state (synchronously); throws StateFormatError with the
   * machine rolled back. Then `finish` writes RAM, or `undo` puts the old state back (the caller
   * could not revert the disks).
   */
  apply(): { finish(): void; undo(): void };
}

export async function prepareRestore(m: VirtMachine, loop: RunLoop, blob: Uint8Array, cache?: RamChunkCache): Promise<PreparedRestore> {
  const state = decodeVmState(blob);
  const all = parts(m, loop);
  const here: MachineFingerprint = { machine: 'riscv-virt', harts: m.config.harts, ramSize: m.config.ramSize, sections: all.map((p) => p.save().name) };
  checkFingerprint(state.fingerprint, here);
  if (state.sections.length !== all.length) throw new StateFormatError(`vmstate has ${state.sections.length} sections, this machine ${all.length}`);
  // Check (and migrate) every section, and decode RAM, before anything changes.
  const records = state.sections.map((s, i) => {
    const d = all[i]!.desc();
    return 'check' in d ? d.check(s) : loadSection(d, s);
  });
  const ram = await prepareRam(state.ram, m.cpu.ram.length, cache);
  return {
    vmClockNs: state.vmClockNs,
    ramChunks: { stored: ram.stored, inPlace: ram.inPlace },
    apply: () => {
      const backup = all.map((p) => p.save().record);
      const undo = () => all.forEach((p, i) => p.load(backup[i]!));
      try {
        all.forEach((p, i) => p.load(records[i]!));
      } catch (e) {
        undo();
        throw e instanceof StateFormatError ? e : new StateFormatError((e as Error).message);
      }
      // RAM's writes are reported as any other writer's (the CPU's dirty log, code caches).
      return { finish: () => ram.apply(m.cpu.ram, (offset, length) => m.mem.noteWritten(m.mem.base + offset, length)), undo };
    },
  };
}
