import { describe, expect, it } from 'vitest';
import type { FrameReceiver, NetBackend } from '../../net/backend';
import { NetCounters } from '../../net/counters';
import { ip, parseFrame, udpFrame } from '../../net/testing/packets';
import { GuestMemory } from '../guest-memory';
import { Interrupt, Reg, Status, VirtioMmio } from './mmio';
import { NET_HDR_LEN, NetFeature, VirtioNet } from './net';

const BASE = 0x8000_0000;
const RXQ = { desc: BASE + 0x1000, driver: BASE + 0x2000, device: BASE + 0x3000 };
const TXQ = { desc: BASE + 0x4000, driver: BASE + 0x5000, device: BASE + 0x6000 };
const BUFS = BASE + 0x10000;
const MAC = Uint8Array.from([0x52, 0x54, 0, 0x12, 0x34, 0x56]);

class FakeBackend implements NetBackend {
  readonly counters = new NetCounters();
  sent: Uint8Array[] = [];
  receiver?: FrameReceiver;
  ready = 0;
  constructor(readonly framesHaveValidChecksums = true) {}
  async start() {}
  send(f: Uint8Array) {
    this.sent.push(f);
  }
  attach(r: FrameReceiver) {
    this.receiver = r;
  }
  receiveReady() {
    this.ready++;
  }
  async close() {}
}

function setup(features = [(1 << 0) | (1 << 1) | (1 << 5) | (1 << 16), 1], trusted = true) {
  const mem = new GuestMemory(BASE, new Uint8Array(0x40000));
  const backend = new FakeBackend(trusted);
  let wakes = 0;
  const dev = new VirtioNet(backend, MAC, () => wakes++);
  const irq: boolean[] = [];
  const t = new VirtioMmio('virtio-mmio@10008000', mem, (l) => irq.push(l), dev);
  const w = (reg: number, v: number) => t.write(reg, 4, v);
  const r = (reg: number) => t.read(reg, 4);
  const s = { mem, backend, dev, t, w, r, irq, wakes: () => wakes, rxAvail: 0, txAvail: 0, rxDesc: 0, txDesc: 0 };
  // Linux's virtio_net probe, reduced: features, two queues of 8, DRIVER_OK.
  w(Reg.Status, 0);
  w(Reg.Status, Status.Acknowledge | Status.Driver);
  w(Reg.DriverFeaturesSel, 0);
  w(Reg.DriverFeatures, features[0]!);
  w(Reg.DriverFeaturesSel, 1);
  w(Reg.DriverFeatures, features[1]!);
  w(Reg.Status, Status.Acknowledge | Status.Driver | Status.FeaturesOk);
  for (const [i, q] of [RXQ, TXQ].entries()) {
    w(Reg.QueueSel, i);
    w(Reg.QueueNum, 8);
    w(Reg.QueueDescLow, q.desc);
    w(Reg.QueueDriverLow, q.driver);
    w(Reg.QueueDeviceLow, q.device);
    w(Reg.QueueReady, 1);
  }
  w(Reg.Status, Status.Acknowledge | Status.Driver | Status.FeaturesOk | Status.DriverOk);
  return s;
}
type S = ReturnType<typeof setup>;

/** Posts one receive buffer of `len` bytes. */
function postRx(s: S, len = 1526): number {
  const i = s.rxDesc++ % 8;
  const addr = BUFS + i * 0x1000;
  s.mem.writeU64(RXQ.desc + 16 * i, BigInt(addr));
  s.mem.write32(RXQ.desc + 16 * i + 8, len);
  s.mem.write16(RXQ.desc + 16 * i + 12, 2); // WRITE
  s.mem.write16(RXQ.driver + 4 + 2 * (s.rxAvail % 8), i);
  s.mem.write16(RXQ.driver + 2, ++s.rxAvail);
  s.w(Reg.QueueNotify, 0);
  return addr;
}

