// Split virtqueues (virtio 1.2, section 2.7): the device side of the descriptor table, the driver
// ("available") ring and the device ("used") ring in guest memory. Everything here comes from the
// guest and is checked: ring addresses and alignment when the queue is enabled, the available
// index against the queue size, each descriptor index, every buffer's address and length, chain
// length (a chain longer than the queue, or than an indirect table, is a loop), indirect tables
// (size, nesting, NEXT together with INDIRECT) and the readable-before-writable order.
// A violation is a VirtqueueError; the transport then marks the device DEVICE_NEEDS_RESET.
import { GuestMemoryError, type GuestMemory } from '../guest-memory';

export const VIRTQ_DESC_F_NEXT = 1;
export const VIRTQ_DESC_F_WRITE = 2;
export const VIRTQ_DESC_F_INDIRECT = 4;
const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;

/** The largest split queue the spec allows (2.7: "The maximum Queue Size value is 32768"). */
export const MAX_QUEUE_SIZE = 32768;
const DESC_SIZE = 16;

export class VirtqueueError extends Error {
  override readonly name = 'VirtqueueError';
}

/** One guest buffer of a chain: [addr, addr+len) lies inside guest RAM (checked). */
export interface GuestBuffer {
  addr: number;
  len: number;
}

/** A descriptor chain taken from the available ring. */
export interface DescriptorChain {
  /** The head index: what goes back in the used ring. */
  head: number;
  /** Buffers the device reads (driver -> device), in order. */
  readable: GuestBuffer[];
  /** Buffers the device writes (device -> driver), in order. */
  writable: GuestBuffer[];
  readableLength: number;
  writableLength: number;
}

export interface QueueLayout {
  size: number;
  desc: number;
  driver: number;
  device: number;
}

/** Checks a queue's layout against RAM and the spec's alignment (2.7, table "Virtqueue Part Alignment"). */
export function checkLayout(mem: GuestMemory, layout: QueueLayout, maxSize: number): void {
  const { size, desc, driver, device } = layout;
  if (!Number.isInteger(size) || size < 1 || size > maxSize || (size & (size - 1)) !== 0) {
    throw new VirtqueueError(`queue size ${size} is not a power of 2 in 1..${maxSize}`);
  }
  if (desc % 16 !== 0 || driver % 2 !== 0 || device % 4 !== 0) {
    throw new VirtqueueError('virtqueue part misaligned (descriptors 16, driver ring 2, device ring 4)');
  }
  const parts: [string, number, number][] = [
    ['descriptor table', desc, DESC_SIZE * size],
    ['driver ring', driver, 6 + 2 * size],
    ['device ring', device, 6 + 8 * size],
  ];
  for (const [what, addr, len] of parts) {
    if (!mem.contains(addr, len)) throw new VirtqueueError(`${what} at 0x${addr.toString(16)} (+${len}) is outside RAM`);
  }
}

export class SplitVirtqueue {
  /** The next available-ring slot the device will read (free-running 16-bit). */
  lastAvailIdx = 0;
  /** The device's used index (free-running 16-bit). */
  usedIdx = 0;
  /** Used index at the last interrupt decision (for VIRTIO_F_EVENT_IDX). */
  private signalledUsed = 0;

  constructor(
    private readonly mem: GuestMemory,
    readonly layout: QueueLayout,
    /** VIRTIO_F_EVENT_IDX negotiated: used_event/avail_event replace the flags. */
    private readonly eventIdx: boolean,
    /** VIRTIO_F_RING_INDIRECT_DESC negotiated. */
    private readonly indirect: boolean,
  ) {}

  /** Restores ring positions (snapshot load; queue reset sets both to 0). */
  setPositions(lastAvailIdx: number, usedIdx: number): void {
    this.lastAvailIdx = lastAvailIdx & 0xffff;
    this.usedIdx = usedIdx & 0xffff;
    this.signalledUsed = this.usedIdx;
  }

  /** Chains the driver made available that the device has not taken yet. */
  availableCount(): number {
    const availIdx = this.guard(() => this.mem.read16(this.layout.driver + 2));
    const n = (availIdx - this.lastAvailIdx) & 0xffff;
    if (n > this.layout.size) {
      throw new VirtqueueError(`available index ${availIdx} is ${n} ahead of ${this.lastAvailIdx}, more than the queue size ${this.layout.size}`);
    }
    return n;
  }

  /** Takes the next available chain, or undefined if the ring is empty. */
  pop(): DescriptorChain | undefined {
    if (this.availableCount() === 0) return undefined;
    const { size, driver } = this.layout;
    const head = this.guard(() => this.mem.read16(driver + 4 + 2 * (this.lastAvailIdx % size)));
    const chain = this.walk(head);
    this.lastAvailIdx = (this.lastAvailIdx + 1) & 0xffff;
    if (this.eventIdx) {
      // avail_event: ask to be notified as soon as the driver adds anything past what we took.
      this.guard(() => this.mem.write16(this.layout.device + 4 + 8 * size, this.lastAvailIdx));
    }
    return chain;
  }

