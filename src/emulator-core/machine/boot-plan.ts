// Where everything goes in guest memory at power-on, as QEMU 7.2's virt does (hw/riscv/boot.c):
// - a firmware file (-bios FILE) at 0x80000000 (an ELF at its own addresses); the kernel at the
//   firmware's end aligned up to 2 MiB, i.e. 0x80200000 after OpenSBI. The built-in firmware
//   (-bios default) occupies no RAM but keeps that address, so the same kernel boots either way;
//   with -bios none the kernel (or program) is the first thing at 0x80000000.
// - the initrd at kernel entry + min(RAM/2, 128 MiB) (riscv_load_initrd);
// - the FDT at the end of RAM (or of the first 3 GiB), 2 MiB aligned down (riscv_load_fdt).
// What QEMU leaves to chance, an overlap or a file past the end of RAM, is a LoadError here.
import { LoadError } from './loaders/errors';
import { isElf, parseElf, type ElfImage } from './loaders/elf';
import { kernelFootprint, parseLinuxImage } from './loaders/linux-image';
import { RAM_BASE } from './memory-map';

const MiB = 1024 * 1024;
const alignUp = (v: number, a: number) => Math.ceil(v / a) * a;
const alignDown = (v: number, a: number) => Math.floor(v / a) * a;

export type BiosChoice = { kind: 'default' } | { kind: 'none' } | { kind: 'file'; name: string; data: Uint8Array };

export interface BootInputs {
  ramSize: number;
  bios: BiosChoice;
  kernel?: { name: string; data: Uint8Array };
  initrd?: { name: string; data: Uint8Array };
}

/** A region of RAM the loader fills: `data`, then zeros up to `size`. */
export interface RamBlob {
  what: string;
  addr: number;
  data: Uint8Array;
  size: number;
}

export interface BootPlan {
  blobs: RamBlob[];
  /** Built-in firmware: the boot hart enters the kernel in S-mode here. Else: where the ROM jumps. */
  entry: number;
  /** fw_dynamic_info.next_addr: the kernel, for a real firmware to jump to (0: none). */
  nextAddr: number;
  initrd?: { start: number; end: number };
  /** HTIF words of an ELF program that defines them. */
  htif?: { tohost: number; fromhost?: number };
}

/** Places firmware, kernel and initrd. The FDT comes last (its size depends on the initrd). */
export function planBoot(inp: BootInputs): BootPlan {
  const ramEnd = RAM_BASE + inp.ramSize;
  const blobs: RamBlob[] = [];
  let htif: BootPlan['htif'];
  const elfBlobs = (what: string, elf: ElfImage) => {
    elf.segments.forEach((s, i) => blobs.push({ what: elf.segments.length > 1 ? `${what} segment ${i}` : what, addr: s.paddr, data: s.data, size: s.memSize }));
    if (elf.tohost !== undefined && !htif) htif = { tohost: elf.tohost, fromhost: elf.fromhost };
  };

  // 1. Firmware.
  let firmwareEnd: number = RAM_BASE;
  let firmwareEntry: number | undefined;
  if (inp.bios.kind === 'file') {
    const { name, data } = inp.bios;
    if (isElf(data)) {
      const elf = parseElf(data, name);
      elfBlobs(name, elf);
      firmwareEntry = elf.entry;
      firmwareEnd = Math.max(...elf.segments.map((s) => s.paddr + s.memSize));
    } else {
      blobs.push({ what: name, addr: RAM_BASE, data, size: data.length });
      firmwareEntry = RAM_BASE;
      firmwareEnd = RAM_BASE + data.length;
    }
  }
  // The built-in SBI lives in the host, but keeps OpenSBI's place so kernels load where they would on QEMU.
  const kernelStart = inp.bios.kind === 'default' ? RAM_BASE + 2 * MiB : alignUp(firmwareEnd, 2 * MiB);

  // 2. Kernel.
  let kernelEntry: number | undefined;
  if (inp.kernel) {
    const { name, data } = inp.kernel;
    if (isElf(data)) {
      const elf = parseElf(data, name);
      elfBlobs(name, elf);
      kernelEntry = elf.entry;
    } else {
      const header = parseLinuxImage(data);
      const size = header ? kernelFootprint(data, header, name) : data.length;
      blobs.push({ what: name, addr: kernelStart, data, size });
      kernelEntry = kernelStart;
    }
  } else if (inp.bios.kind === 'default') {
    throw new LoadError('the built-in firmware (-bios default) needs a -kernel to boot');
  }
  if (inp.initrd && kernelEntry === undefined) throw new LoadError('-initrd needs a -kernel');

  // 3. Initrd.
  let initrd: BootPlan['initrd'];
  if (inp.initrd && kernelEntry !== undefined) {
    const start = kernelEntry + Math.min(inp.ramSize / 2, 128 * MiB);
    const { name, data } = inp.initrd;
    blobs.push({ what: name, addr: start, data, size: data.length });
    initrd = { start, end: start + data.length };
  }

  for (const b of blobs) checkFits(b, ramEnd);
  checkOverlaps(blobs);

  const entry = inp.bios.kind === 'file' ? firmwareEntry! : (kernelEntry ?? RAM_BASE);
  return { blobs, entry, nextAddr: kernelEntry ?? 0, initrd, htif };
}

/** Adds the FDT at QEMU's address and checks it against what is already placed. */
export function placeFdt(plan: BootPlan, ramSize: number, fdt: Uint8Array): number {
  const ramEnd = RAM_BASE + ramSize;
  const top = Math.min(ramEnd, 3072 * MiB);
  const addr = alignDown(top - fdt.length, 2 * MiB);
  const blob = { what: 'device tree', addr, data: fdt, size: fdt.length };
  if (addr < RAM_BASE) throw new LoadError(`the device tree does not fit in ${ramSize / MiB} MiB of RAM`);
  checkFits(blob, ramEnd);
  checkOverlaps([...plan.blobs, blob]);
  plan.blobs.push(blob);
  return addr;
}

function describe(b: RamBlob): string {
  return `${b.what} (0x${b.addr.toString(16)}..0x${(b.addr + b.size).toString(16)})`;
}

function checkFits(b: RamBlob, ramEnd: number): void {
  if (b.addr < RAM_BASE || b.addr + b.size > ramEnd) {
    throw new LoadError(`${describe(b)} does not fit in RAM (0x${RAM_BASE.toString(16)}..0x${ramEnd.toString(16)}): give the machine more memory (-m)`);
  }
}

function checkOverlaps(blobs: RamBlob[]): void {
  const sorted = [...blobs].sort((a, b) => a.addr - b.addr);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (cur.addr < prev.addr + prev.size) throw new LoadError(`${describe(cur)} overlaps ${describe(prev)}`);
  }
}
