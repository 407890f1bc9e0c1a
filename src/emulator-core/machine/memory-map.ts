// QEMU 7.2's riscv virt memory map (hw/riscv/virt.c, virt_memmap[]), limited to what we
// implement. Guests and firmware built for `qemu-system-riscv64 -M virt` hard-code some of these
// (OpenSBI's generic platform reads them from the FDT, early consoles use the UART address), so
// the numbers are QEMU's. Regions QEMU has and we do not yet: debug 0x0, ACLINT SSWI 0x2f00000,
// PCIe PIO 0x3000000, platform bus 0x4000000, fw_cfg 0x10100000, flash 0x20000000, IMSICs,
// PCIe ECAM 0x30000000 and MMIO 0x40000000; an access there is an access fault.
import { CLINT_SIZE } from '../devices/clint';
import { PLIC_SIZE } from '../devices/plic';

export interface MemMapEntry {
  base: number;
  size: number;
}

export const VirtMemmap = {
  mrom: { base: 0x1000, size: 0xf000 },
  test: { base: 0x100000, size: 0x1000 },
  rtc: { base: 0x101000, size: 0x1000 },
  clint: { base: 0x2000000, size: CLINT_SIZE },
  plic: { base: 0xc000000, size: PLIC_SIZE },
  uart0: { base: 0x10000000, size: 0x100 },
  /** Eight transports, 0x1000 apart (VIRTIO_COUNT). */
  virtio: { base: 0x10001000, size: 0x1000 },
  dram: { base: 0x80000000, size: 0 /* -m */ },
} as const satisfies Record<string, MemMapEntry>;

export const VIRTIO_COUNT = 8;

/** PLIC sources (hw/riscv/virt.h): virtio slot i is IRQ 1+i, UART0 10, RTC 11. */
export const VirtIrq = {
  virtio: 1,
  uart0: 10,
  rtc: 11,
} as const;

/** QEMU virt's timebase-frequency: mtime and the time CSR tick at 10 MHz. */
export const TIMEBASE_HZ = 10_000_000;

/** Where the first stage jumps: QEMU's firmware_load_addr for -bios, and the start of RAM. */
export const RAM_BASE = VirtMemmap.dram.base;
