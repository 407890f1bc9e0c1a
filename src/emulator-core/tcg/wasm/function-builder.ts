// One WebAssembly function body, built instruction by instruction: the bytes V8 compiles and,
// when asked, the same code as text (the golden tests compare it; `-d tcg-wat` prints it).
// Only what the backend emits is here; each method is one instruction of the WebAssembly 2.0
// core spec (plus return_call_indirect from the tail-call proposal, on in Node 20's V8).
import { ByteWriter } from './bytes';

export const I32 = 0x7f;
export const I64 = 0x7e;
export const F64 = 0x7c;
/** The block type of a block/loop/if that yields nothing. */
export const VOID = 0x40;
export type ValType = typeof I32 | typeof I64 | typeof F64;

const typeName: Record<number, string> = { [I32]: 'i32', [I64]: 'i64', [F64]: 'f64' };

/** A local's index (wasm locals are numbered: parameters first). */
export type Local = number & { readonly __local: true };

interface MemArg {
  /** log2 of the alignment hint */
  align: number;
  offset: number;
}

export class FunctionBuilder {
  readonly code = new ByteWriter();
  private readonly localTypes: ValType[] = [];
  private readonly lines: string[] | undefined;
  /** Branch hints: code offset of an `if` and 1 (likely taken) or 0 (unlikely), in order. */
  private readonly hints: [number, 0 | 1][] = [];
  private nesting = 1;

  /**
   * @param params the parameter types (locals 0..n-1)
   * @param text keep a text rendering of the body (tests, debugging)
   */
  constructor(
    private readonly params: readonly ValType[],
    text = false,
  ) {
    this.lines = text ? [] : undefined;
  }

  /** How many blocks, loops and ifs are open (1 = the function body): br N from here targets depth - N. */
  get depth(): number {
    return this.nesting;
  }

  /** A new local of type `t`. */
  local(t: ValType): Local {
    this.localTypes.push(t);
    return (this.params.length + this.localTypes.length - 1) as Local;
  }
  get localCount(): number {
    return this.localTypes.length;
  }

  private op(byte: number, text: string): this {
    this.code.byte(byte);
    this.lines?.push('  '.repeat(this.nesting) + text);
    return this;
  }

  // ---- control ----
  block(t: number = VOID): this {
    this.op(0x02, t === VOID ? 'block' : `block (result ${typeName[t]})`).code.byte(t);
    this.nesting++;
    return this;
  }
  loop(t: number = VOID): this {
    this.op(0x03, t === VOID ? 'loop' : `loop (result ${typeName[t]})`).code.byte(t);
    this.nesting++;
    return this;
  }
  /**
   * `likely`: a branch hint (the condition is almost always true, or false): V8 lays the unlikely
   * arm out of line and keeps its register spills there (wasm branch hinting, see module-builder).
   */
  if_(t: number = VOID, likely?: boolean): this {
    if (likely !== undefined) this.hints.push([this.code.length, likely ? 1 : 0]);
    this.op(0x04, t === VOID ? 'if' : `if (result ${typeName[t]})`).code.byte(t);
    this.nesting++;
    return this;
  }
  else_(): this {
    this.nesting--;
    this.op(0x05, 'else');
    this.nesting++;
    return this;
  }
  end(): this {
    this.nesting--;
    return this.op(0x0b, 'end');
  }
  br(label: number): this {
    this.op(0x0c, `br ${label}`).code.u32(label);
    return this;
  }
  brIf(label: number): this {
    this.op(0x0d, `br_if ${label}`).code.u32(label);
    return this;
  }
  return_(): this {
    return this.op(0x0f, 'return');
  }
  unreachable(): this {
    return this.op(0x00, 'unreachable');
  }
  call(fn: number, name = String(fn)): this {
    this.op(0x10, `call ${name}`).code.u32(fn);
    return this;
  }
  callIndirect(typeIndex: number, name: string, table = 0): this {
    this.op(0x11, `call_indirect (type ${typeIndex}) ;; ${name}`).code.u32(typeIndex).u32(table);
    return this;
  }
  returnCallIndirect(typeIndex: number, name = '', table = 0): this {
    this.op(0x13, `return_call_indirect (type ${typeIndex})${name ? ` ;; ${name}` : ''}`).code.u32(typeIndex).u32(table);
    return this;
  }
  select(): this {
    return this.op(0x1b, 'select');
  }
  drop(): this {
    return this.op(0x1a, 'drop');
  }

