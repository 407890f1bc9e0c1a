// Guest RAM as devices see it for DMA (virtio rings and buffers). Every access is bounds-checked:
// a guest-supplied address or length that leaves RAM is a GuestMemoryError, which the device turns
// into its own error state (virtio: DEVICE_NEEDS_RESET); it never becomes a host exception of
// another kind or a read outside the guest's memory.

export class GuestMemoryError extends Error {
  override readonly name = 'GuestMemoryError';
  constructor(
    readonly address: number,
    readonly length: number,
  ) {
    super(`guest DMA outside RAM: 0x${address.toString(16)} (+${length} bytes)`);
  }
}

export class GuestMemory {
  private readonly view: DataView;

  /**
   * @param base guest physical address of ram[0] (0x80000000 on virt)
   * @param ram the CPU's RAM (never detached: its WebAssembly.Memory never grows)
   */
  constructor(
    readonly base: number,
    readonly ram: Uint8Array,
  ) {
    this.view = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
  }

  /** Offset of [addr, addr+len) in ram, or a GuestMemoryError. */
  offsetOf(addr: number, len: number): number {
    const off = addr - this.base;
    if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(len) || len < 0 || off < 0 || off + len > this.ram.length) {
      throw new GuestMemoryError(addr, len);
    }
    return off;
  }

  /** True if [addr, addr+len) lies in RAM. */
  contains(addr: number, len: number): boolean {
    const off = addr - this.base;
    return Number.isSafeInteger(addr) && len >= 0 && off >= 0 && off + len <= this.ram.length;
  }

  read8(addr: number): number {
    return this.ram[this.offsetOf(addr, 1)]!;
  }
  read16(addr: number): number {
    return this.view.getUint16(this.offsetOf(addr, 2), true);
  }
  read32(addr: number): number {
    return this.view.getUint32(this.offsetOf(addr, 4), true);
  }
  /** A 64-bit value as a number: exact below 2^53, which covers every address inside RAM (readU64 for data). */
  read64(addr: number): number {
    const off = this.offsetOf(addr, 8);
    return this.view.getUint32(off, true) + this.view.getUint32(off + 4, true) * 0x1_0000_0000;
  }
  readU64(addr: number): bigint {
    return this.view.getBigUint64(this.offsetOf(addr, 8), true);
  }
  write8(addr: number, v: number): void {
    this.ram[this.offsetOf(addr, 1)] = v;
  }
  write16(addr: number, v: number): void {
    this.view.setUint16(this.offsetOf(addr, 2), v, true);
  }
  write32(addr: number, v: number): void {
    this.view.setUint32(this.offsetOf(addr, 4), v >>> 0, true);
  }
  writeU64(addr: number, v: bigint): void {
    this.view.setBigUint64(this.offsetOf(addr, 8), BigInt.asUintN(64, v), true);
  }

  /** A view (no copy) of guest bytes: valid until the guest writes them. */
  slice(addr: number, len: number): Uint8Array {
    const off = this.offsetOf(addr, len);
    return this.ram.subarray(off, off + len);
  }
  /** A copy of guest bytes. */
  readBytes(addr: number, len: number): Uint8Array {
    return this.slice(addr, len).slice();
  }
  writeBytes(addr: number, data: Uint8Array): void {
    this.ram.set(data, this.offsetOf(addr, data.length));
  }
}
