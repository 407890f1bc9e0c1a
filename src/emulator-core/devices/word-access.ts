// Sub-word MMIO accesses on devices whose registers are 32-bit words (CLINT, PLIC, RTC, virtio):
// a 1- or 2-byte read returns those bytes of the word; a narrow write is a read-modify-write.
import type { AccessSize } from './device';

/** Bytes [byte, byte+size) of a little-endian 32-bit word. */
export function extract(word: number, byte: number, size: AccessSize): number {
  const shifted = word >>> (byte * 8);
  return size === 4 ? shifted >>> 0 : shifted & (size === 1 ? 0xff : 0xffff);
}

/** A 32-bit word with bytes [byte, byte+size) replaced by `value`. */
export function insert(word: number, byte: number, size: AccessSize, value: number): number {
  const mask = (size === 1 ? 0xff : size === 2 ? 0xffff : 0xffff_ffff) << (byte * 8);
  return ((word & ~mask) | ((value << (byte * 8)) & mask)) >>> 0;
}