  // ---- locals and constants ----
  get(l: Local): this {
    this.op(0x20, `local.get ${l}`).code.u32(l);
    return this;
  }
  set(l: Local): this {
    this.op(0x21, `local.set ${l}`).code.u32(l);
    return this;
  }
  tee(l: Local): this {
    this.op(0x22, `local.tee ${l}`).code.u32(l);
    return this;
  }
  i32Const(v: number): this {
    this.op(0x41, `i32.const ${v | 0}`).code.s32(v | 0);
    return this;
  }
  i64Const(v: bigint): this {
    const s = BigInt.asIntN(64, v);
    this.op(0x42, `i64.const ${s}`).code.s64(s);
    return this;
  }

  // ---- memory ----
  private mem(byte: number, name: string, m: MemArg): this {
    this.op(byte, m.offset ? `${name} offset=${m.offset}` : name).code.u32(m.align).u32(m.offset);
    return this;
  }
  i32Load(offset = 0): this {
    return this.mem(0x28, 'i32.load', { align: 2, offset });
  }
  i64Load(offset = 0): this {
    return this.mem(0x29, 'i64.load', { align: 3, offset });
  }
  /** A sized integer load into an i64: size 1, 2, 4 or 8 bytes, sign- or zero-extended. */
  i64LoadSized(size: number, signed: boolean, offset = 0): this {
    switch (size) {
      case 1: return this.mem(signed ? 0x30 : 0x31, signed ? 'i64.load8_s' : 'i64.load8_u', { align: 0, offset });
      case 2: return this.mem(signed ? 0x32 : 0x33, signed ? 'i64.load16_s' : 'i64.load16_u', { align: 1, offset });
      case 4: return this.mem(signed ? 0x34 : 0x35, signed ? 'i64.load32_s' : 'i64.load32_u', { align: 2, offset });
      case 8: return this.i64Load(offset);
      default: throw new RangeError(`load size ${size}`);
    }
  }
  i32Load16U(offset = 0): this {
    return this.mem(0x2f, 'i32.load16_u', { align: 1, offset });
  }
  i32Store(offset = 0): this {
    return this.mem(0x36, 'i32.store', { align: 2, offset });
  }
  i64Store(offset = 0): this {
    return this.mem(0x37, 'i64.store', { align: 3, offset });
  }
  /** A sized store of an i64's low bytes: size 1, 2, 4 or 8. */
  i64StoreSized(size: number, offset = 0): this {
    switch (size) {
      case 1: return this.mem(0x3c, 'i64.store8', { align: 0, offset });
      case 2: return this.mem(0x3d, 'i64.store16', { align: 1, offset });
      case 4: return this.mem(0x3e, 'i64.store32', { align: 2, offset });
      case 8: return this.i64Store(offset);
      default: throw new RangeError(`store size ${size}`);
    }
  }

