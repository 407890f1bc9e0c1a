// Every byte a virtio device writes to guest RAM is reported to GuestMemory's write listeners
// (the machine turns the reports into dirty pages for snapshots, a translator into dropped code):
// each device's DMA paths run under a WriteAudit, which fails on any change that went unreported.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BlockError, createQcow2, openImage } from '../../block';
import { KEY } from '../../display/keymap';
import { Framebuffer } from '../../display/framebuffer';
import type { FrameReceiver, NetBackend } from '../../net/backend';
import { NetCounters } from '../../net/counters';
import { ip, udpFrame } from '../../net/testing/packets';
import { WriteAudit } from '../testing/write-audit';
import { BlkRequest, BlkStatus, VirtioBlk } from './blk';
import { GpuCmd, VirtioGpu } from './gpu';
import { VirtioInput } from './input';
import { VirtioNet } from './net';
import { TEST_RAM_BASE, TestDriver } from './test-driver';

const dir = mkdtempSync(path.join(tmpdir(), 'viv-dma-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function blkHeader(type: number, sector: number): Uint8Array {
  const h = new Uint8Array(16);
  const v = new DataView(h.buffer);
  v.setUint32(0, type, true);
  v.setBigUint64(8, BigInt(sector), true);
  return h;
}

async function blkDevice() {
  const file = path.join(dir, `d${Math.random().toString(36).slice(2)}.qcow2`);
  await createQcow2(file, { size: 1 << 20 });
  const blk = new VirtioBlk(await openImage(file));
  const t = new TestDriver(blk, 1 << 20);
  t.init();
  const run = async (readable: Uint8Array[], writable: number[]) => {
    const { out } = t.post(0, readable, writable);
    t.notify(0);
    await blk.drain();
    await new Promise((r) => setTimeout(r, 0));
    expect(t.used(0)).toHaveLength(1);
    return out;
  };
  return { blk, t, run };
}

describe('device writes to guest RAM are all reported', () => {
  it('the audit itself catches a write through a view', () => {
    const t = new TestDriver(new VirtioInput('keyboard'));
    const audit = new WriteAudit(t.mem);
    t.mem.slice(TEST_RAM_BASE + 100, 4)[1] = 0x5a;
    t.mem.write8(TEST_RAM_BASE + 200, 1);
    expect(audit.unreported()).toEqual([101]);
  });

  it('virtio-blk: a read into one buffer (in place, reported once the data is in), a scatter list, GET_ID, a write', async () => {
    const { blk, t, run } = await blkDevice();
    const data = Uint8Array.from({ length: 8192 }, (_, i) => (i * 7 + 3) & 255);
    await run([blkHeader(BlkRequest.Out, 8), data], [1]);
    const audit = new WriteAudit(t.mem);
    const [one] = await run([blkHeader(BlkRequest.In, 8)], [8192, 1]);
    // The report of the data buffer came after the disk data landed in RAM.
    const report = audit.reports.find((r) => r.offset === one! - TEST_RAM_BASE && r.length === 8192);
    expect(report && Buffer.compare(report.bytes, data)).toBe(0);
    await run([blkHeader(BlkRequest.In, 8)], [4096, 4096, 1]);
    await run([blkHeader(BlkRequest.GetId, 0)], [20, 1]);
    await run([blkHeader(BlkRequest.Out, 40), data.subarray(0, 512)], [1]);
    expect(audit.unreported()).toEqual([]);
    await blk.drive.close();
  });

  it('virtio-blk: a read that fails half-way still reports what it may have written', async () => {
    const { blk, t, run } = await blkDevice();
    blk.drive.read = async (_offset: number, buf: Uint8Array) => {
      buf.fill(0xee, 0, 512);
      throw new BlockError('EIO', 'read error');
    };
    const audit = new WriteAudit(t.mem);
    const [buf, status] = await run([blkHeader(BlkRequest.In, 0)], [4096, 1]);
    expect(t.mem.read8(buf!)).toBe(0xee);
    expect(t.mem.read8(status!)).toBe(BlkStatus.IoErr);
    expect(audit.unreported()).toEqual([]);
    await blk.drive.close();
  });

  it('virtio-net: a received frame and its header', async () => {
    let receiver: FrameReceiver | undefined;
    const backend: NetBackend = {
      start: async () => {},
      send: () => {},
      attach: (r) => (receiver = r),
      receiveReady: () => {},
      counters: new NetCounters(),
      close: async () => {},
    };
    const net = new VirtioNet(backend, Uint8Array.from([0x52, 0x54, 0, 0x12, 0x34, 0x56]));
    const t = new TestDriver(net);
    t.init();
    const { out } = t.post(0, [], [1526]);
    t.notify(0);
    const audit = new WriteAudit(t.mem);
    const frame = udpFrame(ip('10.0.2.15'), 1, 2, new Uint8Array(100).fill(9));
    expect(receiver!(frame)).toBe(true);
    await new Promise<void>((r) => queueMicrotask(r));
    expect(t.used(0)).toHaveLength(1);
    expect(t.mem.read8(out[0]! + 12 + frame.length - 1)).toBe(9);
    expect(audit.unreported()).toEqual([]);
  });

  it('virtio-input: events', () => {
    const dev = new VirtioInput('keyboard');
    const t = new TestDriver(dev);
    t.init();
    for (let i = 0; i < 4; i++) t.post(0, [], [8]);
    t.notify(0);
    const audit = new WriteAudit(t.mem);
    dev.key(KEY.A, true);
    dev.sync();
    expect(t.used(0)).toHaveLength(2);
    expect(audit.unreported()).toEqual([]);
  });

  it('virtio-gpu: a response', () => {
    const t = new TestDriver(new VirtioGpu(new Framebuffer(64, 48), {}), 4 << 20);
    t.init();
    const cmd = new Uint8Array(24);
    new DataView(cmd.buffer).setUint32(0, GpuCmd.GetDisplayInfo, true);
    const audit = new WriteAudit(t.mem);
    t.post(0, [cmd], [408]);
    audit.reset(); // from here: only what the device writes
    t.notify(0);
    expect(t.used(0)).toHaveLength(1);
    expect(audit.reports.length).toBeGreaterThan(0);
    expect(audit.unreported()).toEqual([]);
  });
});
