import { describe, expect, it } from 'vitest';
import { saveState, type AccessSize, type SavedState } from '../device';
import { GuestMemory } from '../guest-memory';
import { Interrupt, Reg, Status, VirtioMmio, VIRTIO_MMIO_MAGIC } from './mmio';
import type { VirtioContext, VirtioDevice } from './virtio-device';

const BASE = 0x8000_0000;

/** A test device: queue 0 takes a chain and writes its readable bytes back reversed. */
class EchoDevice implements VirtioDevice {
  readonly deviceId = 0x7ff;
  readonly features = 1n << 3n;
  readonly queueMaxSizes = [16, 0x100];
  config = new Uint8Array([1, 2, 3, 4]);
  ctx?: VirtioContext;
  resets = 0;
  readConfig(offset: number, _size: AccessSize) {
    return this.config[offset] ?? 0;
  }
  writeConfig(offset: number, _size: AccessSize, value: number) {
    this.config[offset] = value;
  }
  activate(ctx: VirtioContext) {
    this.ctx = ctx;
  }
  notify(queue: number) {
    const vq = this.ctx!.queues[queue]!;
    for (let c = vq.pop(); c; c = vq.pop()) {
      const data = vq.readAll(c).reverse();
      vq.push(c.head, vq.writeAll(c, data));
    }
    this.ctx!.usedBuffers(queue);
  }
  reset() {
    this.ctx = undefined;
    this.resets++;
  }
  saveState(): SavedState {
    return saveState({ name: 'echo', version: 1, fields: {} }, {});
  }
  loadState() {}
}

function setup(device: VirtioDevice | null = new EchoDevice()) {
  const mem = new GuestMemory(BASE, new Uint8Array(0x10000));
  const irq: boolean[] = [];
  const t = new VirtioMmio('virtio-mmio@10001000', mem, (l) => irq.push(l), device ?? undefined);
  const w = (reg: number, v: number) => t.write(reg, 4, v);
  const r = (reg: number) => t.read(reg, 4);
  return { mem, t, irq, w, r, level: () => irq[irq.length - 1] ?? false };
}

/** What Linux's virtio_mmio + virtio core do to bring a device up with one queue of 8. */
function driverInit(s: ReturnType<typeof setup>, features = [0x1000_0008, 0x1]) {
  s.w(Reg.Status, 0);
  s.w(Reg.Status, Status.Acknowledge);
  s.w(Reg.Status, Status.Acknowledge | Status.Driver);
  s.w(Reg.DriverFeaturesSel, 0);
  s.w(Reg.DriverFeatures, features[0]!);
  s.w(Reg.DriverFeaturesSel, 1);
  s.w(Reg.DriverFeatures, features[1]!);
  s.w(Reg.Status, Status.Acknowledge | Status.Driver | Status.FeaturesOk);
  const ok = (s.r(Reg.Status) & Status.FeaturesOk) !== 0;
  s.w(Reg.QueueSel, 0);
  s.w(Reg.QueueNum, 8);
  s.w(Reg.QueueDescLow, BASE + 0x1000);
  s.w(Reg.QueueDescHigh, 0);
  s.w(Reg.QueueDriverLow, BASE + 0x2000);
  s.w(Reg.QueueDeviceLow, BASE + 0x3000);
  s.w(Reg.QueueReady, 1);
  s.w(Reg.Status, Status.Acknowledge | Status.Driver | Status.FeaturesOk | Status.DriverOk);
  return ok;
}

