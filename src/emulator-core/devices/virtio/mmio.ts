// The virtio-mmio transport, version 2 ("modern", virtio 1.2 section 4.2): feature negotiation,
// device status, split-queue setup, notifications, interrupt status/acknowledge, config space
// and reset. QEMU virt has 8 of these at 0x10001000 + 0x1000*i (IRQs 1..8); a slot without a
// device answers magic, version and vendor, and device id 0, which Linux skips (as on QEMU).
// A guest that breaks the ring rules gets DEVICE_NEEDS_RESET and a config-change interrupt
// (4.2.3.1.1 / 2.1.2), never a host exception.
import { checkState, requireDeclaredState, saveState, type AccessSize, type IrqOutput, type MmioDevice, type SavedState, type StateDeclaration } from '../device';
import { GuestMemoryError, type GuestMemory } from '../guest-memory';
import { extract } from '../word-access';
import { VirtioFeature, type VirtioContext, type VirtioDevice } from './virtio-device';
import { SplitVirtqueue, VirtqueueError, checkLayout } from './virtqueue';

export const VIRTIO_MMIO_MAGIC = 0x74726976; // "virt"
export const VIRTIO_MMIO_VERSION = 2;
/** QEMU's vendor id ("QEMU"), which is what guests see on QEMU virt. */
export const VIRTIO_MMIO_VENDOR = 0x554d4551;

export const Reg = {
  MagicValue: 0x000,
  Version: 0x004,
  DeviceId: 0x008,
  VendorId: 0x00c,
  DeviceFeatures: 0x010,
  DeviceFeaturesSel: 0x014,
  DriverFeatures: 0x020,
  DriverFeaturesSel: 0x024,
  QueueSel: 0x030,
  QueueNumMax: 0x034,
  QueueNum: 0x038,
  QueueReady: 0x044,
  QueueNotify: 0x050,
  InterruptStatus: 0x060,
  InterruptAck: 0x064,
  Status: 0x070,
  QueueDescLow: 0x080,
  QueueDescHigh: 0x084,
  QueueDriverLow: 0x090,
  QueueDriverHigh: 0x094,
  QueueDeviceLow: 0x0a0,
  QueueDeviceHigh: 0x0a4,
  ShmSel: 0x0ac,
  ShmLenLow: 0x0b0,
  ShmLenHigh: 0x0b4,
  ShmBaseLow: 0x0b8,
  ShmBaseHigh: 0x0bc,
  QueueReset: 0x0c0,
  ConfigGeneration: 0x0fc,
  Config: 0x100,
} as const;

export const Status = {
  Acknowledge: 1,
  Driver: 2,
  DriverOk: 4,
  FeaturesOk: 8,
  NeedsReset: 0x40,
  Failed: 0x80,
} as const;

export const Interrupt = { UsedBuffer: 1, ConfigChange: 2 } as const;

/** Features every device gets from the transport. */
const TRANSPORT_FEATURES = (1n << VirtioFeature.Version1) | (1n << VirtioFeature.RingIndirectDesc) | (1n << VirtioFeature.RingEventIdx);

interface QueueRegs {
  num: number;
  ready: boolean;
  desc: number;
  driver: number;
  device: number;
}

const MAX_QUEUES = 64;

const STATE: StateDeclaration = {
  name: 'virtio-mmio',
  version: 1,
  fields: {
    status: { kind: 'u8' },
    deviceFeaturesSel: { kind: 'u32' },
    driverFeaturesSel: { kind: 'u32' },
    driverFeatures: { kind: 'u64' },
    queueSel: { kind: 'u32' },
    interruptStatus: { kind: 'u32' },
    configGeneration: { kind: 'u32' },
    // Per queue: num, ready, desc lo/hi, driver lo/hi, device lo/hi, lastAvailIdx, usedIdx.
    queues: { kind: 'u32[]' },
  },
};
const QUEUE_WORDS = 10;

const lo = (v: number) => v % 0x1_0000_0000 >>> 0;
const hi = (v: number) => Math.floor(v / 0x1_0000_0000) >>> 0;
const setLo = (v: number, w: number) => hi(v) * 0x1_0000_0000 + (w >>> 0);
/** High halves past 2^21 make the address unsafe as a number; such an address is outside RAM anyway. */
const setHi = (v: number, w: number) => (w >>> 0 >= 1 << 21 ? Number.MAX_SAFE_INTEGER : (w >>> 0) * 0x1_0000_0000 + lo(v));