/** Queues one frame for transmission, header and frame in one buffer (ANY_LAYOUT), and kicks. */
function sendTx(s: S, hdr: Uint8Array, frame: Uint8Array): void {
  const i = s.txDesc++ % 8;
  const addr = BUFS + 0x20000 + i * 0x1000;
  s.mem.writeBytes(addr, hdr);
  s.mem.writeBytes(addr + hdr.length, frame);
  s.mem.writeU64(TXQ.desc + 16 * i, BigInt(addr));
  s.mem.write32(TXQ.desc + 16 * i + 8, hdr.length + frame.length);
  s.mem.write16(TXQ.desc + 16 * i + 12, 0);
  s.mem.write16(TXQ.driver + 4 + 2 * (s.txAvail % 8), i);
  s.mem.write16(TXQ.driver + 2, ++s.txAvail);
  s.w(Reg.QueueNotify, 1);
}

const usedLen = (s: S, q: typeof RXQ, n: number) => s.mem.read32(q.device + 4 + 8 * n + 4);
const microtask = () => new Promise<void>((r) => queueMicrotask(r));

describe('virtio-net', () => {
  it('is device 1 with MAC, STATUS and checksum offload, its MAC and link-up in config space', () => {
    const s = setup();
    expect(s.r(Reg.DeviceId)).toBe(1);
    s.w(Reg.DeviceFeaturesSel, 0);
    const f = s.r(Reg.DeviceFeatures);
    for (const bit of [NetFeature.Csum, NetFeature.GuestCsum, NetFeature.Mac, NetFeature.Status]) expect((f >>> Number(bit)) & 1).toBe(1);
    expect((f >>> 15) & 1).toBe(0); // no MRG_RXBUF
    expect([0, 1, 2, 3, 4, 5].map((i) => s.t.read(0x100 + i, 1))).toEqual([...MAC]);
    expect(s.t.read(0x106, 2)).toBe(1);
    expect(s.t.read(0x100, 4)).toBe(0x12005452);
  });

  it('transmits the frame after the 12-byte header and returns the buffer', () => {
    const s = setup();
    const frame = udpFrame(ip('10.0.2.2'), 1, 2, Uint8Array.from([1, 2, 3]));
    sendTx(s, new Uint8Array(NET_HDR_LEN), frame);
    expect(s.backend.sent).toHaveLength(1);
    expect(Array.from(s.backend.sent[0]!)).toEqual(Array.from(frame));
    expect(s.mem.read16(TXQ.device + 2)).toBe(1);
    expect(s.r(Reg.InterruptStatus) & Interrupt.UsedBuffer).toBeTruthy();
  });

  it('completes a partial checksum (NEEDS_CSUM) before the backend sees the frame', () => {
    const s = setup();
    const frame = udpFrame(ip('10.0.2.2'), 1000, 2000, Uint8Array.from({ length: 101 }, (_, i) => i));
    // What a guest with CSUM offload sends: the pseudo-header sum, not the checksum, in the field.
    const partial = frame.slice();
    const pseudo = [10, 0, 2, 15, 10, 0, 2, 2, 0, 17, 0, 109];
    let sum = 0;
    for (let i = 0; i < pseudo.length; i += 2) sum += (pseudo[i]! << 8) | pseudo[i + 1]!;
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    partial[40] = sum >> 8;
    partial[41] = sum & 255;
    const hdr = new Uint8Array(NET_HDR_LEN);
    hdr[0] = 1; // NEEDS_CSUM
    hdr[6] = 34; // csum_start: the UDP header
    hdr[8] = 6; // csum_offset: the UDP checksum field
    sendTx(s, hdr, partial);
    const p = parseFrame(s.backend.sent[0]!);
    expect(p.transportOk).toBe(true);
    expect(Array.from(s.backend.sent[0]!)).toEqual(Array.from(frame));
  });

  it('drops frames with GSO or impossible checksum offsets and counts them', () => {
    const s = setup();
    const frame = udpFrame(ip('10.0.2.2'), 1, 2, new Uint8Array(10));
    const gso = new Uint8Array(NET_HDR_LEN);
    gso[1] = 1; // TCPV4
    sendTx(s, gso, frame);
    const bad = new Uint8Array(NET_HDR_LEN);
    bad[0] = 1;
    bad[6] = 0xff;
    bad[7] = 0xff;
    sendTx(s, bad, frame);
    const past = new Uint8Array(NET_HDR_LEN);
    past[0] = 1;
    past[6] = 34;
    past[8] = 0xff;
    sendTx(s, past, frame);
    sendTx(s, new Uint8Array(4), new Uint8Array(0)); // shorter than the header
    expect(s.backend.sent).toHaveLength(0);
    expect(s.dev.counters.txBadHeader).toBe(4);
    expect(s.mem.read16(TXQ.device + 2)).toBe(4); // every buffer went back
  });

  it('offers HOST_TSO4 only for a backend that takes 64 KiB TCP segments, and passes them whole', () => {
    const s = setup([(1 << 0) | (1 << 5) | (1 << 11) | (1 << 16), 1]);
    s.w(Reg.DeviceFeaturesSel, 0);
    expect((s.r(Reg.DeviceFeatures) >>> 11) & 1).toBe(0); // FakeBackend does not accept GSO
    const gsoBackend = Object.assign(new FakeBackend(), { acceptsTcpGso: true });
    expect((new VirtioNet(gsoBackend, MAC).features >> NetFeature.HostTso4) & 1n).toBe(1n);
  });

  it('takes a TSO super-segment (gso TCPV4) when negotiated, completing its checksum', () => {
    const mem = new GuestMemory(BASE, new Uint8Array(0x40000));
    const backend = Object.assign(new FakeBackend(), { acceptsTcpGso: true });
    const dev = new VirtioNet(backend, MAC);
    const t = new VirtioMmio('virtio-mmio@10008000', mem, () => {}, dev);
    const s = { mem, backend, dev, t, w: (r: number, v: number) => t.write(r, 4, v), r: (r: number) => t.read(r, 4), irq: [], wakes: () => 0, rxAvail: 0, txAvail: 0, rxDesc: 0, txDesc: 0 };
    s.w(Reg.Status, Status.Acknowledge | Status.Driver);
    s.w(Reg.DriverFeaturesSel, 0);
    s.w(Reg.DriverFeatures, (1 << 0) | (1 << 5) | (1 << 11));
    s.w(Reg.DriverFeaturesSel, 1);
    s.w(Reg.DriverFeatures, 1);
    s.w(Reg.Status, Status.Acknowledge | Status.Driver | Status.FeaturesOk);
    for (const [i, q] of [RXQ, TXQ].entries()) {
      s.w(Reg.QueueSel, i);
      s.w(Reg.QueueNum, 8);
      s.w(Reg.QueueDescLow, q.desc);
      s.w(Reg.QueueDriverLow, q.driver);
      s.w(Reg.QueueDeviceLow, q.device);
      s.w(Reg.QueueReady, 1);
    }
    s.w(Reg.Status, Status.Acknowledge | Status.Driver | Status.FeaturesOk | Status.DriverOk);
    const big = udpFrame(ip('10.0.2.2'), 1, 2, new Uint8Array(3000)); // any payload: the device only checksums
    const hdr = new Uint8Array(NET_HDR_LEN);
    hdr[0] = 1;
    hdr[1] = 1; // TCPV4
    hdr[6] = 34;
    hdr[8] = 6;
    sendTx(s as unknown as S, hdr, big);
    expect(backend.sent).toHaveLength(1);
    expect(backend.sent[0]!.length).toBe(big.length);
    const ecn = hdr.slice();
    ecn[1] = 0x81; // TCPV4 | ECN, not offered
    sendTx(s as unknown as S, ecn, big);
    expect(backend.sent).toHaveLength(1);
  });

  it('refuses NEEDS_CSUM from a driver that did not negotiate CSUM', () => {
    const s = setup([(1 << 5) | (1 << 16), 1]);
    const hdr = new Uint8Array(NET_HDR_LEN);
    hdr[0] = 1;
    hdr[6] = 34;
    hdr[8] = 6;
    sendTx(s, hdr, udpFrame(ip('10.0.2.2'), 1, 2, new Uint8Array(10)));
    expect(s.backend.sent).toHaveLength(0);
  });

  it('receives into a posted buffer with a header (num_buffers 1, DATA_VALID), one interrupt per batch, and wakes the loop', async () => {
    const s = setup();
    const a = postRx(s);
    const b = postRx(s);
    const f1 = udpFrame(ip('10.0.2.15'), 1, 2, new Uint8Array(20));
    const f2 = udpFrame(ip('10.0.2.15'), 3, 4, new Uint8Array(30));
    const irqsBefore = s.irq.length;
    expect(s.backend.receiver!(f1)).toBe(true);
    expect(s.backend.receiver!(f2)).toBe(true);
    expect(s.irq.length).toBe(irqsBefore); // not yet: the batch is signalled once
    await microtask();
    expect(s.r(Reg.InterruptStatus) & Interrupt.UsedBuffer).toBeTruthy();
    expect(s.wakes()).toBe(1);
    expect(usedLen(s, RXQ, 0)).toBe(NET_HDR_LEN + f1.length);
    expect(usedLen(s, RXQ, 1)).toBe(NET_HDR_LEN + f2.length);
    const hdr = s.mem.slice(a, NET_HDR_LEN);
    expect(hdr[0]).toBe(2); // DATA_VALID
    expect(hdr[10]).toBe(1); // num_buffers
    expect(Array.from(s.mem.slice(b + NET_HDR_LEN, f2.length))).toEqual(Array.from(f2));
    expect(s.dev.counters.rxFrames).toBe(2);
  });

  it('does not claim valid checksums for a backend that cannot vouch for them', async () => {
    const s = setup(undefined, false);
    const a = postRx(s);
    s.backend.receiver!(udpFrame(ip('10.0.2.15'), 1, 2, new Uint8Array(4)));
    expect(s.mem.read8(a)).toBe(0);
  });

  it('asks the backend to hold frames when the guest has no buffer, and to retry when it posts one', () => {
    const s = setup();
    const before = s.backend.ready;
    expect(s.backend.receiver!(udpFrame(ip('10.0.2.15'), 1, 2, new Uint8Array(4)))).toBe(false);
    postRx(s);
    expect(s.backend.ready).toBe(before + 1);
  });

  it('drops a frame larger than the posted buffer, and frames while no driver runs', () => {
    const s = setup();
    postRx(s, 100);
    expect(s.backend.receiver!(udpFrame(ip('10.0.2.15'), 1, 2, new Uint8Array(200)))).toBe(true);
    expect(s.dev.counters.rxTooBig).toBe(1);
    expect(usedLen(s, RXQ, 0)).toBe(0);
    s.w(Reg.Status, 0);
    expect(s.backend.receiver!(udpFrame(ip('10.0.2.15'), 1, 2, new Uint8Array(4)))).toBe(true);
    expect(s.dev.counters.rxNoDriver).toBe(1);
  });

  it('a receive buffer outside RAM puts the device in NEEDS_RESET, never a host exception', () => {
    const s = setup();
    s.mem.writeU64(RXQ.desc, 0xffff_0000_0000n);
    s.mem.write32(RXQ.desc + 8, 2000);
    s.mem.write16(RXQ.desc + 12, 2);
    s.mem.write16(RXQ.driver + 4, 0);
    s.mem.write16(RXQ.driver + 2, 1);
    expect(() => s.backend.receiver!(udpFrame(ip('10.0.2.15'), 1, 2, new Uint8Array(4)))).not.toThrow();
    expect(s.r(Reg.Status) & Status.NeedsReset).toBe(Status.NeedsReset);
    expect(s.t.lastError).toMatch(/outside RAM/);
    // Further frames are dropped until the driver resets the device.
    expect(s.backend.receiver!(udpFrame(ip('10.0.2.15'), 1, 2, new Uint8Array(4)))).toBe(true);
  });

  it('round-trips its state', () => {
    const a = setup();
    const b = new VirtioNet(new FakeBackend(), Uint8Array.from([2, 0, 0, 0, 0, 1]));
    b.loadState(a.dev.saveState());
    expect(Array.from(b.macAddress)).toEqual([...MAC]);
    expect(b.saveState()).toEqual(a.dev.saveState());
  });
});
