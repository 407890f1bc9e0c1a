// Runs a bare-metal RISC-V program on the core alone (no board): RAM at 0x80000000, nothing
// mapped elsewhere (every MMIO access faults), M-mode at the ELF entry. The program ends by
// writing the HTIF `tohost` word as riscv-tests do: 1 = pass, (code << 1) | 1 = fail with code.
// Used by the CPU's unit and integration tests and by scripts/riscv-tests.mjs.
import { Exit, type MmioPort, type RiscvCpu } from '../cpu';
import { createRiscvCpu } from '../wasm-cpu';
import { parseElf } from './elf';
import type { TranslatorFactory } from '../translator-port';

export const RAM_BASE = 0x8000_0000;

export interface BareMetalOptions {
  ramSize?: number; // default 16 MiB
  maxInstructions?: number; // default 50 million
  slice?: number; // instructions per run() call, default 100 000
  harts?: number;
  mmio?: MmioPort;
  /**
   * A stand-in interrupt controller: after each slice the 64-bit word at tohost + 16 (`irqreq`
   * in tests/fixtures/riscv/test.h) gives the level of every line (bit n = mip bit n) of hart 0.
   */
  irqWord?: boolean;
  /** Dynamic binary translation (tcg/ tcgTranslator()); without it the core interprets. */
  translator?: TranslatorFactory;
  /** Called between slices (e.g. to raise interrupt lines); return true to stop. */
  onSlice?: (cpu: RiscvCpu, instructions: number) => boolean | void;
}

export interface BareMetalResult {
  /** 'pass', 'fail' (tohost code != 0), 'timeout' (no tohost write within maxInstructions). */
  status: 'pass' | 'fail' | 'timeout';
  code: number;
  instructions: number;
  cpu: RiscvCpu;
}

const noDevices: MmioPort = { load: () => undefined, store: () => false };

export function loadProgram(elfBytes: Uint8Array, opts: BareMetalOptions = {}): { cpu: RiscvCpu; tohost: number; entry: bigint } {
  const ramSize = opts.ramSize ?? 16 * 1024 * 1024;
  const cpu = createRiscvCpu({
    harts: opts.harts ?? 1,
    ramBase: RAM_BASE,
    ramSize,
    romBase: 0x1000,
    romSize: 0,
    mmio: opts.mmio ?? noDevices,
    builtinFirmware: false,
    translator: opts.translator,
  });
  const elf = parseElf(elfBytes);
  for (const seg of elf.segments) {
    const off = Number(seg.paddr) - RAM_BASE;
    if (off < 0 || off + Number(seg.memsz) > ramSize) throw new Error(`segment at 0x${seg.paddr.toString(16)} is outside RAM`);
    cpu.ram.set(seg.data, off);
    cpu.ram.fill(0, off + seg.data.length, off + Number(seg.memsz));
  }
  const tohost = elf.symbols.get('tohost');
  if (tohost === undefined) throw new Error('program has no tohost symbol');
  for (let h = 0; h < cpu.harts; h++) cpu.resetHart(h, elf.entry);
  return { cpu, tohost: Number(tohost) - RAM_BASE, entry: elf.entry };
}

export function runBareMetal(elfBytes: Uint8Array, opts: BareMetalOptions = {}): BareMetalResult {
  const { cpu, tohost } = loadProgram(elfBytes, opts);
  const view = new DataView(cpu.ram.buffer, cpu.ram.byteOffset, cpu.ram.byteLength);
  const max = opts.maxInstructions ?? 50_000_000;
  const slice = opts.slice ?? 100_000;
  let instructions = 0;
  while (instructions < max) {
    for (let h = 0; h < cpu.harts; h++) {
      // Deterministic time: 1 tick per 10 instructions.
      cpu.setTime(Math.floor(instructions / 10));
      const exit = cpu.run(h, slice);
      instructions += cpu.lastRunInstructions;
      if (exit === Exit.Wfi) instructions += slice; // time passes while it sleeps
    }
    if (opts.irqWord) {
      const req = view.getBigUint64(tohost + 16, true);
      for (const line of [1, 3, 5, 7, 9, 11] as const) cpu.setIrq(0, line, ((req >> BigInt(line)) & 1n) === 1n);
    }
    const word = view.getBigUint64(tohost, true);
    if (word !== 0n) {
      const code = Number(word >> 1n);
      return { status: code === 0 ? 'pass' : 'fail', code, instructions, cpu };
    }
    if (opts.onSlice?.(cpu, instructions)) break;
  }
  return { status: 'timeout', code: -1, instructions, cpu };
}