export class VirtioMmio implements MmioDevice {
  readonly size = 0x1000;
  private status = 0;
  private deviceFeaturesSel = 0;
  private driverFeaturesSel = 0;
  private driverFeatures = 0n;
  private queueSel = 0;
  private interruptStatus = 0;
  private configGeneration = 0;
  private regs: QueueRegs[];
  private queues: (SplitVirtqueue | undefined)[];
  private irqLevel = false;

  constructor(
    readonly name: string,
    private readonly mem: GuestMemory,
    private readonly irq: IrqOutput,
    /** The device behind the transport; undefined for an empty slot. */
    readonly device?: VirtioDevice,
    /** The machine's answer to VirtioContext.kick (end the guest's run so host work starts). */
    private readonly onKick: () => void = () => {},
  ) {
    if (device) requireDeclaredState(`${name}: virtio device ${device.deviceId}`, device);
    const n = device?.queueMaxSizes.length ?? 0;
    if (n > MAX_QUEUES) throw new RangeError(`virtio device with ${n} queues (at most ${MAX_QUEUES})`);
    this.regs = Array.from({ length: n }, () => ({ num: 0, ready: false, desc: 0, driver: 0, device: 0 }));
    this.queues = new Array<SplitVirtqueue | undefined>(n).fill(undefined);
  }

  private get offeredFeatures(): bigint {
    return this.device ? this.device.features | TRANSPORT_FEATURES : 0n;
  }

  read(offset: number, size: AccessSize): number {
    const dev = this.device;
    if (offset >= Reg.Config) {
      return dev ? dev.readConfig(offset - Reg.Config, size) : 0;
    }
    const word = this.readReg(offset & ~3, dev);
    return extract(word, offset & 3, size);
  }

  private readReg(offset: number, dev: VirtioDevice | undefined): number {
    switch (offset) {
      case Reg.MagicValue:
        return VIRTIO_MMIO_MAGIC;
      case Reg.Version:
        return VIRTIO_MMIO_VERSION;
      case Reg.VendorId:
        return VIRTIO_MMIO_VENDOR;
    }
    if (!dev) return 0; // empty slot: device id 0 and nothing else
    switch (offset) {
      case Reg.DeviceId:
        return dev.deviceId;
      case Reg.DeviceFeatures:
        return this.deviceFeaturesSel > 1 ? 0 : Number((this.offeredFeatures >> BigInt(32 * this.deviceFeaturesSel)) & 0xffff_ffffn);
      case Reg.QueueNumMax:
        return dev.queueMaxSizes[this.queueSel] ?? 0;
      case Reg.QueueNum:
        return this.regs[this.queueSel]?.num ?? 0;
      case Reg.QueueReady:
        return this.regs[this.queueSel]?.ready ? 1 : 0;
      case Reg.InterruptStatus:
        return this.interruptStatus;
      case Reg.Status:
        return this.status;
      case Reg.QueueDescLow:
        return lo(this.regs[this.queueSel]?.desc ?? 0);
      case Reg.QueueDescHigh:
        return hi(this.regs[this.queueSel]?.desc ?? 0);
      case Reg.QueueDriverLow:
        return lo(this.regs[this.queueSel]?.driver ?? 0);
      case Reg.QueueDriverHigh:
        return hi(this.regs[this.queueSel]?.driver ?? 0);
      case Reg.QueueDeviceLow:
        return lo(this.regs[this.queueSel]?.device ?? 0);
      case Reg.QueueDeviceHigh:
        return hi(this.regs[this.queueSel]?.device ?? 0);
      case Reg.ShmLenLow:
      case Reg.ShmLenHigh:
        return 0xffff_ffff; // no shared memory regions: length -1 (4.2.2)
      case Reg.ConfigGeneration:
        return this.configGeneration;
      default:
        return 0;
    }
  }

