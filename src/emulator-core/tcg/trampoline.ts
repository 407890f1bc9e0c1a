// The one module besides the core that imports the core's function table: `chain(budget, entry)`
// tail-calls the translation whose entry is given. Translated code tail-calls it to go to another
// translation without returning to the run loop (wasm tail calls, on in Node 20's V8), so the table
// has two users however many modules are translated (see wasm/module-builder.ts for why that
// matters).
import { JE_INDEX } from './core-abi';
import { FunctionBuilder, I32, I64 } from './wasm/function-builder';
import { ModuleBuilder } from './wasm/module-builder';

const wasmJs = (globalThis as unknown as { WebAssembly: { Module: new (b: Uint8Array) => object; Instance: new (m: object, i: object) => { exports: Record<string, unknown> } } }).WebAssembly;

/** chain's type: (budget: i32, entry: i32) -> i64. */
export const CHAIN_TYPE = { params: [I32, I32], results: [I64] } as const;

export function trampolineBytes(): Uint8Array {
  const mb = new ModuleBuilder({ name: 'table', min: 0 });
  const translated = mb.typeIndex({ params: [I32], results: [I64] });
  const fb = new FunctionBuilder(CHAIN_TYPE.params);
  fb.get(0 as never).get(1 as never).i32Load(JE_INDEX).returnCallIndirect(translated);
  mb.addFunction(CHAIN_TYPE, fb.finish());
  return mb.finish();
}

/** Instantiates the trampoline over the core's memory and table; its `chain` export. */
export function makeChain(memory: object, table: object): unknown {
  const m = new wasmJs.Module(trampolineBytes());
  return new wasmJs.Instance(m, { env: { memory, table } }).exports.f0;
}
