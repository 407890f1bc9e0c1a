// Named counters of the translator's decisions (v86's habit), printed by `-d tcg-stats`. The core
// counts its side (hot blocks, entries, snapshot checks, drops, exits by kind: wasm-cpu.ts
// perfCounters); these are the translator's.

export class TcgStats {
  regions = 0;
  /** WebAssembly modules made (each holds the regions translated together). */
  modules = 0;
  blocks = 0;
  insns = 0;
  wasmBytes = 0;
  failures = 0;
  /** Hot blocks not translated: their first instruction crosses a page. */
  skipped = 0;
  lastFailure = '';
  flushes = 0;
  /** Regions translated in a worker and dropped on arrival (a flush happened meanwhile). */
  dropped = 0;
  /** Time in this thread installing batches (copying, instantiating, table and hash). */
  installMs = 0;
  /** Time translating (region formation, IR, optimisation, code generation) and compiling modules (V8). */
  translateMs = 0;
  compileMs = 0;

  format(core: Readonly<Record<string, number>> = {}, mode = '', arena?: { arenaUsed: number; arenaBytes: number }): string {
    const lines = [
      `tcg: ${this.regions} regions in ${this.modules} modules, ${this.blocks} blocks, ${this.insns} guest instructions -> ${(this.wasmBytes / 1024).toFixed(0)} KiB of wasm`,
      `tcg: ${mode}: ${this.translateMs.toFixed(0)} ms translating, ${this.compileMs.toFixed(0)} ms compiling, ${this.installMs.toFixed(0)} ms installing; ${this.flushes} flushes, ${this.dropped} dropped, ${this.skipped} skipped, ${this.failures} failures${this.failures ? ` (last: ${this.lastFailure})` : ''}`,
    ];
    if (arena) {
      // What the code cache holds: the modules' bytes (V8 keeps its machine code beside them), and
      // the arena of the core's memory (region entries, byte snapshots, chaining slots).
      lines.push(`tcg: memory: ${(this.wasmBytes / 1024).toFixed(0)} KiB of wasm made, arena ${(arena.arenaUsed / 1024).toFixed(0)} of ${(arena.arenaBytes / 1024).toFixed(0)} KiB; ${peakRss()}`);
    }
    const jit = Object.entries(core).filter(([k]) => k.startsWith('jit') || k === 'interpInsns');
    const rest = Object.entries(core).filter(([k]) => !(k.startsWith('jit') || k === 'interpInsns'));
    if (jit.length) lines.push(`tcg: core ${jit.map(([k, v]) => `${k}=${v}`).join(' ')}`);
    if (rest.length) lines.push(`tcg: core ${rest.map(([k, v]) => `${k}=${v}`).join(' ')}`);
    return lines.join('\n');
  }
}

/** The process's peak resident memory, for comparing -accel tcg with tci (whose report has only this). */
export function peakRss(): string {
  return `process peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`;
}
