// The shape every device has (../shared/STYLE.md "Devices: one shape, declared state"): MMIO
// read/write with sizes 1/2/4, reset, and a named, versioned state that the device declares as a
// plain schema. Snapshots (a later issue) store `SavedState`s; a device that is not in the format
// does not exist, so every device declares its state from the start and round-trips it in a test.

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
  readonly version: number;
  /** Field name -> kind, and for arrays/bytes their fixed length (undefined: any length). */
  readonly fields: Readonly<Record<string, { kind: FieldKind; length?: number }>>;
}

export interface SavedState {
  name: string;
  version: number;
  fields: Record<string, FieldValue>;
}

export class StateError extends Error {
  override readonly name = 'StateError';
}

const MAX: Record<'u8' | 'u16' | 'u32', number> = { u8: 0xff, u16: 0xffff, u32: 0xffff_ffff };

function checkField(decl: StateDeclaration, key: string, kind: FieldKind, length: number | undefined, v: unknown): void {
  const where = `${decl.name}.${key}`;
  const isUint = (x: unknown, max: number) => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= max;
  const isU64 = (x: unknown) => typeof x === 'bigint' && x >= 0n && x < 1n << 64n;
  let ok: boolean;
  switch (kind) {
    case 'u8':
    case 'u16':
    case 'u32':
      ok = isUint(v, MAX[kind]);
      break;
    case 'u64':
      ok = isU64(v);
      break;
    case 'bool':
      ok = typeof v === 'boolean';
      break;
    case 'string':
      ok = typeof v === 'string';
      break;
    case 'bytes':
      ok = v instanceof Uint8Array && (length === undefined || v.length === length);
      break;
    case 'u32[]':
      ok = Array.isArray(v) && (length === undefined || v.length === length) && v.every((x) => isUint(x, MAX.u32));
      break;
    case 'u64[]':
      ok = Array.isArray(v) && (length === undefined || v.length === length) && v.every(isU64);
      break;
  }
  if (!ok) throw new StateError(`${where}: not a valid ${kind}${length === undefined ? '' : ` of length ${length}`}`);
}

/** Builds a SavedState after checking it against the declaration (a device bug shows up at save). */
export function saveState(decl: StateDeclaration, fields: Record<string, FieldValue>): SavedState {
  checkState(decl, { name: decl.name, version: decl.version, fields });
  return { name: decl.name, version: decl.version, fields };
}

/** Checks a state before a device loads it: right name and version, every field and no others. */
export function checkState(decl: StateDeclaration, state: SavedState): Record<string, FieldValue> {
  if (state.name !== decl.name) throw new StateError(`state '${state.name}' given to device state '${decl.name}'`);
  if (state.version !== decl.version) {
    throw new StateError(`${decl.name}: state version ${state.version} is not supported (expected ${decl.version})`);
  }
  for (const [key, { kind, length }] of Object.entries(decl.fields)) {
    if (!(key in state.fields)) throw new StateError(`${decl.name}.${key}: missing`);
    checkField(decl, key, kind, length, state.fields[key]);
  }
  for (const key of Object.keys(state.fields)) {
    if (!(key in decl.fields)) throw new StateError(`${decl.name}.${key}: not a field of this device`);
  }
  return state.fields;
}