describe('virtio-mmio transport (version 2)', () => {
  it('answers an empty slot as QEMU does: magic, version 2, vendor, device id 0', () => {
    const s = setup(null);
    expect(s.r(Reg.MagicValue)).toBe(VIRTIO_MMIO_MAGIC);
    expect(s.r(Reg.Version)).toBe(2);
    expect(s.r(Reg.DeviceId)).toBe(0);
    expect(s.r(Reg.VendorId)).toBe(0x554d4551);
    s.w(Reg.Status, 1);
    expect(s.r(Reg.Status)).toBe(0);
  });

  it('offers device + transport features in two 32-bit windows', () => {
    const s = setup();
    s.w(Reg.DeviceFeaturesSel, 0);
    expect(s.r(Reg.DeviceFeatures)).toBe((1 << 3) | (1 << 28) | (1 << 29));
    s.w(Reg.DeviceFeaturesSel, 1);
    expect(s.r(Reg.DeviceFeatures)).toBe(1); // VERSION_1
    s.w(Reg.DeviceFeaturesSel, 2);
    expect(s.r(Reg.DeviceFeatures)).toBe(0);
    s.w(Reg.QueueSel, 1);
    expect(s.r(Reg.QueueNumMax)).toBe(0x100);
    s.w(Reg.QueueSel, 2);
    expect(s.r(Reg.QueueNumMax)).toBe(0);
  });

  it('refuses FEATURES_OK without VERSION_1 or with features it did not offer', () => {
    expect(driverInit(setup(), [0x8, 0])).toBe(false);
    expect(driverInit(setup(), [0x8 | 0x10, 1])).toBe(false);
    expect(driverInit(setup(), [0x8, 1])).toBe(true);
  });

  it('runs a request through the queue, interrupts, and acknowledges', () => {
    const s = setup();
    driverInit(s);
    const { mem } = s;
    mem.writeBytes(BASE + 0x4000, Uint8Array.from([1, 2, 3]));
    mem.writeU64(BASE + 0x1000, BigInt(BASE + 0x4000));
    mem.write32(BASE + 0x1008, 3);
    mem.write16(BASE + 0x100c, 1); // NEXT
    mem.write16(BASE + 0x100e, 1);
    mem.writeU64(BASE + 0x1010, BigInt(BASE + 0x5000));
    mem.write32(BASE + 0x1018, 3);
    mem.write16(BASE + 0x101c, 2); // WRITE
    mem.write16(BASE + 0x2004, 0);
    mem.write16(BASE + 0x2002, 1);
    s.w(Reg.QueueNotify, 0);
    expect([...mem.slice(BASE + 0x5000, 3)]).toEqual([3, 2, 1]);
    expect(mem.read16(BASE + 0x3002)).toBe(1);
    expect(s.r(Reg.InterruptStatus)).toBe(Interrupt.UsedBuffer);
    expect(s.level()).toBe(true);
    s.w(Reg.InterruptAck, Interrupt.UsedBuffer);
    expect(s.level()).toBe(false);
  });

  it('puts a device that gets a broken ring into NEEDS_RESET with a config interrupt, and resets on status 0', () => {
    const dev = new EchoDevice();
    const s = setup(dev);
    driverInit(s);
    s.mem.write16(BASE + 0x2004, 0);
    s.mem.writeU64(BASE + 0x1000, 0xffff_ffff_0000n); // buffer far outside RAM
    s.mem.write32(BASE + 0x1008, 16);
    s.mem.write16(BASE + 0x2002, 1);
    s.w(Reg.QueueNotify, 0);
    expect(s.r(Reg.Status) & Status.NeedsReset).toBe(Status.NeedsReset);
    expect(s.r(Reg.InterruptStatus) & Interrupt.ConfigChange).toBe(Interrupt.ConfigChange);
    expect(s.t.lastError).toMatch(/outside RAM/);
    s.w(Reg.Status, 0);
    expect(s.r(Reg.Status)).toBe(0);
    expect(s.r(Reg.QueueReady)).toBe(0);
    expect(s.level()).toBe(false);
    expect(dev.resets).toBe(2); // driverInit's own reset, then this one
  });

  it('refuses to enable a queue whose rings are outside RAM or misaligned', () => {
    const s = setup();
    s.w(Reg.QueueSel, 0);
    s.w(Reg.QueueNum, 8);
    s.w(Reg.QueueDescLow, 0x1000);
    s.w(Reg.QueueDriverLow, BASE + 0x2000);
    s.w(Reg.QueueDeviceLow, BASE + 0x3000);
    s.w(Reg.QueueReady, 1);
    expect(s.r(Reg.QueueReady)).toBe(0);
    expect(s.r(Reg.Status) & Status.NeedsReset).toBe(Status.NeedsReset);
    const h = setup();
    h.w(Reg.QueueNum, 8);
    h.w(Reg.QueueDescLow, BASE + 0x1000);
    h.w(Reg.QueueDescHigh, 0xffff_ffff);
    h.w(Reg.QueueDriverLow, BASE + 0x2000);
    h.w(Reg.QueueDeviceLow, BASE + 0x3000);
    h.w(Reg.QueueReady, 1);
    expect(h.r(Reg.QueueReady)).toBe(0);
  });

  it('passes config space through and bumps the generation on a change', () => {
    const dev = new EchoDevice();
    const s = setup(dev);
    expect(s.t.read(0x102, 1)).toBe(3);
    s.t.write(0x101, 1, 9);
    expect(dev.config[1]).toBe(9);
    driverInit(s);
    const gen = s.r(Reg.ConfigGeneration);
    dev.ctx!.configChanged();
    expect(s.r(Reg.ConfigGeneration)).toBe(gen + 1);
    expect(s.r(Reg.InterruptStatus)).toBe(Interrupt.ConfigChange);
  });

  it('round-trips its state, queues included', () => {
    const a = setup();
    driverInit(a);
    const b = setup();
    b.t.loadState(a.t.saveState());
    expect(b.t.saveState()).toEqual(a.t.saveState());
    expect(b.r(Reg.QueueReady)).toBe(1);
  });
});