  write(offset: number, size: AccessSize, value: number): void {
    const dev = this.device;
    if (!dev) return;
    if (offset >= Reg.Config) {
      dev.writeConfig(offset - Reg.Config, size, value);
      return;
    }
    // Registers are 32-bit (4.2.2: "the driver MUST only use 32 bit wide and aligned reads and writes").
    if (size !== 4 || offset & 3) return;
    const v = value >>> 0;
    const q = this.regs[this.queueSel];
    switch (offset) {
      case Reg.DeviceFeaturesSel:
        this.deviceFeaturesSel = v;
        return;
      case Reg.DriverFeatures:
        if (this.driverFeaturesSel <= 1 && !(this.status & Status.FeaturesOk)) {
          const shift = BigInt(32 * this.driverFeaturesSel);
          this.driverFeatures = (this.driverFeatures & ~(0xffff_ffffn << shift)) | (BigInt(v) << shift);
        }
        return;
      case Reg.DriverFeaturesSel:
        this.driverFeaturesSel = v;
        return;
      case Reg.QueueSel:
        this.queueSel = v;
        return;
      case Reg.QueueNum:
        if (q && !q.ready) q.num = v;
        return;
      case Reg.QueueReady:
        if (q) this.setQueueReady(this.queueSel, (v & 1) === 1);
        return;
      case Reg.QueueNotify:
        this.notify(v & 0xffff);
        return;
      case Reg.InterruptAck:
        this.interruptStatus &= ~v;
        this.drive();
        return;
      case Reg.Status:
        this.writeStatus(v & 0xff);
        return;
      case Reg.QueueDescLow:
        if (q && !q.ready) q.desc = setLo(q.desc, v);
        return;
      case Reg.QueueDescHigh:
        if (q && !q.ready) q.desc = setHi(q.desc, v);
        return;
      case Reg.QueueDriverLow:
        if (q && !q.ready) q.driver = setLo(q.driver, v);
        return;
      case Reg.QueueDriverHigh:
        if (q && !q.ready) q.driver = setHi(q.driver, v);
        return;
      case Reg.QueueDeviceLow:
        if (q && !q.ready) q.device = setLo(q.device, v);
        return;
      case Reg.QueueDeviceHigh:
        if (q && !q.ready) q.device = setHi(q.device, v);
        return;
    }
  }

  reset(): void {
    this.status = 0;
    this.deviceFeaturesSel = 0;
    this.driverFeaturesSel = 0;
    this.driverFeatures = 0n;
    this.queueSel = 0;
    this.interruptStatus = 0;
    for (const r of this.regs) Object.assign(r, { num: 0, ready: false, desc: 0, driver: 0, device: 0 });
    this.queues.fill(undefined);
    this.device?.reset();
    this.drive();
  }

  saveState(): SavedState {
    const queues: number[] = [];
    this.regs.forEach((r, i) => {
      const vq = this.queues[i];
      queues.push(r.num, r.ready ? 1 : 0, lo(r.desc), hi(r.desc), lo(r.driver), hi(r.driver), lo(r.device), hi(r.device), vq?.lastAvailIdx ?? 0, vq?.usedIdx ?? 0);
    });
    return saveState(STATE, {
      status: this.status,
      deviceFeaturesSel: this.deviceFeaturesSel,
      driverFeaturesSel: this.driverFeaturesSel,
      driverFeatures: this.driverFeatures,
      queueSel: this.queueSel,
      interruptStatus: this.interruptStatus,
      configGeneration: this.configGeneration,
      queues,
    });
  }

  loadState(state: SavedState): void {
    const f = checkState(STATE, state);
    const words = f.queues as number[];
    if (words.length !== this.regs.length * QUEUE_WORDS) throw new Error(`${this.name}: saved queue count does not match the device`);
    // The device forgets its old context (and requests of it); a running driver's is rebuilt
    // below. Its own state (a separate section) is loaded after this one.
    this.device?.reset();
    this.status = f.status as number;
    this.deviceFeaturesSel = f.deviceFeaturesSel as number;
    this.driverFeaturesSel = f.driverFeaturesSel as number;
    this.driverFeatures = f.driverFeatures as bigint;
    this.queueSel = f.queueSel as number;
    this.interruptStatus = f.interruptStatus as number;
    this.configGeneration = f.configGeneration as number;
    this.regs.forEach((r, i) => {
      const w = words.slice(i * QUEUE_WORDS, (i + 1) * QUEUE_WORDS) as [number, number, number, number, number, number, number, number, number, number];
      r.num = w[0];
      r.ready = false;
      r.desc = setHi(setLo(0, w[2]), w[3]);
      r.driver = setHi(setLo(0, w[4]), w[5]);
      r.device = setHi(setLo(0, w[6]), w[7]);
      this.queues[i] = undefined;
      if (w[1]) {
        this.setQueueReady(i, true);
        this.queueAt(i)?.setPositions(w[8], w[9]);
      }
    });
    if (this.device && this.status & Status.DriverOk && !(this.status & Status.NeedsReset)) this.device.activate(this.context());
    this.drive();
  }

