// The vmstate of a whole machine: what a snapshot holds besides the disks. A header names the
// machine it was taken from (so loading into another configuration is refused with the
// mismatch named, before anything is touched), then every section (CPU harts, devices, board)
// in the self-describing codec, then guest RAM (ram.ts).
//
// layout: "VIVSTATE" | u32 format version | u32 length of the state part | state part | RAM part
import { StateFormatError, decodeState, encodeState, type StateValue } from './codec';
import type { StateRecord, StateSection } from './schema';

const MAGIC = 'VIVSTATE';
const FORMAT_VERSION = 1;
const PREFIX = 16;

/** What must match between the saving and the loading machine. */
export interface MachineFingerprint {
  machine: string; // "riscv-virt"
  harts: number;
  ramSize: number;
  /** Section names in machine order, e.g. ["riscv-hart", "riscv-hart", "clint", "plic", ...]. */
  sections: string[];
}

export interface VmState {
  fingerprint: MachineFingerprint;
  /** Guest time at the save (QEMU's "vm clock"), in nanoseconds. */
  vmClockNs: bigint;
  sections: StateSection[];
  /** The encoded RAM (encodeRam). */
  ram: Uint8Array;
}

export function encodeVmState(state: VmState): Uint8Array {
  const head = encodeVmStateHead(state);
  const out = new Uint8Array(head.length + state.ram.length);
  out.set(head, 0);
  out.set(state.ram, head.length);
  return out;
}

/**
 * Everything of a vmstate before its RAM image: the RAM image follows it directly, so a saver can
 * lay the image out behind it in one buffer (encodeRam's headroom) instead of copying it.
 */
export function encodeVmStateHead(state: Omit<VmState, 'ram'>): Uint8Array {
  const body = encodeState({
    fingerprint: { ...state.fingerprint, sections: state.fingerprint.sections },
    vmClockNs: state.vmClockNs,
    sections: state.sections.map((s) => ({ name: s.name, version: s.version, record: s.record })),
  });
  const out = new Uint8Array(PREFIX + body.length);
  out.set(new TextEncoder().encode(MAGIC), 0);
  const view = new DataView(out.buffer);
  view.setUint32(8, FORMAT_VERSION, true);
  view.setUint32(12, body.length, true);
  out.set(body, PREFIX);
  return out;
}

export function decodeVmState(bytes: Uint8Array): VmState {
  if (bytes.length < PREFIX) throw new StateFormatError('vmstate truncated (no header)');
  if (new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
    throw new StateFormatError('not a Vivarium vmstate (bad magic)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== FORMAT_VERSION) throw new StateFormatError(`vmstate format ${version} is not supported`);
  const bodyLen = view.getUint32(12, true);
  if (PREFIX + bodyLen > bytes.length) throw new StateFormatError('vmstate truncated (state part)');
  const body = decodeState(bytes.subarray(PREFIX, PREFIX + bodyLen));
  const top = record(body, 'vmstate');
  const fp = record(top.fingerprint, 'vmstate.fingerprint');
  const sectionNames = fp.sections;
  if (!Array.isArray(sectionNames) || !sectionNames.every((s) => typeof s === 'string')) {
    throw new StateFormatError('vmstate.fingerprint.sections: expected a list of names');
  }
  const fingerprint: MachineFingerprint = {
    machine: str(fp.machine, 'vmstate.fingerprint.machine'),
    harts: num(fp.harts, 'vmstate.fingerprint.harts'),
    ramSize: num(fp.ramSize, 'vmstate.fingerprint.ramSize'),
    sections: sectionNames as string[],
  };
  if (typeof top.vmClockNs !== 'bigint') throw new StateFormatError('vmstate.vmClockNs: expected a bigint');
  if (!Array.isArray(top.sections)) throw new StateFormatError('vmstate.sections: expected a list');
  const sections = top.sections.map((s, i) => {
    const r = record(s, `vmstate.sections[${i}]`);
    return {
      name: str(r.name, `vmstate.sections[${i}].name`),
      version: num(r.version, `vmstate.sections[${i}].version`),
      record: record(r.record, `vmstate.sections[${i}].record`),
    };
  });
  return { fingerprint, vmClockNs: top.vmClockNs, sections, ram: bytes.subarray(PREFIX + bodyLen) };
}

/** Throws a StateFormatError naming every difference that makes `saved` unloadable here. */
export function checkFingerprint(saved: MachineFingerprint, here: MachineFingerprint): void {
  const problems: string[] = [];
  if (saved.machine !== here.machine) problems.push(`machine ${saved.machine} (this is ${here.machine})`);
  if (saved.harts !== here.harts) problems.push(`${saved.harts} CPUs (this machine has ${here.harts})`);
  if (saved.ramSize !== here.ramSize) {
    problems.push(`${saved.ramSize / 2 ** 20} MiB of RAM (this machine has ${here.ramSize / 2 ** 20} MiB)`);
  }
  const a = saved.sections.join(', ');
  const b = here.sections.join(', ');
  if (a !== b) {
    const missing = saved.sections.filter((s) => !here.sections.includes(s));
    const extra = here.sections.filter((s) => !saved.sections.includes(s));
    const detail = [
      missing.length ? `devices not in this machine: ${[...new Set(missing)].join(', ')}` : '',
      extra.length ? `devices not in the snapshot: ${[...new Set(extra)].join(', ')}` : '',
    ].filter(Boolean);
    problems.push(detail.length ? detail.join('; ') : `devices in another order (${a})`);
  }
  if (problems.length) throw new StateFormatError(`snapshot was taken on another machine configuration: ${problems.join('; ')}`);
}

function record(v: StateValue | undefined, path: string): StateRecord {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) {
    throw new StateFormatError(`${path}: expected a record`);
  }
  return v;
}
function str(v: StateValue | undefined, path: string): string {
  if (typeof v !== 'string') throw new StateFormatError(`${path}: expected a string`);
  return v;
}
function num(v: StateValue | undefined, path: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new StateFormatError(`${path}: expected a count`);
  return v;
}
