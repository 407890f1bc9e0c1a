// The board feeds the CPU's dirty-page log: what the loaders put in RAM at power-on, what devices
// write through the machine's GuestMemory, and what the guest itself stores all show up in one map.
import { describe, expect, it } from 'vitest';
import type { RamDirtyReader } from '../cpu/riscv/cpu';
import { createRiscvCpu } from '../cpu/riscv/wasm-cpu';
import { buildProgram, hasRiscvGcc } from './testing/rv-toolchain';
import { VirtMachine } from './virt';

const MiB = 1024 * 1024;
const RAM = 0x8000_0000;

/** Pages written since the last call. */
function dirtyPages(m: VirtMachine, reader: RamDirtyReader): number[] {
  const map = reader.take();
  const out: number[] = [];
  for (let p = 0; p < m.cpu.ram.length / 4096; p++) if (map[p >> 3]! & (1 << (p & 7))) out.push(p);
  return out;
}

describe.skipIf(!hasRiscvGcc)('virt board: dirty pages', () => {
  it('loaders, device writes and guest stores all mark the CPU\'s dirty-page log', async () => {
    // The program stores to the page after its code, then spins.
    const elf = buildProgram(`
      .section .text.init
      .globl _start
      _start:
        la t0, data
        li t1, 5
        sd t1, 0(t0)
      1: j 1b
      .data
      .balign 4096
      data: .dword 0
    `);
    const m = await VirtMachine.create({ harts: 1, ramSize: 16 * MiB, bios: { kind: 'none' }, kernel: { name: 'p.elf', data: elf } }, createRiscvCpu, () => {});
    const fdtPage = (m.fdtAddr - RAM) / 4096;
    const reader = m.cpu.dirtyLog!.reader();
    // Power-on loaded the program and the device tree (before the reader: a new reader sees at
    // least what is written after it was made, and here the marks the log still held).
    expect(dirtyPages(m, reader)).toEqual(expect.arrayContaining([0, fdtPage]));
    expect(dirtyPages(m, reader)).toEqual([]);
    // A device's DMA, through the machine's GuestMemory.
    m.mem.write32(RAM + 5 * 4096 + 8, 1);
    await m.mem.writeInPlace(RAM + 7 * 4096, 2 * 4096, async (view) => void view.fill(1));
    expect(dirtyPages(m, reader)).toEqual([5, 7, 8]);
    // The guest.
    m.cpu.run(0, 100);
    expect(m.mem.readU64(RAM + 4096)).toBe(5n);
    expect(dirtyPages(m, reader)).toEqual([1]);
    // A reboot loads the images again.
    m.powerOn();
    expect(dirtyPages(m, reader)).toEqual(expect.arrayContaining([0, fdtPage]));
  });
});
