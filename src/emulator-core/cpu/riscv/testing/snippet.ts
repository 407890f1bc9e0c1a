// Runs a few instruction words on a fresh core, for the per-extension unit tests: code at
// 0x80000000, data from 0x80010000, one hart in M-mode unless the test says otherwise.
import { Exit, type ExitReason, type MmioPort } from '../cpu';
import { createRiscvCpu } from '../wasm-cpu';

export const CODE = 0x8000_0000;
export const DATA = 0x8001_0000;
export const RAM_SIZE = 1 << 20;

export type TestCpu = ReturnType<typeof createRiscvCpu>;

export function makeCpu(opts: { harts?: number; mmio?: MmioPort; builtinFirmware?: boolean; ramSize?: number } = {}): TestCpu {
  const cpu = createRiscvCpu({
    harts: opts.harts ?? 1,
    ramBase: CODE,
    ramSize: opts.ramSize ?? RAM_SIZE,
    romBase: 0x1000,
    romSize: 0x1000,
    mmio: opts.mmio ?? { load: () => undefined, store: () => false },
    builtinFirmware: opts.builtinFirmware ?? false,
  });
  for (let h = 0; h < cpu.harts; h++) cpu.resetHart(h, BigInt(CODE));
  return cpu;
}

/** PMP entry 0 = NAPOT over everything, RWX: what S and U need to touch any memory at all. */
export function allowAllPmp(cpu: TestCpu, hart = 0): void {
  cpu.setCsr(hart, 0x3b0, (1n << 54n) - 1n);
  cpu.setCsr(hart, 0x3a0, 0x1fn);
}

/** Writes instruction words (32-bit, or 16-bit when < 0x10000 and marked by `half`) at `addr`. */
export function writeCode(cpu: TestCpu, addr: number, words: readonly (number | { half: number })[]): number {
  let off = addr - CODE;
  for (const w of words) {
    if (typeof w === 'number') {
      new DataView(cpu.ram.buffer, cpu.ram.byteOffset).setUint32(off, w >>> 0, true);
      off += 4;
    } else {
      new DataView(cpu.ram.buffer, cpu.ram.byteOffset).setUint16(off, w.half, true);
      off += 2;
    }
  }
  return off + CODE;
}

/** Loads `words` at pc (default CODE), runs exactly `n` instructions (default: one per word). */
export function exec(cpu: TestCpu, words: readonly (number | { half: number })[], n = words.length, pc = CODE, hart = 0): ExitReason {
  writeCode(cpu, pc, words);
  cpu.setPc(hart, BigInt(pc));
  return cpu.run(hart, n);
}

export function ramView(cpu: TestCpu): DataView {
  return new DataView(cpu.ram.buffer, cpu.ram.byteOffset, cpu.ram.byteLength);
}

export const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
export const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);

export { Exit };
