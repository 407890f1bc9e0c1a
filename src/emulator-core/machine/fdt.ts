// A flattened device tree writer (Devicetree Specification v0.4, chapter 5: the DTB format,
// version 17): a tree of nodes and properties in, a blob out. The virt board's tree is built in
// virt-fdt.ts; this file knows nothing of boards.

export interface FdtNode {
  name: string;
  props: FdtProp[];
  children: FdtNode[];
}

export interface FdtProp {
  name: string;
  value: Uint8Array;
}

const FDT_MAGIC = 0xd00dfeed;
const FDT_BEGIN_NODE = 1;
const FDT_END_NODE = 2;
const FDT_PROP = 3;
const FDT_END = 9;
const HEADER_SIZE = 40;

const utf8 = new TextEncoder();

/** Property value builders (cells are big-endian 32-bit). */
export const Prop = {
  empty: (name: string): FdtProp => ({ name, value: new Uint8Array(0) }),
  u32: (name: string, ...cells: number[]): FdtProp => {
    const v = new Uint8Array(4 * cells.length);
    const dv = new DataView(v.buffer);
    cells.forEach((c, i) => {
      if (!Number.isInteger(c) || c < 0 || c > 0xffff_ffff) throw new RangeError(`fdt: ${name}: cell ${c} is not a u32`);
      dv.setUint32(4 * i, c);
    });
    return { name, value: v };
  },
  /** 64-bit values as two cells each (high, low). */
  u64: (name: string, ...values: number[]): FdtProp => Prop.u32(name, ...values.flatMap((x) => [Math.floor(x / 0x1_0000_0000), x % 0x1_0000_0000])),
  str: (name: string, s: string): FdtProp => Prop.strs(name, s),
  /** A string list: each NUL-terminated. */
  strs: (name: string, ...list: string[]): FdtProp => {
    const parts = list.map((s) => utf8.encode(s + '\0'));
    const v = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      v.set(p, at);
      at += p.length;
    }
    return { name, value: v };
  },
  bytes: (name: string, value: Uint8Array): FdtProp => ({ name, value }),
};

export function node(name: string, props: FdtProp[] = [], children: FdtNode[] = []): FdtNode {
  return { name, props, children };
}

