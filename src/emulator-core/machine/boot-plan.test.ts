import { describe, expect, it } from 'vitest';
import { planBoot, placeFdt } from './boot-plan';
import { LoadError } from './loaders/errors';
import { buildProgram, hasRiscvGcc } from './testing/rv-toolchain';

const MiB = 1024 * 1024;

/** A fake Linux Image: the 64-byte header with the RSC\x05 magic and an image_size. */
function linuxImage(fileSize: number, imageSize: number): Uint8Array {
  const f = new Uint8Array(fileSize);
  const dv = new DataView(f.buffer);
  dv.setBigUint64(8, 0x200000n, true);
  dv.setBigUint64(16, BigInt(imageSize), true);
  f.set([0x52, 0x49, 0x53, 0x43, 0x56], 0x30);
  f.set([0x52, 0x53, 0x43, 0x05], 0x38);
  return f;
}

describe('boot plan (QEMU virt placement)', () => {
  const kernel = { name: 'Image', data: linuxImage(4096, 30 * MiB) };
  const initrd = { name: 'initrd', data: new Uint8Array(5 * MiB) };

  it('puts the kernel at 0x80200000, the initrd 128 MiB above, the FDT at the top 2 MiB of RAM', () => {
    const plan = planBoot({ ramSize: 512 * MiB, bios: { kind: 'default' }, kernel, initrd });
    expect(plan.entry).toBe(0x8020_0000);
    expect(plan.initrd).toEqual({ start: 0x8820_0000, end: 0x8820_0000 + 5 * MiB });
    expect(placeFdt(plan, 512 * MiB, new Uint8Array(0x1800))).toBe(0x9fe0_0000);
    expect(plan.blobs.map((b) => [b.what, b.addr, b.size])).toEqual([
      ['Image', 0x8020_0000, 30 * MiB],
      ['initrd', 0x8820_0000, 5 * MiB],
      ['device tree', 0x9fe0_0000, 0x1800],
    ]);
  });

  it('with a firmware file jumps there and hands the kernel to fw_dynamic; small RAM puts the initrd at half', () => {
    const fw = { kind: 'file' as const, name: 'fw_dynamic.bin', data: new Uint8Array(115_328) };
    const plan = planBoot({ ramSize: 128 * MiB, bios: fw, kernel, initrd });
    expect(plan.entry).toBe(0x8000_0000);
    expect(plan.nextAddr).toBe(0x8020_0000);
    expect(plan.initrd!.start).toBe(0x8020_0000 + 64 * MiB);
    expect(placeFdt(plan, 128 * MiB, new Uint8Array(100))).toBe(0x87e0_0000);
  });

  it('with -bios none loads the kernel at the start of RAM', () => {
    const plan = planBoot({ ramSize: 64 * MiB, bios: { kind: 'none' }, kernel });
    expect(plan.entry).toBe(0x8000_0000);
    expect(plan.blobs[0]!.addr).toBe(0x8000_0000);
  });

  it('refuses what does not fit, overlaps, or has nothing to boot, with the reason', () => {
    expect(() => planBoot({ ramSize: 16 * MiB, bios: { kind: 'default' }, kernel })).toThrow(/Image .* does not fit in RAM .*-m/);
    expect(() => planBoot({ ramSize: 64 * MiB, bios: { kind: 'default' }, kernel, initrd: { name: 'big', data: new Uint8Array(40 * MiB) } })).toThrow(/big .* does not fit/);
    // 64 MiB: initrd at kernel + 32 MiB, inside the kernel's 30 MiB + ... no; 40 MiB image_size overlaps it.
    const fat = { name: 'Image', data: linuxImage(4096, 40 * MiB) };
    expect(() => planBoot({ ramSize: 64 * MiB, bios: { kind: 'default' }, kernel: fat, initrd })).toThrow(/initrd .* overlaps Image/);
    expect(() => planBoot({ ramSize: 64 * MiB, bios: { kind: 'default' } })).toThrow(LoadError);
    expect(() => planBoot({ ramSize: 64 * MiB, bios: { kind: 'none' }, initrd })).toThrow(/-initrd needs a -kernel/);
    expect(() => planBoot({ ramSize: 64 * MiB, bios: { kind: 'default' }, kernel: { name: 'bad', data: linuxImage(8192, 4096) } })).toThrow(/header claims/);
  });

  it.skipIf(!hasRiscvGcc)('loads an ELF program at its addresses with its bss, and finds tohost/fromhost', () => {
    const elf = buildProgram(`
      .section .text.init
      .globl _start
      _start: j _start
      .section .tohost,"aw",@progbits
      .globl tohost
      tohost: .dword 0
      .globl fromhost
      fromhost: .dword 0
      .bss
      .space 8192
    `);
    const plan = planBoot({ ramSize: 64 * MiB, bios: { kind: 'none' }, kernel: { name: 'p.elf', data: elf } });
    expect(plan.entry).toBe(0x8000_0000);
    expect(plan.htif!.tohost).toBe(0x8000_0040);
    expect(plan.htif!.fromhost).toBe(0x8000_0048);
    expect(plan.blobs[0]!.size).toBeGreaterThan(8192);
    expect(() => planBoot({ ramSize: 64 * MiB, bios: { kind: 'none' }, kernel: { name: 'p.elf', data: elf.slice(0, 100) } })).toThrow(/p\.elf: .*outside the file/);
    const wrongArch = elf.slice();
    wrongArch[18] = 62; // x86-64
    expect(() => planBoot({ ramSize: 64 * MiB, bios: { kind: 'none' }, kernel: { name: 'x.elf', data: wrongArch } })).toThrow(/not RISC-V/);
  });
});
