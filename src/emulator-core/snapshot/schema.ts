// Declared, versioned state: the vmstate description of a device or of the CPU, in the spirit of
// QEMU's VMStateDescription (a name, a version, named typed fields, a hook to load older
// versions). Saving checks the live state against its declaration; loading checks the snapshot
// against it and names the first field that does not fit, so a foreign or corrupt snapshot is a
// clear error and never a half-loaded machine.
import { StateFormatError, type StateValue } from './codec';

export type FieldType =
  | 'u8'
  | 'u16'
  | 'u32'
  | 'i32'
  | 'u64' // bigint
  | 'i64' // bigint
  | 'f64'
  | 'bool'
  | 'string'
  | { bytes: number | 'any' }
  | { array: FieldType; length?: number; maxLength?: number }
  | { struct: Fields }
  | { optional: FieldType };

export type Fields = Record<string, FieldType>;

export type StateRecord = Record<string, StateValue>;

export interface StateDescription {
  /** Section name, unique in a machine ("uart16550", "plic", "riscv-hart"). */
  name: string;
  /** Current version: what save writes. */
  version: number;
  /** Oldest version load accepts (default: version). */
  minVersion?: number;
  fields: Fields;
  /** Upgrades a record saved at version `from` (minVersion <= from < version) to the current shape. */
  migrate?: (from: number, record: StateRecord) => StateRecord;
}

export interface StateSection {
  name: string;
  version: number;
  record: StateRecord;
}

/** Anything with declared state: every device, the CPU, the board. */
export interface Stateful {
  readonly stateDescription: StateDescription;
  saveState(): StateRecord;
  loadState(record: StateRecord): void;
}

export function saveSection(desc: StateDescription, record: StateRecord): StateSection {
  checkFields(desc.fields, record, desc.name);
  return { name: desc.name, version: desc.version, record };
}

export function loadSection(desc: StateDescription, section: StateSection): StateRecord {
  if (section.name !== desc.name) {
    throw new StateFormatError(`state section '${section.name}' given to '${desc.name}'`);
  }
  const min = desc.minVersion ?? desc.version;
  if (section.version > desc.version || section.version < min) {
    throw new StateFormatError(
      `${desc.name}: snapshot has state version ${section.version}, this build loads ${min}..${desc.version}`,
    );
  }
  let record = section.record;
  if (section.version !== desc.version) {
    if (!desc.migrate) throw new StateFormatError(`${desc.name}: no migration from version ${section.version}`);
    record = desc.migrate(section.version, record);
  }
  checkFields(desc.fields, record, desc.name);
  return record;
}

function checkFields(fields: Fields, record: StateRecord, path: string): void {
  if (typeof record !== 'object' || record === null || Array.isArray(record) || record instanceof Uint8Array) {
    throw new StateFormatError(`${path}: expected a record`);
  }
  for (const key of Object.keys(record)) {
    if (!(key in fields)) throw new StateFormatError(`${path}.${key}: not a declared field`);
  }
  for (const [key, type] of Object.entries(fields)) {
    checkValue(type, record[key], `${path}.${key}`);
  }
}

function checkValue(type: FieldType, v: StateValue | undefined, path: string): void {
  const fail = (what: string): never => {
    throw new StateFormatError(`${path}: expected ${what}, found ${describe(v)}`);
  };
  const int = (lo: number, hi: number) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) fail(`an integer in ${lo}..${hi}`);
  };
  if (typeof type === 'string') {
    switch (type) {
      case 'u8': return int(0, 0xff);
      case 'u16': return int(0, 0xffff);
      case 'u32': return int(0, 0xffff_ffff);
      case 'i32': return int(-0x8000_0000, 0x7fff_ffff);
      case 'u64':
        if (typeof v !== 'bigint' || v < 0n || v >= 1n << 64n) fail('a u64 (bigint)');
        return;
      case 'i64':
        if (typeof v !== 'bigint' || v < -(1n << 63n) || v >= 1n << 63n) fail('an i64 (bigint)');
        return;
      case 'f64':
        if (typeof v !== 'number') fail('a number');
        return;
      case 'bool':
        if (typeof v !== 'boolean') fail('a boolean');
        return;
      case 'string':
        if (typeof v !== 'string') fail('a string');
        return;
    }
  }
  if ('bytes' in type) {
    if (!(v instanceof Uint8Array)) return fail('bytes');
    if (type.bytes !== 'any' && v.length !== type.bytes) fail(`${type.bytes} bytes`);
    return;
  }
  if ('optional' in type) {
    if (v === null || v === undefined) return;
    return checkValue(type.optional, v, path);
  }
  if ('array' in type) {
    if (!Array.isArray(v)) return fail('an array');
    if (type.length !== undefined && v.length !== type.length) fail(`an array of ${type.length}`);
    if (type.maxLength !== undefined && v.length > type.maxLength) fail(`an array of at most ${type.maxLength}`);
    v.forEach((item, i) => checkValue(type.array, item, `${path}[${i}]`));
    return;
  }
  if (v === undefined || v === null) return fail('a record');
  checkFields(type.struct, v as StateRecord, path);
}

function describe(v: StateValue | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'object') return 'a record';
  return JSON.stringify(v);
}