  // ---- numeric: only the instructions the backend uses ----
  i32Eqz(): this { return this.op(0x45, 'i32.eqz'); }
  i32Eq(): this { return this.op(0x46, 'i32.eq'); }
  i32Ne(): this { return this.op(0x47, 'i32.ne'); }
  i32LtS(): this { return this.op(0x48, 'i32.lt_s'); }
  i64Eqz(): this { return this.op(0x50, 'i64.eqz'); }
  i64Eq(): this { return this.op(0x51, 'i64.eq'); }
  i64Ne(): this { return this.op(0x52, 'i64.ne'); }
  i64LtS(): this { return this.op(0x53, 'i64.lt_s'); }
  i64LtU(): this { return this.op(0x54, 'i64.lt_u'); }
  i64GeS(): this { return this.op(0x59, 'i64.ge_s'); }
  i64GeU(): this { return this.op(0x5a, 'i64.ge_u'); }
  i32Add(): this { return this.op(0x6a, 'i32.add'); }
  i32Sub(): this { return this.op(0x6b, 'i32.sub'); }
  i32Mul(): this { return this.op(0x6c, 'i32.mul'); }
  i32DivS(): this { return this.op(0x6d, 'i32.div_s'); }
  i32DivU(): this { return this.op(0x6e, 'i32.div_u'); }
  i32RemS(): this { return this.op(0x6f, 'i32.rem_s'); }
  i32RemU(): this { return this.op(0x70, 'i32.rem_u'); }
  i32And(): this { return this.op(0x71, 'i32.and'); }
  i32Or(): this { return this.op(0x72, 'i32.or'); }
  i32Shl(): this { return this.op(0x74, 'i32.shl'); }
  i32ShrS(): this { return this.op(0x75, 'i32.shr_s'); }
  i32ShrU(): this { return this.op(0x76, 'i32.shr_u'); }
  i64Add(): this { return this.op(0x7c, 'i64.add'); }
  i64Sub(): this { return this.op(0x7d, 'i64.sub'); }
  i64Mul(): this { return this.op(0x7e, 'i64.mul'); }
  i64DivS(): this { return this.op(0x7f, 'i64.div_s'); }
  i64DivU(): this { return this.op(0x80, 'i64.div_u'); }
  i64RemS(): this { return this.op(0x81, 'i64.rem_s'); }
  i64RemU(): this { return this.op(0x82, 'i64.rem_u'); }
  i64And(): this { return this.op(0x83, 'i64.and'); }
  i64Or(): this { return this.op(0x84, 'i64.or'); }
  i64Xor(): this { return this.op(0x85, 'i64.xor'); }
  i64Shl(): this { return this.op(0x86, 'i64.shl'); }
  i64ShrS(): this { return this.op(0x87, 'i64.shr_s'); }
  i64ShrU(): this { return this.op(0x88, 'i64.shr_u'); }
  i32WrapI64(): this { return this.op(0xa7, 'i32.wrap_i64'); }
  i64ExtendI32S(): this { return this.op(0xac, 'i64.extend_i32_s'); }
  i64ExtendI32U(): this { return this.op(0xad, 'i64.extend_i32_u'); }
  i64Extend8S(): this { return this.op(0xc2, 'i64.extend8_s'); }
  i64Extend16S(): this { return this.op(0xc3, 'i64.extend16_s'); }
  i64Extend32S(): this { return this.op(0xc4, 'i64.extend32_s'); }

  /** The branch hints of the body finish() returned: offsets from the start of that body. */
  branchHints(): readonly [number, 0 | 1][] {
    return this.hints.map(([off, v]) => [off + this.localsBytes, v]);
  }
  private localsBytes = 0;

  /** The body as the code section wants it: local declarations, code, end. */
  finish(): Uint8Array {
    const out = new ByteWriter();
    const groups: [number, ValType][] = [];
    for (const t of this.localTypes) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    out.u32(groups.length);
    for (const [n, t] of groups) out.u32(n).byte(t);
    this.localsBytes = out.length;
    out.bytes(this.code.finish());
    out.byte(0x0b);
    return out.finish();
  }

  /** The text rendering (only with `text`): params, locals, then the body. */
  text(name: string): string {
    if (!this.lines) throw new Error('FunctionBuilder: built without text');
    const params = this.params.map((t) => typeName[t]).join(' ');
    const locals = this.localTypes.map((t) => typeName[t]).join(' ');
    return [`(func $${name} (param ${params}) (result i64)`, locals ? `  (local ${locals})` : '', ...this.lines, ')']
      .filter((l) => l !== '')
      .join('\n');
  }
}
