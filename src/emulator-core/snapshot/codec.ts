// A compact, self-describing binary encoding for state values (the vmstate payload of one device
// or CPU). Self-describing so that a loader can say *which* field is wrong in a foreign or
// truncated snapshot, rather than misreading bytes positionally (v86's weak spot).
//
// value := tag payload
//   0 null | 1 false | 2 true | 3 f64 (8 bytes LE) | 4 bigint (i64/u64 as 8 bytes LE + sign byte)
//   5 string (u32 length + UTF-8) | 6 bytes (u32 length + raw) | 7 array (u32 count + values)
//   8 object (u32 count + (string key, value) pairs)

export type StateValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | StateValue[]
  | { [key: string]: StateValue };

const enum Tag {
  Null = 0,
  False = 1,
  True = 2,
  F64 = 3,
  BigInt = 4,
  String = 5,
  Bytes = 6,
  Array = 7,
  Object = 8,
}

export class StateFormatError extends Error {}

/** Nesting deeper than this is a malformed snapshot, not a state anyone declares. */
const MAX_DEPTH = 64;

export function encodeState(value: StateValue): Uint8Array {
  const w = new Writer();
  w.value(value, 0);
  return w.finish();
}

export function decodeState(bytes: Uint8Array): StateValue {
  const r = new Reader(bytes);
  const v = r.value(0);
  if (r.pos !== bytes.length) throw new StateFormatError(`${bytes.length - r.pos} trailing bytes after state`);
  return v;
}

class Writer {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  private pos = 0;
  private readonly text = new TextEncoder();

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  private u8(v: number): void {
    this.reserve(1);
    this.buf[this.pos++] = v;
  }
  private u32(v: number): void {
    this.reserve(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }
  private raw(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  value(v: StateValue, depth: number): void {
    if (depth > MAX_DEPTH) throw new StateFormatError('state nests too deeply');
    if (v === null) return this.u8(Tag.Null);
    switch (typeof v) {
      case 'boolean':
        return this.u8(v ? Tag.True : Tag.False);
      case 'number':
        this.u8(Tag.F64);
        this.reserve(8);
        this.view.setFloat64(this.pos, v, true);
        this.pos += 8;
        return;
      case 'bigint': {
        if (v < -(1n << 63n) || v >= 1n << 64n) throw new StateFormatError(`bigint ${v} does not fit 64 bits`);
        this.u8(Tag.BigInt);
        this.reserve(9);
        this.view.setBigUint64(this.pos, BigInt.asUintN(64, v), true);
        this.buf[this.pos + 8] = v < 0n ? 1 : 0;
        this.pos += 9;
        return;
      }
      case 'string': {
        const b = this.text.encode(v);
        this.u8(Tag.String);
        this.u32(b.length);
        return this.raw(b);
      }
    }
    if (v instanceof Uint8Array) {
      this.u8(Tag.Bytes);
      this.u32(v.length);
      return this.raw(v);
    }
    if (Array.isArray(v)) {
      this.u8(Tag.Array);
      this.u32(v.length);
      for (const item of v) this.value(item, depth + 1);
      return;
    }
    if (typeof v === 'object') {
      const entries = Object.entries(v);
      this.u8(Tag.Object);
      this.u32(entries.length);
      for (const [k, item] of entries) {
        const kb = this.text.encode(k);
        this.u32(kb.length);
        this.raw(kb);
        this.value(item, depth + 1);
      }
      return;
    }
    throw new StateFormatError(`cannot encode a ${typeof v} in a state`);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

class Reader {
  pos = 0;
  private readonly view: DataView;
  private readonly text = new TextDecoder('utf-8', { fatal: true });

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): void {
    if (n < 0 || this.pos + n > this.buf.length) {
      throw new StateFormatError(`state truncated at byte ${this.pos} (needs ${n} more)`);
    }
  }
  private u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  private bytes(n: number): Uint8Array {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  private string(): string {
    const n = this.u32();
    try {
      return this.text.decode(this.bytes(n));
    } catch {
      throw new StateFormatError(`invalid UTF-8 in state at byte ${this.pos - n}`);
    }
  }

  value(depth: number): StateValue {
    if (depth > MAX_DEPTH) throw new StateFormatError('state nests too deeply');
    this.need(1);
    const tag = this.buf[this.pos++]!;
    switch (tag) {
      case Tag.Null: return null;
      case Tag.False: return false;
      case Tag.True: return true;
      case Tag.F64: {
        this.need(8);
        const v = this.view.getFloat64(this.pos, true);
        this.pos += 8;
        return v;
      }
      case Tag.BigInt: {
        this.need(9);
        const u = this.view.getBigUint64(this.pos, true);
        const negative = this.buf[this.pos + 8] === 1;
        this.pos += 9;
        return negative ? BigInt.asIntN(64, u) : u;
      }
      case Tag.String: return this.string();
      case Tag.Bytes: return this.bytes(this.u32()).slice();
      case Tag.Array: {
        const n = this.u32();
        // Every element takes at least one byte: a count larger than what is left is garbage.
        this.need(n);
        const out: StateValue[] = [];
        for (let i = 0; i < n; i++) out.push(this.value(depth + 1));
        return out;
      }
      case Tag.Object: {
        const n = this.u32();
        this.need(n);
        const out: { [key: string]: StateValue } = Object.create(null);
        for (let i = 0; i < n; i++) {
          const k = this.string();
          out[k] = this.value(depth + 1);
        }
        return out;
      }
      default:
        throw new StateFormatError(`unknown value tag ${tag} at byte ${this.pos - 1}`);
    }
  }
}