class Writer {
  private buf = new Uint8Array(4096);
  length = 0;
  private ensure(n: number) {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.length));
    this.buf = b;
  }
  u32(v: number) {
    this.ensure(4);
    new DataView(this.buf.buffer).setUint32(this.length, v);
    this.length += 4;
  }
  bytes(b: Uint8Array) {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  align4() {
    const pad = (4 - (this.length & 3)) & 3;
    this.ensure(pad);
    this.buf.fill(0, this.length, this.length + pad);
    this.length += pad;
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

export interface FdtOptions {
  bootCpuidPhys?: number;
  /** Memory reservation block entries (address, size). */
  reservations?: [number, number][];
}

/** Serializes a tree to a DTB blob. */
export function encodeFdt(root: FdtNode, opts: FdtOptions = {}): Uint8Array {
  const strings = new Writer();
  const stringOffsets = new Map<string, number>();
  const stringOffset = (s: string) => {
    let off = stringOffsets.get(s);
    if (off === undefined) {
      off = strings.length;
      strings.bytes(utf8.encode(s + '\0'));
      stringOffsets.set(s, off);
    }
    return off;
  };

  const struct = new Writer();
  const emit = (n: FdtNode, isRoot: boolean) => {
    struct.u32(FDT_BEGIN_NODE);
    struct.bytes(utf8.encode((isRoot ? '' : n.name) + '\0'));
    struct.align4();
    const seen = new Set<string>();
    for (const p of n.props) {
      if (seen.has(p.name)) throw new Error(`fdt: property '${p.name}' twice in node '${n.name}'`);
      seen.add(p.name);
      struct.u32(FDT_PROP);
      struct.u32(p.value.length);
      struct.u32(stringOffset(p.name));
      struct.bytes(p.value);
      struct.align4();
    }
    const names = new Set<string>();
    for (const c of n.children) {
      if (names.has(c.name)) throw new Error(`fdt: node '${c.name}' twice under '${n.name}'`);
      names.add(c.name);
      emit(c, false);
    }
    struct.u32(FDT_END_NODE);
  };
  emit(root, true);
  struct.u32(FDT_END);

  const rsv = new Writer();
  for (const [addr, size] of opts.reservations ?? []) {
    for (const v of [addr, size]) {
      rsv.u32(Math.floor(v / 0x1_0000_0000));
      rsv.u32(v % 0x1_0000_0000);
    }
  }
  for (let i = 0; i < 4; i++) rsv.u32(0);

  const offRsv = HEADER_SIZE; // 8-byte aligned
  const offStruct = offRsv + rsv.length;
  const offStrings = offStruct + struct.length;
  const total = offStrings + strings.length;
  const out = new Writer();
  for (const v of [FDT_MAGIC, total, offStruct, offStrings, offRsv, 17, 16, opts.bootCpuidPhys ?? 0, strings.length, struct.length]) out.u32(v);
  out.bytes(rsv.result());
  out.bytes(struct.result());
  out.bytes(strings.result());
  return out.result();
}

/** Parses a DTB back into a tree (for tests and for inspecting what a guest was given). */
export function decodeFdt(blob: Uint8Array): FdtNode {
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  if (blob.length < HEADER_SIZE || dv.getUint32(0) !== FDT_MAGIC) throw new Error('fdt: bad magic');
  const total = dv.getUint32(4);
  const offStruct = dv.getUint32(8);
  const offStrings = dv.getUint32(12);
  if (total > blob.length || offStruct >= total || offStrings > total) throw new Error('fdt: header offsets outside the blob');
  const dec = new TextDecoder();
  const cstr = (at: number) => {
    let end = at;
    while (end < total && blob[end] !== 0) end++;
    if (end >= total) throw new Error('fdt: unterminated string');
    return [dec.decode(blob.subarray(at, end)), end + 1] as const;
  };
  let p = offStruct;
  const word = () => {
    if (p + 4 > total) throw new Error('fdt: truncated structure block');
    const v = dv.getUint32(p);
    p += 4;
    return v;
  };
  const stack: FdtNode[] = [];
  let root: FdtNode | undefined;
  for (;;) {
    const token = word();
    if (token === FDT_BEGIN_NODE) {
      const [name, next] = cstr(p);
      p = (next + 3) & ~3;
      const n = node(name);
      if (stack.length) stack[stack.length - 1]!.children.push(n);
      else root = n;
      stack.push(n);
    } else if (token === FDT_PROP) {
      const len = word();
      const nameOff = word();
      if (p + len > total || !stack.length) throw new Error('fdt: bad property');
      const [name] = cstr(offStrings + nameOff);
      stack[stack.length - 1]!.props.push({ name, value: blob.slice(p, p + len) });
      p = (p + len + 3) & ~3;
    } else if (token === FDT_END_NODE) {
      if (!stack.pop()) throw new Error('fdt: unbalanced END_NODE');
    } else if (token === FDT_END) {
      if (!root || stack.length) throw new Error('fdt: END inside a node');
      return root;
    } else if (token !== 4 /* NOP */) {
      throw new Error(`fdt: unknown token ${token}`);
    }
  }
}

/** Looks a node up by path ("/soc/serial@10000000"). */
export function findNode(root: FdtNode, path: string): FdtNode | undefined {
  let n: FdtNode | undefined = root;
  for (const part of path.split('/').filter(Boolean)) n = n?.children.find((c) => c.name === part);
  return n;
}

export function propU32s(n: FdtNode | undefined, name: string): number[] | undefined {
  const p = n?.props.find((x) => x.name === name);
  if (!p) return undefined;
  const dv = new DataView(p.value.buffer, p.value.byteOffset, p.value.byteLength);
  return Array.from({ length: p.value.length >>> 2 }, (_, i) => dv.getUint32(4 * i));
}

export function propStrings(n: FdtNode | undefined, name: string): string[] | undefined {
  const p = n?.props.find((x) => x.name === name);
  if (!p) return undefined;
  return new TextDecoder().decode(p.value).split('\0').slice(0, -1);
}
