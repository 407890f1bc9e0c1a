// A minimal virtio driver for device tests (virtio-gpu, virtio-input): brings a device up behind
// the real virtio-mmio transport as Linux does, posts descriptor chains and reads the used ring.
import { GuestMemory } from '../guest-memory';
import { Reg, Status, VirtioMmio } from './mmio';
import type { VirtioDevice } from './virtio-device';

export const TEST_RAM_BASE = 0x8000_0000;
const QUEUE_SIZE = 16;

export class TestDriver {
  readonly mem: GuestMemory;
  readonly transport: VirtioMmio;
  readonly irq: boolean[] = [];
  /** Times the device asked the machine for a host turn (VirtioContext.kick). */
  kicks = 0;
  private next = TEST_RAM_BASE + 0x1000;
  private readonly queues: { desc: number; driver: number; device: number; avail: number; used: number; freeDesc: number }[] = [];

  constructor(readonly device: VirtioDevice, ramBytes = 1 << 20) {
    this.mem = new GuestMemory(TEST_RAM_BASE, new Uint8Array(ramBytes));
    this.transport = new VirtioMmio('virtio-mmio@test', this.mem, (l) => this.irq.push(l), device, () => this.kicks++);
  }

  w(reg: number, v: number): void {
    this.transport.write(reg, 4, v >>> 0);
  }
  r(reg: number): number {
    return this.transport.read(reg, 4);
  }
  config8(offset: number): number {
    return this.transport.read(Reg.Config + offset, 1);
  }
  config32(offset: number): number {
    return this.transport.read(Reg.Config + offset, 4);
  }
  writeConfig8(offset: number, v: number): void {
    this.transport.write(Reg.Config + offset, 1, v);
  }

  /** Bump allocator in guest RAM. */
  alloc(len: number, align = 16): number {
    this.next = Math.ceil(this.next / align) * align;
    const at = this.next;
    this.next += len;
    if (this.next > TEST_RAM_BASE + this.mem.ram.length) throw new Error('test RAM exhausted');
    return at;
  }

  /** Reset, features (all the device offers plus VERSION_1), queues, DRIVER_OK. */
  init(): void {
    this.w(Reg.Status, 0);
    this.w(Reg.Status, Status.Acknowledge | Status.Driver);
    for (const sel of [0, 1]) {
      this.w(Reg.DeviceFeaturesSel, sel);
      const offered = this.r(Reg.DeviceFeatures);
      this.w(Reg.DriverFeaturesSel, sel);
      // Device features as offered, transport ones only VERSION_1 (no indirect, no event idx).
      this.w(Reg.DriverFeatures, sel === 0 ? offered & ~((1 << 28) | (1 << 29)) : offered & 1);
    }
    this.w(Reg.Status, Status.Acknowledge | Status.Driver | Status.FeaturesOk);
    if (!(this.r(Reg.Status) & Status.FeaturesOk)) throw new Error('FEATURES_OK refused');
    this.device.queueMaxSizes.forEach((_, q) => {
      const desc = this.alloc(16 * QUEUE_SIZE);
      const driver = this.alloc(6 + 2 * QUEUE_SIZE, 2);
      const device = this.alloc(6 + 8 * QUEUE_SIZE, 4);
      this.w(Reg.QueueSel, q);
      this.w(Reg.QueueNum, QUEUE_SIZE);
      this.w(Reg.QueueDescLow, desc);
      this.w(Reg.QueueDescHigh, 0);
      this.w(Reg.QueueDriverLow, driver);
      this.w(Reg.QueueDriverHigh, 0);
      this.w(Reg.QueueDeviceLow, device);
      this.w(Reg.QueueDeviceHigh, 0);
      this.w(Reg.QueueReady, 1);
      this.queues.push({ desc, driver, device, avail: 0, used: 0, freeDesc: 0 });
    });
    this.w(Reg.Status, Status.Acknowledge | Status.Driver | Status.FeaturesOk | Status.DriverOk);
  }

  /** Posts a chain: readable buffers (copied into RAM) then writable ones of the given sizes. */
  post(queue: number, readable: Uint8Array[], writable: number[]): { head: number; out: number[] } {
    const q = this.queues[queue]!;
    const bufs: { addr: number; len: number; write: boolean }[] = [];
    for (const r of readable) {
      const addr = this.alloc(Math.max(1, r.length));
      this.mem.writeBytes(addr, r);
      bufs.push({ addr, len: r.length, write: false });
    }
    const out: number[] = [];
    for (const len of writable) {
      const addr = this.alloc(Math.max(1, len));
      out.push(addr);
      bufs.push({ addr, len, write: true });
    }
    const head = q.freeDesc % QUEUE_SIZE;
    bufs.forEach((b, i) => {
      const idx = (q.freeDesc + i) % QUEUE_SIZE;
      const d = q.desc + 16 * idx;
      this.mem.writeU64(d, BigInt(b.addr));
      this.mem.write32(d + 8, b.len);
      const last = i === bufs.length - 1;
      this.mem.write16(d + 12, (last ? 0 : 1) | (b.write ? 2 : 0));
      this.mem.write16(d + 14, (q.freeDesc + i + 1) % QUEUE_SIZE);
    });
    q.freeDesc += bufs.length;
    this.mem.write16(q.driver + 4 + 2 * (q.avail % QUEUE_SIZE), head);
    q.avail = (q.avail + 1) & 0xffff;
    this.mem.write16(q.driver + 2, q.avail);
    return { head, out };
  }

  notify(queue: number): void {
    this.w(Reg.QueueNotify, queue);
  }

  /** Used elements added since the last call: [head, bytes written]. */
  used(queue: number): [number, number][] {
    const q = this.queues[queue]!;
    const idx = this.mem.read16(q.device + 2);
    const out: [number, number][] = [];
    while (q.used !== idx) {
      const e = q.device + 4 + 8 * (q.used % QUEUE_SIZE);
      out.push([this.mem.read32(e), this.mem.read32(e + 4)]);
      q.used = (q.used + 1) & 0xffff;
    }
    return out;
  }

  read(addr: number, len: number): Uint8Array {
    return this.mem.readBytes(addr, len);
  }
}
