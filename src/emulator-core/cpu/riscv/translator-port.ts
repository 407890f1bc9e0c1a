// The CPU core's side of dynamic binary translation, as the translator (src/emulator-core/tcg)
// sees it. The core counts entries of its decoded blocks and calls `Translator.hot` when one gets
// hot; the translator builds WebAssembly functions that share the core's memory and function
// table, writes an entry for each in the arena the core gives it, and installs it; from then on
// the run loop (wasm/run.ts) runs that code instead of interpreting. cpu/ defines this contract
// and knows nothing of how translation is done (docs/tcg.md).

/** The little of the WebAssembly JS API the two sides exchange (no DOM lib in this project). */
export interface WasmTableLike {
  readonly length: number;
  grow(delta: number): number;
  set(index: number, value: unknown): void;
}

export interface TranslatorHost {
  /** The core's memory (guest RAM, hart state, TLB, the arena): a WebAssembly.Memory. */
  readonly memory: { readonly buffer: ArrayBuffer };
  /** The function table the core calls translated code through (a WebAssembly.Table of funcref). */
  readonly table: WasmTableLike;
  /** The first table index free for translated functions. */
  readonly tableBase: number;
  /** The core's exports translated code imports, by name (wasm/jit.ts: jitLoad, jitStore, ...). */
  readonly helpers: Readonly<Record<string, unknown>>;
  /** Where the words shared with translated code are (layout.ts MEM_JIT_VARS). */
  readonly varsOffset: number;
  /** The arena the translator owns: [arenaOffset, arenaOffset + arenaBytes). */
  readonly arenaOffset: number;
  readonly arenaBytes: number;
  /** The layout constants translated code relies on, in tcg/core-abi.ts order. */
  abi(i: number): number;
  /** Writes the one-op block (JIT_OP_BYTES) the interpreter's handler runs for one instruction. */
  writeOp(at: number, raw: number, len: 2 | 4): void;
  readonly opRecordBytes: number;
  /** Makes the entry at `entry` (in the arena) the translation of its host address. */
  install(entry: number): boolean;
  /** Forgets every installed translation (before the arena or table is reused). */
  flush(): void;
}

export interface Translator {
  /** Decoded-block entries before the core calls `hot` for a block. */
  readonly hotThreshold: number;
  /**
   * The block at host address `host` (virtual `pc`) got hot: translate the code it starts.
   * `nextHalf` is the first 16 bits of the next virtual page as fetched now, or -1: code may use
   * them for an instruction that crosses into that page (checking them again when it runs).
   */
  hot(host: number, pc: bigint, nextHalf: number): void;
  /** The core's run() returned (nothing translated runs now). */
  afterRun(): void;
  /** Drops every translation (the board rewrote guest memory wholesale, a reset). */
  reset(): void;
}

export type TranslatorFactory = (host: TranslatorHost) => Translator;
