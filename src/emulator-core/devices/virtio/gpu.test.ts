import { describe, expect, it } from 'vitest';
import { Framebuffer } from '../../display/framebuffer';
import { SurfaceFormat } from '../../display/surface-format';
import { GpuCmd, GpuResp, makeEdid, VirtioGpu } from './gpu';
import { TestDriver } from './test-driver';

function up(opts = {}) {
  const fb = new Framebuffer(64, 48);
  const gpu = new VirtioGpu(fb, opts);
  const d = new TestDriver(gpu, 4 << 20);
  d.init();
  return { fb, gpu, d };
}

/** A command: header (type, flags, fence) then le32 fields; returns the response type and body. */
function cmd(d: TestDriver, type: number, fields: (number | bigint)[] = [], opts: { fence?: bigint; respBytes?: number; queue?: number; extra?: Uint8Array } = {}) {
  const b = new Uint8Array(24 + fields.reduce<number>((n, f) => n + (typeof f === 'bigint' ? 8 : 4), 0) + (opts.extra?.length ?? 0));
  const v = new DataView(b.buffer);
  v.setUint32(0, type, true);
  if (opts.fence !== undefined) {
    v.setUint32(4, 1, true);
    v.setBigUint64(8, opts.fence, true);
  }
  let o = 24;
  for (const f of fields) {
    if (typeof f === 'bigint') {
      v.setBigUint64(o, f, true);
      o += 8;
    } else {
      v.setUint32(o, f, true);
      o += 4;
    }
  }
  if (opts.extra) b.set(opts.extra, o);
  const q = opts.queue ?? 0;
  const { out } = d.post(q, [b], [opts.respBytes ?? 24]);
  d.notify(q);
  const used = d.used(q);
  expect(used.length).toBe(1);
  const resp = d.read(out[0]!, opts.respBytes ?? 24);
  const rv = new DataView(resp.buffer, resp.byteOffset);
  return { type: rv.getUint32(0, true), flags: rv.getUint32(4, true), fence: rv.getBigUint64(8, true), body: resp.subarray(24), written: used[0]![1] };
}

/** Guest pixels for a w*h resource in B8G8R8X8: pixel (x, y) = 0x00RRGGBB from f. */
function guestImage(d: TestDriver, w: number, h: number, f: (x: number, y: number) => number): number {
  const addr = d.alloc(w * h * 4, 4096);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) d.mem.write32(addr + (y * w + x) * 4, f(x, y));
  return addr;
}

function backingEntries(entries: [number, number][]): Uint8Array {
  const b = new Uint8Array(16 * entries.length);
  const v = new DataView(b.buffer);
  entries.forEach(([addr, len], i) => {
    v.setBigUint64(16 * i, BigInt(addr), true);
    v.setUint32(16 * i + 8, len, true);
  });
  return b;
}

const pattern = (x: number, y: number) => ((x * 4) << 16) | ((y * 5) << 8) | 0x40;

/** What Linux's virtio-gpu driver does to show a w*h framebuffer: create, attach, scanout, transfer, flush. */
function showPicture(d: TestDriver, w: number, h: number, id = 1, split = false) {
  const addr = guestImage(d, w, h, pattern);
  expect(cmd(d, GpuCmd.ResourceCreate2d, [id, SurfaceFormat.B8G8R8X8, w, h]).type).toBe(GpuResp.OkNodata);
  const half = (w * h * 4) / 2;
  const entries: [number, number][] = split ? [[addr, half], [addr + half, half]] : [[addr, w * h * 4]];
  expect(cmd(d, GpuCmd.ResourceAttachBacking, [id, entries.length], { extra: backingEntries(entries) }).type).toBe(GpuResp.OkNodata);
  expect(cmd(d, GpuCmd.TransferToHost2d, [0, 0, w, h, 0n, id, 0]).type).toBe(GpuResp.OkNodata);
  expect(cmd(d, GpuCmd.SetScanout, [0, 0, w, h, 0, id]).type).toBe(GpuResp.OkNodata);
  expect(cmd(d, GpuCmd.ResourceFlush, [0, 0, w, h, id, 0]).type).toBe(GpuResp.OkNodata);
  return addr;
}