  private queueAt(index: number): SplitVirtqueue | undefined {
    return this.queues[index];
  }

  private setQueueReady(index: number, ready: boolean): void {
    const r = this.regs[index]!;
    if (!ready) {
      r.ready = false;
      this.queues[index] = undefined;
      return;
    }
    const max = this.device!.queueMaxSizes[index]!;
    try {
      checkLayout(this.mem, { size: r.num, desc: r.desc, driver: r.driver, device: r.device }, max);
    } catch (e) {
      this.fail(e);
      return;
    }
    r.ready = true;
    const eventIdx = (this.driverFeatures >> VirtioFeature.RingEventIdx) & 1n;
    const indirect = (this.driverFeatures >> VirtioFeature.RingIndirectDesc) & 1n;
    this.queues[index] = new SplitVirtqueue(this.mem, { size: r.num, desc: r.desc, driver: r.driver, device: r.device }, eventIdx === 1n, indirect === 1n);
  }

  private writeStatus(v: number): void {
    if (v === 0) {
      this.reset();
      return;
    }
    const was = this.status;
    if (v & Status.FeaturesOk && !(was & Status.FeaturesOk)) {
      // 3.1.1: the device accepts only a subset of what it offered, and a modern driver must take VERSION_1.
      const offered = this.offeredFeatures;
      const ok = (this.driverFeatures & ~offered) === 0n && (this.driverFeatures >> VirtioFeature.Version1) & 1n;
      if (!ok) v &= ~Status.FeaturesOk;
    }
    this.status = v | (was & Status.NeedsReset);
    if (v & Status.DriverOk && !(was & Status.DriverOk)) this.device!.activate(this.context());
  }

  private context(): VirtioContext {
    return {
      mem: this.mem,
      queues: this.queues,
      features: this.driverFeatures,
      usedBuffers: (queue) => {
        const vq = this.queues[queue];
        if (vq && this.guarded(() => vq.shouldNotify())) this.raise(Interrupt.UsedBuffer);
      },
      configChanged: () => {
        this.configGeneration = (this.configGeneration + 1) >>> 0;
        this.raise(Interrupt.ConfigChange);
      },
      kick: () => this.onKick(),
      fail: (e) => this.fail(e),
    };
  }

  private notify(queue: number): void {
    if (!(this.status & Status.DriverOk) || this.status & Status.NeedsReset) return;
    if (!this.queues[queue]) return;
    this.guarded(() => this.device!.notify(queue));
  }

  private guarded<T>(f: () => T): T | undefined {
    try {
      return f();
    } catch (e) {
      this.fail(e);
      return undefined;
    }
  }

  /** A guest ring/DMA error: the device stops and asks the driver to reset it (2.1.2). */
  private fail(e: unknown): void {
    if (!(e instanceof VirtqueueError || e instanceof GuestMemoryError)) throw e;
    this.lastError = e.message;
    this.status |= Status.NeedsReset;
    // A running driver learns of it through a config-change interrupt (4.2.3.1.1).
    if (this.status & Status.DriverOk) {
      this.configGeneration = (this.configGeneration + 1) >>> 0;
      this.raise(Interrupt.ConfigChange);
    }
  }

  /** The last guest error that put the device in NEEDS_RESET (for logs and tests). */
  lastError: string | undefined;

  private raise(bits: number): void {
    this.interruptStatus |= bits;
    this.drive();
  }

  private drive(): void {
    const level = this.interruptStatus !== 0;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq(level);
    }
  }
}
