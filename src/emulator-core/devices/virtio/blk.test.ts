import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BlockError, createQcow2, openImage, type BlockDriver } from '../../block';
import { BlkFeature, BlkRequest, BlkStatus, VirtioBlk } from './blk';
import { Reg, Status } from './mmio';
import { TestDriver } from './test-driver';

const dir = mkdtempSync(path.join(tmpdir(), 'viv-blk-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function header(type: number, sector: number): Uint8Array {
  const h = new Uint8Array(16);
  const v = new DataView(h.buffer);
  v.setUint32(0, type, true);
  v.setBigUint64(8, BigInt(sector), true);
  return h;
}

function segment(sector: number, count: number, flags: number): Uint8Array {
  const s = new Uint8Array(16);
  const v = new DataView(s.buffer);
  v.setBigUint64(0, BigInt(sector), true);
  v.setUint32(8, count, true);
  v.setUint32(12, flags, true);
  return s;
}

async function image(size = 8 << 20, format: 'qcow2' | 'raw' = 'qcow2'): Promise<BlockDriver> {
  const file = path.join(dir, `d${Math.random().toString(36).slice(2)}.${format}`);
  if (format === 'raw') writeFileSync(file, new Uint8Array(size));
  else await createQcow2(file, { size });
  return openImage(file, { format });
}

/** Posts a request, waits for it, returns [status, used length, the data written to the guest]. */
async function request(t: TestDriver, blk: VirtioBlk, readable: Uint8Array[], writable: number[]) {
  const { head, out } = t.post(0, readable, writable);
  t.notify(0);
  await blk.drain();
  await new Promise((r) => setTimeout(r, 0));
  const used = t.used(0);
  expect(used.map((u) => u[0])).toEqual([head]);
  const statusAddr = out[out.length - 1]! + writable[writable.length - 1]! - 1;
  const data = out.slice(0, -1).map((a, i) => t.read(a, writable[i]!));
  if (writable[writable.length - 1]! > 1) data.push(t.read(out[out.length - 1]!, writable[writable.length - 1]! - 1));
  return { status: t.mem.read8(statusAddr), len: used[0]![1], data };
}

describe('virtio-blk', () => {
  it('presents capacity, segment and block size, discard and write-zeroes limits', async () => {
    const blk = new VirtioBlk(await image(8 << 20), { discardGranularity: 65536 });
    const t = new TestDriver(blk);
    expect(t.config32(0)).toBe((8 << 20) / 512);
    expect(t.config32(4)).toBe(0);
    expect(t.config32(12)).toBe(254);
    expect(t.config32(20)).toBe(512);
    expect(t.config32(36)).toBe(4194303);
    expect(t.config32(40)).toBe(1);
    expect(t.config32(44)).toBe(128);
    expect(t.config32(48)).toBe(4194303);
    expect(t.config8(56)).toBe(1);
    for (const f of [BlkFeature.SegMax, BlkFeature.BlkSize, BlkFeature.Flush, BlkFeature.Discard, BlkFeature.WriteZeroes]) {
      expect((blk.features >> f) & 1n).toBe(1n);
    }
    expect((blk.features >> BlkFeature.Ro) & 1n).toBe(0n);
    await blk.drive.close();
  });

  it('writes, reads back (one buffer and a scatter list), flushes', async () => {
    const blk = new VirtioBlk(await image());
    const t = new TestDriver(blk, 4 << 20);
    t.init();
    const data = Uint8Array.from({ length: 8192 }, (_, i) => (i * 7) & 255);
    let r = await request(t, blk, [header(BlkRequest.Out, 10), data], [1]);
    expect(r.status).toBe(BlkStatus.Ok);
    expect(r.len).toBe(1);
    r = await request(t, blk, [header(BlkRequest.Out, 100), data.subarray(0, 4096), data.subarray(4096)], [1]);
    expect(r.status).toBe(BlkStatus.Ok);
    r = await request(t, blk, [header(BlkRequest.In, 10)], [8192, 1]);
    expect(r.status).toBe(BlkStatus.Ok);
    expect(r.len).toBe(8193);
    expect(Buffer.from(r.data[0]!).equals(Buffer.from(data))).toBe(true);
    r = await request(t, blk, [header(BlkRequest.In, 100)], [512, 3584, 4096, 1]);
    expect(Buffer.concat(r.data.slice(0, 3)).equals(Buffer.from(data))).toBe(true);
    r = await request(t, blk, [header(BlkRequest.Flush, 0)], [1]);
    expect(r.status).toBe(BlkStatus.Ok);
    expect(blk.counters).toMatchObject({ reads: 2, writes: 2, flushes: 1 });
    // Every notify that started a request asked the machine for a host turn, once.
    expect(t.kicks).toBe(5);
    t.notify(0);
    expect(t.kicks).toBe(5); // nothing new in the ring: nothing to start
    await blk.drive.close();
  });

  it('a scatter list of pages lands in guest RAM, qcow2 and raw alike', async () => {
    for (const format of ['qcow2', 'raw'] as const) {
      const blk = new VirtioBlk(await image(4 << 20, format));
      const t = new TestDriver(blk, 4 << 20);
      t.init();
      const data = Uint8Array.from({ length: 12 * 4096 }, (_, i) => (i * 13 + (i >> 12)) & 255);
      expect((await request(t, blk, [header(BlkRequest.Out, 64), data], [1])).status).toBe(BlkStatus.Ok);
      // 12 pages, each its own descriptor (a guest buffer of scattered pages), two odd-sized.
      const sizes = [...Array.from({ length: 10 }, () => 4096), 2048, 6144];
      const r = await request(t, blk, [header(BlkRequest.In, 64)], [...sizes, 1]);
      expect(r.status).toBe(BlkStatus.Ok);
      expect(Buffer.concat(r.data.slice(0, sizes.length)).equals(Buffer.from(data)), format).toBe(true);
      await blk.drive.close();
    }
  });

  it('refuses out-of-range and partial-sector requests, unknown types; answers GET_ID', async () => {
    const blk = new VirtioBlk(await image(1 << 20), { serial: 'VIV-DISK-0001' });
    const t = new TestDriver(blk, 4 << 20);
    t.init();
    expect((await request(t, blk, [header(BlkRequest.In, 2047)], [1024, 1])).status).toBe(BlkStatus.IoErr);
    expect((await request(t, blk, [header(BlkRequest.Out, 2048), new Uint8Array(512)], [1])).status).toBe(BlkStatus.IoErr);
    expect((await request(t, blk, [header(BlkRequest.Out, 0), new Uint8Array(100)], [1])).status).toBe(BlkStatus.IoErr);
    expect((await request(t, blk, [header(BlkRequest.In, 2 ** 60)], [512, 1])).status).toBe(BlkStatus.IoErr);
    expect((await request(t, blk, [header(99, 0)], [1])).status).toBe(BlkStatus.Unsupp);
    const id = await request(t, blk, [header(BlkRequest.GetId, 0)], [20, 1]);
    expect(id.status).toBe(BlkStatus.Ok);
    expect(new TextDecoder().decode(id.data[0]!.subarray(0, 13))).toBe('VIV-DISK-0001');
    await blk.drive.close();
  });

  it('discards and writes zeroes (one segment), refusing unknown flags and several segments', async () => {
    const blk = new VirtioBlk(await image());
    const t = new TestDriver(blk, 4 << 20);
    t.init();
    const ones = new Uint8Array(256 * 1024).fill(1);
    await request(t, blk, [header(BlkRequest.Out, 0), ones], [1]);
    expect((await request(t, blk, [header(BlkRequest.WriteZeroes, 0), segment(1, 2, 1)], [1])).status).toBe(BlkStatus.Ok);
    expect((await request(t, blk, [header(BlkRequest.Discard, 0), segment(128, 128, 0)], [1])).status).toBe(BlkStatus.Ok);
    expect((await request(t, blk, [header(BlkRequest.Discard, 0), segment(0, 1, 1)], [1])).status).toBe(BlkStatus.Unsupp);
    expect((await request(t, blk, [header(BlkRequest.WriteZeroes, 0), segment(0, 1, 4)], [1])).status).toBe(BlkStatus.Unsupp);
    expect((await request(t, blk, [header(BlkRequest.WriteZeroes, 0), segment(0, 1, 0), segment(5, 1, 0)], [1])).status).toBe(BlkStatus.Unsupp);
    expect((await request(t, blk, [header(BlkRequest.WriteZeroes, 0), segment(16383, 2, 0)], [1])).status).toBe(BlkStatus.IoErr);
    const r = await request(t, blk, [header(BlkRequest.In, 0)], [256 * 1024, 1]);
    const got = r.data[0]!;
    expect(got.subarray(0, 512).every((b) => b === 1)).toBe(true);
    expect(got.subarray(512, 1536).every((b) => b === 0)).toBe(true);
    expect(got.subarray(1536, 65536).every((b) => b === 1)).toBe(true);
    expect(got.subarray(65536, 131072).every((b) => b === 0)).toBe(true); // the discarded cluster reads as zeros
    await blk.drive.close();
  });

  it('read-only: RO offered, writes are I/O errors', async () => {
    const file = path.join(dir, 'ro.qcow2');
    await createQcow2(file, { size: 1 << 20 });
    const blk = new VirtioBlk(await openImage(file, { readOnly: true }));
    expect((blk.features >> BlkFeature.Ro) & 1n).toBe(1n);
    expect((blk.features >> BlkFeature.Discard) & 1n).toBe(0n);
    const t = new TestDriver(blk, 4 << 20);
    t.init();
    expect((await request(t, blk, [header(BlkRequest.Out, 0), new Uint8Array(512)], [1])).status).toBe(BlkStatus.IoErr);
    expect((await request(t, blk, [header(BlkRequest.In, 0)], [512, 1])).status).toBe(BlkStatus.Ok);
    await blk.drive.close();
  });

  it('a full host disk (ENOSPC) is an I/O error for the guest', async () => {
    const inner = await image();
    const full: BlockDriver = Object.create(inner, {
      write: { value: async () => { throw new BlockError('ENOSPC', 'No space left on device'); } },
    });
    const blk = new VirtioBlk(full);
    const t = new TestDriver(blk, 4 << 20);
    t.init();
    expect((await request(t, blk, [header(BlkRequest.Out, 0), new Uint8Array(4096)], [1])).status).toBe(BlkStatus.IoErr);
    expect(blk.counters.ioErrors).toBe(1);
    await inner.close();
  });

  it('a request without a status byte breaks the device (NEEDS_RESET), not the host', async () => {
    const blk = new VirtioBlk(await image());
    const t = new TestDriver(blk, 4 << 20);
    t.init();
    t.post(0, [header(BlkRequest.In, 0)], []);
    t.notify(0);
    expect(t.r(Reg.Status) & Status.NeedsReset).toBeTruthy();
    await blk.drive.close();
  });

  it('a reset while a request runs: the old request does not complete into the new rings', async () => {
    const blk = new VirtioBlk(await image());
    const t = new TestDriver(blk, 4 << 20);
    t.init();
    t.post(0, [header(BlkRequest.In, 0)], [65536, 1]);
    t.notify(0);
    t.w(Reg.Status, 0); // reset before the read completes
    await blk.drain();
    expect(blk.pendingRequests).toBe(0);
    expect(t.used(0)).toEqual([]);
    await blk.drive.close();
  });

  it('saves and loads its state (the capacity must match)', async () => {
    const blk = new VirtioBlk(await image(1 << 20));
    const s = blk.saveState();
    expect(() => blk.loadState(s)).not.toThrow();
    const other = new VirtioBlk(await image(2 << 20));
    expect(() => other.loadState(s)).toThrow(/sectors/);
    await blk.drive.close();
    await other.drive.close();
  });
});
