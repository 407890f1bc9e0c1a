// Named counters of the translator's decisions (v86's habit), printed by `-d tcg-stats`. The core
// counts its side (hot blocks, entries, snapshot checks, drops, exits by kind: wasm-cpu.ts
// perfCounters); these are the translator's.

export class TcgStats {
  regions = 0;
  blocks = 0;
  insns = 0;
  wasmBytes = 0;
  failures = 0;
  /** Hot blocks not translated: their first instruction crosses a page. */
  skipped = 0;
  lastFailure = '';
  flushes = 0;
  /** Time in translate (region formation, IR, optimisation, code generation, compilation). */
  translateMs = 0;
  /** Of which: generating code (IR -> wasm bytes), V8 compiling the module, instantiating it. */
  codegenMs = 0;
  compileMs = 0;
  instantiateMs = 0;

  format(core: Readonly<Record<string, number>> = {}): string {
    const lines = [
      `tcg: ${this.regions} regions, ${this.blocks} blocks, ${this.insns} guest instructions -> ${(this.wasmBytes / 1024).toFixed(0)} KiB of wasm`,
      `tcg: ${this.translateMs.toFixed(0)} ms translating (code generation ${this.codegenMs.toFixed(0)} ms, V8 compile ${this.compileMs.toFixed(0)} ms, instantiation ${this.instantiateMs.toFixed(0)} ms), ${this.flushes} flushes, ${this.skipped} skipped, ${this.failures} failures${this.failures ? ` (last: ${this.lastFailure})` : ''}`,
    ];
    const pick = Object.entries(core).filter(([k]) => k.startsWith('jit'));
    if (pick.length) lines.push(`tcg: core ${pick.map(([k, v]) => `${k}=${v}`).join(' ')}`);
    return lines.join('\n');
  }
}
