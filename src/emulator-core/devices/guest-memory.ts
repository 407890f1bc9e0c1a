// Guest RAM as devices see it for DMA (virtio rings and buffers). Every access is bounds-checked:
// a guest-supplied address or length that leaves RAM is a GuestMemoryError, which the device turns
// into its own error state (virtio: DEVICE_NEEDS_RESET); it never becomes a host exception of
// another kind or a read outside the guest's memory.
//
// Every write through it is reported to the write listeners (onWrite) once the bytes are in RAM:
// the machine marks those pages in the CPU's dirty-page log (snapshots look only at what changed),
// and code caches can drop what was translated from them. A write made through a view (slice) is
// invisible here: use writeInPlace, or report it with noteWritten.

export class GuestMemoryError extends Error {
  override readonly name = 'GuestMemoryError';
  constructor(
    readonly address: number,
    readonly length: number,
  ) {
    super(`guest DMA outside RAM: 0x${address.toString(16)} (+${length} bytes)`);
  }
}

/** Told of a write to guest RAM: `offset` into `GuestMemory.ram` and `length` (> 0) bytes, already written. */
export type GuestWriteListener = (offset: number, length: number) => void;

export class GuestMemory {
  private readonly view: DataView;
  private listeners: GuestWriteListener[] = [];

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

  /** Calls `listener` after every write to RAM through this object; returns what removes it. */
  onWrite(listener: GuestWriteListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** Reports [offset, offset+len) written. */
  private written(offset: number, len: number): void {
    if (len > 0) for (const l of this.listeners) l(offset, len);
  }

  /**
   * Reports guest bytes [addr, addr+len) written by something other than this object's write
   * methods (a loader writing RAM wholesale, a view filled later): once the bytes are in.
   */
  noteWritten(addr: number, len: number): void {
    this.written(this.offsetOf(addr, len), len);
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
    const off = this.offsetOf(addr, 1);
    this.ram[off] = v;
    this.written(off, 1);
  }
  write16(addr: number, v: number): void {
    const off = this.offsetOf(addr, 2);
    this.view.setUint16(off, v, true);
    this.written(off, 2);
  }
  write32(addr: number, v: number): void {
    const off = this.offsetOf(addr, 4);
    this.view.setUint32(off, v >>> 0, true);
    this.written(off, 4);
  }
  writeU64(addr: number, v: bigint): void {
    const off = this.offsetOf(addr, 8);
    this.view.setBigUint64(off, BigInt.asUintN(64, v), true);
    this.written(off, 8);
  }

  /**
   * A view (no copy) of guest bytes, to READ them: valid until the guest writes them. Writing
   * through it goes unreported (writeInPlace is the way to fill guest RAM in place).
   */
  slice(addr: number, len: number): Uint8Array {
    const off = this.offsetOf(addr, len);
    return this.ram.subarray(off, off + len);
  }
  /** A copy of guest bytes. */
  readBytes(addr: number, len: number): Uint8Array {
    return this.slice(addr, len).slice();
  }
  writeBytes(addr: number, data: Uint8Array): void {
    const off = this.offsetOf(addr, data.length);
    this.ram.set(data, off);
    this.written(off, data.length);
  }
  /** Sets guest bytes [addr, addr+len) to `value`. */
  fill(addr: number, len: number, value: number): void {
    const off = this.offsetOf(addr, len);
    this.ram.fill(value, off, off + len);
    this.written(off, len);
  }

  /**
   * Lets `fill` write guest bytes [addr, addr+len) in place through a view (a disk read straight
   * into guest RAM, no copy) and reports the range once `fill` has settled, done or failed (a
   * failed read may have written part of it). Reported when the data has landed, not before: a
   * snapshot or a code cache that looks at the range meanwhile sees it written afterwards.
   */
  async writeInPlace<T>(addr: number, len: number, fill: (view: Uint8Array) => Promise<T>): Promise<T> {
    const off = this.offsetOf(addr, len);
    try {
      return await fill(this.ram.subarray(off, off + len));
    } finally {
      this.written(off, len);
    }
  }
}
