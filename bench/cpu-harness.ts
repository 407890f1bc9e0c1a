// What bench/cpu-mips.mjs bundles: the bare-metal runner and the translator.
export { loadProgram } from '../src/emulator-core/cpu/riscv/testing/bare-metal';
export { tcgTranslator } from '../src/emulator-core/tcg/translator';