describe('virtio-gpu 2D', () => {
  it('reports one scanout at the preferred size, and config space as the spec lays it out', () => {
    const { d } = up({ width: 800, height: 600 });
    const r = cmd(d, GpuCmd.GetDisplayInfo, [], { respBytes: 24 + 16 * 24 });
    expect(r.type).toBe(GpuResp.OkDisplayInfo);
    const v = new DataView(r.body.buffer, r.body.byteOffset);
    expect([v.getUint32(0, true), v.getUint32(4, true), v.getUint32(8, true), v.getUint32(12, true), v.getUint32(16, true)]).toEqual([0, 0, 800, 600, 1]);
    expect(v.getUint32(24 + 16, true)).toBe(0); // scanout 1 disabled
    expect(d.config32(8)).toBe(1); // num_scanouts
    expect(d.config32(12)).toBe(0); // num_capsets
  });

  it('shows a resource on the framebuffer: create, attach (scattered), transfer, scanout, flush', () => {
    const { fb, d } = up();
    showPicture(d, 40, 30, 1, true);
    expect([fb.width, fb.height]).toEqual([40, 30]);
    for (let y = 0; y < 30; y++) for (let x = 0; x < 40; x++) expect(fb.pixels[y * 40 + x]).toBe(pattern(x, y));
  });

  it('updates only the transferred and flushed rectangle', () => {
    const { fb, d } = up();
    const addr = showPicture(d, 40, 30);
    const damage: string[] = [];
    fb.subscribe({ damage: (r) => damage.push(`${r.x},${r.y} ${r.w}x${r.h}`), copy: () => {}, resize: () => {}, cursor: () => {} });
    for (let y = 10; y < 15; y++) for (let x = 5; x < 9; x++) d.mem.write32(addr + (y * 40 + x) * 4, 0xff00ff);
    // offset: the rectangle's first byte in the backing, as Linux computes it.
    expect(cmd(d, GpuCmd.TransferToHost2d, [5, 10, 4, 5, BigInt((10 * 40 + 5) * 4), 1, 0]).type).toBe(GpuResp.OkNodata);
    expect(fb.pixels[10 * 40 + 5]).toBe(pattern(5, 10)); // not flushed yet
    expect(cmd(d, GpuCmd.ResourceFlush, [5, 10, 4, 5, 1, 0]).type).toBe(GpuResp.OkNodata);
    expect(damage).toEqual(['5,10 4x5']);
    expect(fb.pixels[12 * 40 + 7]).toBe(0xff00ff);
    expect(fb.pixels[12 * 40 + 9]).toBe(pattern(9, 12));
  });

  it('answers bad commands with the spec error and keeps going', () => {
    const { d, fb } = up();
    const ramEnd = 0x8000_0000 + (4 << 20);
    const cases: [number, (number | bigint)[], number, Uint8Array?][] = [
      [GpuCmd.ResourceCreate2d, [0, SurfaceFormat.B8G8R8X8, 4, 4], GpuResp.ErrInvalidResourceId],
      [GpuCmd.ResourceCreate2d, [2, 999, 4, 4], GpuResp.ErrInvalidParameter],
      [GpuCmd.ResourceCreate2d, [2, SurfaceFormat.B8G8R8X8, 0, 4], GpuResp.ErrInvalidParameter],
      [GpuCmd.ResourceCreate2d, [2, SurfaceFormat.B8G8R8X8, 16384, 16384], GpuResp.ErrOutOfMemory],
      [GpuCmd.ResourceUnref, [77, 0], GpuResp.ErrInvalidResourceId],
      [GpuCmd.SetScanout, [0, 0, 4, 4, 3, 1], GpuResp.ErrInvalidScanoutId],
      [GpuCmd.ResourceFlush, [0, 0, 4, 4, 9, 0], GpuResp.ErrInvalidResourceId],
      [0x0999, [], GpuResp.ErrUnspec],
      [GpuCmd.ResourceCreate2d, [1], GpuResp.ErrUnspec], // too short
    ];
    for (const [type, fields, code] of cases) expect(cmd(d, type, fields).type, `0x${type.toString(16)} ${fields.join(',')}`).toBe(code);
    expect(cmd(d, GpuCmd.ResourceCreate2d, [1, SurfaceFormat.B8G8R8X8, 16, 16]).type).toBe(GpuResp.OkNodata);
    expect(cmd(d, GpuCmd.ResourceCreate2d, [1, SurfaceFormat.B8G8R8X8, 16, 16]).type).toBe(GpuResp.ErrInvalidResourceId);
    // Transfer before backing, backing outside RAM, a rectangle outside the resource, reading past the backing.
    expect(cmd(d, GpuCmd.TransferToHost2d, [0, 0, 16, 16, 0n, 1, 0]).type).toBe(GpuResp.ErrUnspec);
    expect(cmd(d, GpuCmd.ResourceAttachBacking, [1, 1], { extra: backingEntries([[ramEnd - 100, 1024]]) }).type).toBe(GpuResp.ErrUnspec);
    expect(cmd(d, GpuCmd.ResourceAttachBacking, [1, 2], { extra: backingEntries([[0x8001_0000, 1024]]) }).type).toBe(GpuResp.ErrUnspec); // 2 entries promised, 1 sent
    expect(cmd(d, GpuCmd.ResourceAttachBacking, [1, 1], { extra: backingEntries([[0x8001_0000, 512]]) }).type).toBe(GpuResp.OkNodata);
    expect(cmd(d, GpuCmd.TransferToHost2d, [8, 8, 9, 1, 0n, 1, 0]).type).toBe(GpuResp.ErrInvalidParameter);
    expect(cmd(d, GpuCmd.TransferToHost2d, [0, 0, 16, 16, 0n, 1, 0]).type).toBe(GpuResp.ErrInvalidParameter); // needs 1024 bytes
    expect(cmd(d, GpuCmd.TransferToHost2d, [0, 0, 16, 2, 0n, 1, 0]).type).toBe(GpuResp.OkNodata);
    expect(cmd(d, GpuCmd.TransferToHost2d, [0, 0, 16, 2, 0xffff_ffff_ffff_ffffn, 1, 0]).type).toBe(GpuResp.ErrInvalidParameter);
    expect(cmd(d, GpuCmd.SetScanout, [10, 10, 16, 16, 0, 1]).type).toBe(GpuResp.ErrInvalidParameter);
    expect([fb.width, fb.height]).toEqual([64, 48]); // nothing bad reached the screen
  });

  it('echoes fences, frees resources on unref (the scanout goes blank), and refuses double backing', () => {
    const { d } = up();
    showPicture(d, 8, 8);
    const r = cmd(d, GpuCmd.ResourceFlush, [0, 0, 8, 8, 1, 0], { fence: 0x1234n });
    expect([r.type, r.flags, r.fence]).toEqual([GpuResp.OkNodata, 1, 0x1234n]);
    expect(cmd(d, GpuCmd.ResourceAttachBacking, [1, 1], { extra: backingEntries([[0x8001_0000, 256]]) }).type).toBe(GpuResp.ErrUnspec);
    expect(cmd(d, GpuCmd.ResourceDetachBacking, [1, 0]).type).toBe(GpuResp.OkNodata);
    expect(cmd(d, GpuCmd.TransferToHost2d, [0, 0, 8, 8, 0n, 1, 0]).type).toBe(GpuResp.ErrUnspec);
    expect(cmd(d, GpuCmd.ResourceUnref, [1, 0]).type).toBe(GpuResp.OkNodata);
    expect(cmd(d, GpuCmd.ResourceFlush, [0, 0, 8, 8, 1, 0]).type).toBe(GpuResp.ErrInvalidResourceId);
    // The id is free again, and 256 MiB of host memory is the limit, not a leak.
    for (let i = 0; i < 3; i++) {
      expect(cmd(d, GpuCmd.ResourceCreate2d, [5, SurfaceFormat.B8G8R8X8, 8000, 8000]).type).toBe(GpuResp.OkNodata);
      expect(cmd(d, GpuCmd.ResourceUnref, [5, 0]).type).toBe(GpuResp.OkNodata);
    }
  });

  it('takes cursor images from a resource on the cursor queue', () => {
    const { d, fb } = up();
    const addr = guestImage(d, 64, 64, () => 0);
    d.mem.write32(addr, 0xff112233); // top-left opaque
    cmd(d, GpuCmd.ResourceCreate2d, [7, SurfaceFormat.B8G8R8A8, 64, 64]);
    cmd(d, GpuCmd.ResourceAttachBacking, [7, 1], { extra: backingEntries([[addr, 64 * 64 * 4]]) });
    cmd(d, GpuCmd.TransferToHost2d, [0, 0, 64, 64, 0n, 7, 0]);
    const r = cmd(d, GpuCmd.UpdateCursor, [0, 100, 50, 0, 7, 3, 4, 0], { queue: 1 });
    expect(r.type).toBe(GpuResp.OkNodata);
    expect(fb.cursor).toMatchObject({ width: 64, height: 64, hotX: 3, hotY: 4 });
    expect(fb.cursor!.pixels[0]).toBe(0xff112233);
    cmd(d, GpuCmd.MoveCursor, [0, 10, 10, 0, 0, 0, 0, 0], { queue: 1 });
    expect(fb.cursor).not.toBeNull();
    cmd(d, GpuCmd.UpdateCursor, [0, 0, 0, 0, 0, 0, 0, 0], { queue: 1 });
    expect(fb.cursor).toBeNull();
  });

  it('gives an EDID with a valid checksum and the preferred mode', () => {
    const { d } = up({ width: 1024, height: 768 });
    const r = cmd(d, GpuCmd.GetEdid, [0, 0], { respBytes: 24 + 8 + 1024 });
    expect(r.type).toBe(GpuResp.OkEdid);
    const size = new DataView(r.body.buffer, r.body.byteOffset).getUint32(0, true);
    expect(size).toBe(128);
    const edid = r.body.subarray(8, 8 + 128);
    expect([...edid.subarray(0, 8)]).toEqual([0, 255, 255, 255, 255, 255, 255, 0]);
    expect(edid.reduce((a, b) => a + b, 0) % 256).toBe(0);
    expect(edid[56]! | ((edid[58]! >> 4) << 8)).toBe(1024);
    expect(edid[59]! | ((edid[61]! >> 4) << 8)).toBe(768);
    expect(makeEdid(1280, 800).length).toBe(128);
  });

  it('round-trips its state and puts the scanout back on the framebuffer', () => {
    const { gpu, d } = up();
    showPicture(d, 20, 10);
    const fb2 = new Framebuffer(4, 4);
    const b = new VirtioGpu(fb2);
    b.loadState(gpu.saveState());
    expect(b.saveState()).toEqual(gpu.saveState());
    expect([fb2.width, fb2.height]).toEqual([20, 10]);
    expect(fb2.pixels[5 * 20 + 7]).toBe(pattern(7, 5));
  });
});
