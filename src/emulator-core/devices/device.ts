// The shape every device has (../shared/STYLE.md "Devices: one shape, declared state"): MMIO
// read/write with sizes 1/2/4, reset, and a named, versioned state that the device declares as a
// plain schema. Snapshots store `SavedState`s; a device that is not in the format does not exist
// (requireDeclaredState refuses it where devices are registered), and each round-trips its state
// in a test. The checking is snapshot/schema.ts's, the one validation engine of every vmstate.
import { StateFormatError } from '../snapshot/codec';
import { loadSection, saveSection, type FieldType, type StateDescription, type StateRecord } from '../snapshot/schema';

/** MMIO access sizes that reach a device: the CPU splits 8-byte accesses into two 4-byte ones. */
export type AccessSize = 1 | 2 | 4;

/** A level-triggered interrupt output (a wire to the PLIC or a hart's mip bit). */
export type IrqOutput = (level: boolean) => void;

/** Where guest time comes from: mtime ticks at 10 MHz (wall clock, or the instruction count under -icount). */
export interface GuestClock {
  /** Guest time in 10 MHz ticks (QEMU virt's timebase-frequency), an integer below 2^53. */
  mtime(): number;
}

export interface MmioDevice {
  /** A stable name: the key of its state in a snapshot. */
  readonly name: string;
  /** Bytes of guest physical address space the device answers (its window on the bus). */
  readonly size: number;
  /** Reads `size` bytes at `offset` (< this.size); an unsigned value. */
  read(offset: number, size: AccessSize): number;
  write(offset: number, size: AccessSize, value: number): void;
  /** Power-on state; outputs (interrupt lines) are driven to match. */
  reset(): void;
  saveState(): SavedState;
  /** Throws StateError when the state does not match the device's declaration. */
  loadState(state: SavedState): void;
}

// ---- declared state -------------------------------------------------------------------------

/** Field kinds: what a snapshot writer must know to store a value portably. */
export type FieldKind = 'u8' | 'u16' | 'u32' | 'u64' | 'bool' | 'bytes' | 'u32[]' | 'u64[]' | 'string';

export type FieldValue = number | bigint | boolean | Uint8Array | number[] | bigint[] | string;

export interface StateDeclaration {
  /** The device type's state name (as QEMU's VMStateDescription.name). */
  readonly name: string;
  /** What saveState writes. */
  readonly version: number;
  /** Oldest version loadState accepts (default: `version`); older ones go through `migrate`. */
  readonly minVersion?: number;
  /** Field name -> kind, and for arrays/bytes their fixed length (undefined: any length). */
  readonly fields: Readonly<Record<string, { kind: FieldKind; length?: number }>>;
  /**
   * Upgrades fields saved at version `from` (minVersion <= from < version) to the current shape
   * (QEMU's VMStateDescription.load_state_old / post_load for old versions).
   */
  readonly migrate?: (from: number, fields: Record<string, FieldValue>) => Record<string, FieldValue>;
}

export interface SavedState {
  name: string;
  version: number;
  fields: Record<string, FieldValue>;
}

/** A state that does not fit its declaration (a snapshot format error, hence the base class). */
export class StateError extends StateFormatError {
  override readonly name = 'StateError';
}

function fieldType(kind: FieldKind, length: number | undefined): FieldType {
  switch (kind) {
    case 'bytes':
      return { bytes: length ?? 'any' };
    case 'u32[]':
      return { array: 'u32', length };
    case 'u64[]':
      return { array: 'u64', length };
    default:
      return kind;
  }
}

/** The schema.ts description of a declaration (built once per declaration object). */
const descriptions = new WeakMap<StateDeclaration, StateDescription>();
export function describeState(decl: StateDeclaration): StateDescription {
  let d = descriptions.get(decl);
  if (!d) {
    const fields: Record<string, FieldType> = {};
    for (const [key, { kind, length }] of Object.entries(decl.fields)) fields[key] = fieldType(kind, length);
    const migrate = decl.migrate;
    d = {
      name: decl.name,
      version: decl.version,
      minVersion: decl.minVersion,
      fields,
      migrate: migrate && ((from, record) => migrate(from, record as Record<string, FieldValue>) as StateRecord),
    };
    descriptions.set(decl, d);
  }
  return d;
}

function asStateError<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof StateFormatError && !(e instanceof StateError)) throw new StateError(e.message);
    throw e;
  }
}

/** States built by saveState, with the declaration they were checked against. */
const declaredBy = new WeakMap<SavedState, StateDeclaration>();

/** Builds a SavedState after checking it against the declaration (a device bug shows up at save). */
export function saveState(decl: StateDeclaration, fields: Record<string, FieldValue>): SavedState {
  const section = asStateError(() => saveSection(describeState(decl), fields as StateRecord));
  const state: SavedState = { name: section.name, version: section.version, fields };
  declaredBy.set(state, decl);
  return state;
}

/**
 * Checks a state before a device loads it: right name, a version this build loads (older ones
 * migrated), every field and no others. Returns the fields in the current version's shape.
 */
export function checkState(decl: StateDeclaration, state: SavedState): Record<string, FieldValue> {
  const record = asStateError(() =>
    loadSection(describeState(decl), { name: state.name, version: state.version, record: state.fields as StateRecord }),
  );
  return record as Record<string, FieldValue>;
}

/** The declaration a state was built with by saveState (a snapshot loader validates against it). */
export function declarationOf(state: SavedState): StateDeclaration | undefined {
  return declaredBy.get(state);
}

/**
 * Where devices are registered (the bus, the virtio slots): a device whose state is not declared
 * cannot be part of a machine, since a snapshot could not hold it (DESIGN.md "A device that is
 * not in the snapshot format does not exist").
 */
export function requireDeclaredState(what: string, device: { saveState(): SavedState }): void {
  let state: SavedState | undefined;
  try {
    state = typeof device.saveState === 'function' ? device.saveState() : undefined;
  } catch (e) {
    throw new StateError(`${what}: its state cannot be saved: ${(e as Error).message}`);
  }
  if (!state || !declaredBy.has(state)) {
    throw new StateError(`${what}: no declared state (saveState must build its state with saveState(declaration, fields))`);
  }
}
