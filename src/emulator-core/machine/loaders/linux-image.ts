// The RISC-V Linux `Image` header (Documentation/arch/riscv/boot-image-header.rst): 64 bytes at the
// start of the file, magic "RISCV\0\0\0" at 0x30 (deprecated) and "RSC\x05" at 0x38. We use it to
// recognise a kernel and to know how much memory it claims (image_size includes its bss), so a
// kernel that does not fit is an error before the guest starts rather than a crash inside it.
// Like QEMU, the load address is not taken from text_offset: the kernel goes where the firmware
// ends, aligned to 2 MiB (0x80200000 after OpenSBI or our built-in firmware).
import { LoadError } from './errors';

export interface LinuxImageHeader {
  textOffset: bigint;
  /** Effective size in memory (0 in very old kernels: then the file size). */
  imageSize: bigint;
  flags: bigint;
  version: number;
}

const MAGIC = 'RISCV\0\0\0';
const MAGIC2 = 'RSC\x05';

/** The header if `file` is a RISC-V Linux Image, else undefined. */
export function parseLinuxImage(file: Uint8Array): LinuxImageHeader | undefined {
  if (file.length < 64) return undefined;
  const text = (at: number, n: number) => String.fromCharCode(...file.subarray(at, at + n));
  if (text(0x38, 4) !== MAGIC2 && text(0x30, 8) !== MAGIC) return undefined;
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  return {
    textOffset: dv.getBigUint64(0x08, true),
    imageSize: dv.getBigUint64(0x10, true),
    flags: dv.getBigUint64(0x18, true),
    version: dv.getUint32(0x20, true),
  };
}

/** Bytes of memory the kernel needs at its load address. */
export function kernelFootprint(file: Uint8Array, header: LinuxImageHeader, name: string): number {
  const size = header.imageSize === 0n ? BigInt(file.length) : header.imageSize;
  if (size < BigInt(file.length) || size > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new LoadError(`${name}: Image header claims ${size} bytes, the file has ${file.length}`);
  }
  return Number(size);
}
