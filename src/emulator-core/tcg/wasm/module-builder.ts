// A WebAssembly module of translated functions: it imports the core's memory and function table
// (translated code calls the core's helpers and chains to other translations through it) and
// exports its functions as f0, f1, ... for the translator to put in that table. Imports of
// functions are avoided on purpose: compiling a module compiles a wasm-to-JS wrapper for every
// imported function's signature (~0.5 ms each in Node 20's V8, measured), whatever the import
// turns out to be.
import { ByteWriter } from './bytes';
import type { ValType } from './function-builder';

export interface FuncType {
  params: readonly ValType[];
  results: readonly ValType[];
}

export interface HelperFunc {
  name: string;
  type: FuncType;
}

const sameType = (a: FuncType, b: FuncType): boolean =>
  a.params.length === b.params.length &&
  a.results.length === b.results.length &&
  a.params.every((p, i) => p === b.params[i]) &&
  a.results.every((r, i) => r === b.results[i]);

export class ModuleBuilder {
  private readonly types: FuncType[] = [];
  private readonly funcTypes: number[] = [];
  private readonly bodies: Uint8Array[] = [];
  private readonly names: string[] = [];
  private readonly hints: (readonly [number, 0 | 1][])[] = [];

  /**
   * @param table the funcref table to import from "env", and its minimum size: the core's function
   *   table for the trampoline, the small table of helpers for translated code
   */
  constructor(private readonly table?: { name: string; min: number }) {}

  /** The index of a function type (added if new). */
  typeIndex(t: FuncType): number {
    const i = this.types.findIndex((u) => sameType(t, u));
    if (i >= 0) return i;
    this.types.push(t);
    return this.types.length - 1;
  }

  /**
   * Adds a function (its body from FunctionBuilder.finish); returns its position among the
   * module's own. The name goes in the module's name section: profilers and stack traces show it.
   */
  addFunction(type: FuncType, body: Uint8Array, name = '', hints: readonly [number, 0 | 1][] = []): number {
    this.funcTypes.push(this.typeIndex(type));
    this.bodies.push(body);
    this.names.push(name);
    this.hints.push(hints);
    return this.bodies.length - 1;
  }

  get functionCount(): number {
    return this.bodies.length;
  }

  /** The module's bytes; its functions are exported as f0, f1, ... */
  finish(): Uint8Array {
    const out = new ByteWriter();
    out.bytes(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));
    const section = (id: number, body: ByteWriter): void => {
      out.byte(id).vec(body.finish());
    };

    const types = new ByteWriter().u32(this.types.length);
    for (const t of this.types) {
      types.byte(0x60).u32(t.params.length);
      for (const p of t.params) types.byte(p);
      types.u32(t.results.length);
      for (const r of t.results) types.byte(r);
    }
    section(1, types);

    const imports = new ByteWriter().u32(this.table ? 2 : 1);
    imports.str('env').str('memory').byte(0x02).byte(0x00).u32(0);
    if (this.table) imports.str('env').str(this.table.name).byte(0x01).byte(0x70).byte(0x00).u32(this.table.min);
    section(2, imports);

    const funcs = new ByteWriter().u32(this.funcTypes.length);
    for (const t of this.funcTypes) funcs.u32(t);
    section(3, funcs);

    const exports = new ByteWriter().u32(this.bodies.length);
    for (let i = 0; i < this.bodies.length; i++) exports.str(`f${i}`).byte(0x00).u32(i);
    section(7, exports);

    // Branch hints (the branch-hinting proposal's metadata.code.branch_hint section, before the
    // code): offsets from the start of each function body, 1 likely, 0 unlikely. V8 11.3 reads
    // them under --experimental-wasm-branch-hinting (translator.ts turns it on) and ignores them
    // otherwise, as engines must.
    const hinted = this.hints.map((h, i) => [i, h] as const).filter(([, h]) => h.length);
    if (hinted.length) {
      const body = new ByteWriter().str('metadata.code.branch_hint').u32(hinted.length);
      for (const [i, h] of hinted) {
        body.u32(i).u32(h.length);
        for (const [off, v] of h) body.u32(off).u32(1).byte(v);
      }
      section(0, body);
    }

    const code = new ByteWriter().u32(this.bodies.length);
    for (const b of this.bodies) code.vec(b);
    section(10, code);

    const named = this.names.map((n, i) => [i, n] as const).filter(([, n]) => n);
    if (named.length) {
      const fnames = new ByteWriter().u32(named.length);
      for (const [i, n] of named) fnames.u32(i).str(n);
      const body = new ByteWriter().str('name').byte(1).vec(fnames.finish());
      section(0, body);
    }
    return out.finish();
  }
}