  /** Returns a chain to the driver with `written` bytes written into its writable buffers. */
  push(head: number, written: number): void {
    const { size, device } = this.layout;
    if (!Number.isInteger(head) || head < 0 || head >= size) throw new VirtqueueError(`used head ${head} out of range`);
    const elem = device + 4 + 8 * (this.usedIdx % size);
    this.guard(() => {
      this.mem.write32(elem, head);
      this.mem.write32(elem + 4, written >>> 0);
      this.usedIdx = (this.usedIdx + 1) & 0xffff;
      this.mem.write16(device + 2, this.usedIdx);
    });
  }

  /**
   * Whether the driver wants an interrupt for what was pushed since the last call (2.7.10):
   * with EVENT_IDX, when used_event lies in the range just pushed; else unless NO_INTERRUPT is set.
   */
  shouldNotify(): boolean {
    const old = this.signalledUsed;
    const now = this.usedIdx;
    this.signalledUsed = now;
    if (old === now) return false;
    const { driver, size } = this.layout;
    if (this.eventIdx) {
      const usedEvent = this.guard(() => this.mem.read16(driver + 4 + 2 * size));
      return ((now - usedEvent - 1) & 0xffff) < ((now - old) & 0xffff);
    }
    const flags = this.guard(() => this.mem.read16(driver));
    return (flags & VIRTQ_AVAIL_F_NO_INTERRUPT) === 0;
  }

  /** Copies the chain's readable bytes (at most `max`) into one array. */
  readAll(chain: DescriptorChain, max = chain.readableLength): Uint8Array {
    const out = new Uint8Array(Math.min(max, chain.readableLength));
    let at = 0;
    for (const b of chain.readable) {
      if (at >= out.length) break;
      const n = Math.min(b.len, out.length - at);
      out.set(this.guard(() => this.mem.slice(b.addr, n)), at);
      at += n;
    }
    return out;
  }

  /** Scatters `data` into the chain's writable buffers from byte `offset` on; returns bytes written. */
  writeAll(chain: DescriptorChain, data: Uint8Array, offset = 0): number {
    let skip = offset;
    let at = 0;
    for (const b of chain.writable) {
      if (at >= data.length) break;
      if (skip >= b.len) {
        skip -= b.len;
        continue;
      }
      const n = Math.min(b.len - skip, data.length - at);
      const addr = b.addr + skip;
      this.guard(() => this.mem.writeBytes(addr, data.subarray(at, at + n)));
      at += n;
      skip = 0;
    }
    return at;
  }

  private walk(head: number): DescriptorChain {
    const { size, desc } = this.layout;
    const chain: DescriptorChain = { head, readable: [], writable: [], readableLength: 0, writableLength: 0 };
    if (head >= size) throw new VirtqueueError(`chain head ${head} >= queue size ${size}`);
    let table = desc;
    let tableSize = size;
    let index = head;
    let steps = 0;
    let inIndirect = false;
    for (;;) {
      if (++steps > tableSize) throw new VirtqueueError(`descriptor chain from ${head} loops or exceeds ${tableSize} entries`);
      const d = table + DESC_SIZE * index;
      const [addr, len, flags, next] = this.guard(() => [this.mem.read64(d), this.mem.read32(d + 8), this.mem.read16(d + 12), this.mem.read16(d + 14)]);
      if (flags & VIRTQ_DESC_F_INDIRECT) {
        if (!this.indirect) throw new VirtqueueError('indirect descriptor without VIRTIO_F_RING_INDIRECT_DESC');
        if (inIndirect) throw new VirtqueueError('nested indirect descriptor table');
        if (flags & VIRTQ_DESC_F_NEXT) throw new VirtqueueError('indirect descriptor with NEXT set');
        if (len === 0 || len % DESC_SIZE !== 0) throw new VirtqueueError(`indirect table length ${len} is not a multiple of 16`);
        if (!this.mem.contains(addr, len)) throw new VirtqueueError(`indirect table at 0x${addr.toString(16)} (+${len}) is outside RAM`);
        inIndirect = true;
        table = addr;
        tableSize = len / DESC_SIZE;
        index = 0;
        steps = 0;
        continue;
      }
      if (!this.mem.contains(addr, len)) throw new VirtqueueError(`buffer at 0x${addr.toString(16)} (+${len}) is outside RAM`);
      if (flags & VIRTQ_DESC_F_WRITE) {
        chain.writable.push({ addr, len });
        chain.writableLength += len;
      } else {
        if (chain.writable.length > 0) throw new VirtqueueError('device-readable descriptor after a device-writable one');
        chain.readable.push({ addr, len });
        chain.readableLength += len;
      }
      if (!(flags & VIRTQ_DESC_F_NEXT)) return chain;
      if (next >= tableSize) throw new VirtqueueError(`next descriptor ${next} >= table size ${tableSize}`);
      index = next;
    }
  }

  /** Guest memory errors inside ring accesses become VirtqueueErrors (one kind for the transport to catch). */
  private guard<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof GuestMemoryError) throw new VirtqueueError(e.message);
      throw e;
    }
  }
}
