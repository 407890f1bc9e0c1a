// virtio-gpu, 2D only (virtio 1.2, 5.7), as QEMU's virtio-gpu-device: one scanout shown in the
// display library's Framebuffer (hence on VNC and in screendumps). The guest creates host-side
// resources, attaches guest pages as their backing, copies pixels in with TRANSFER_TO_HOST_2D,
// binds one to the scanout and flushes rectangles. Every guest number is checked; a bad one gets
// the spec's error response (QEMU's choice of error where the spec leaves it open), never a host
// exception. Layout: constants, state, config space, queues, commands, cursor, reset, vmstate.
import type { Framebuffer } from '../../display/framebuffer';
import { isSurfaceFormat, SURFACE_BYTES_PER_PIXEL, SurfaceFormat } from '../../display/surface-format';
import { checkState, saveState, type AccessSize, type SavedState, type StateDeclaration } from '../device';
import type { GuestMemory } from '../guest-memory';
import { VirtioDeviceId, type VirtioContext, type VirtioDevice } from './virtio-device';
import type { DescriptorChain, SplitVirtqueue } from './virtqueue';

/** Control types (5.7.6.7). */
export const GpuCmd = {
  GetDisplayInfo: 0x0100,
  ResourceCreate2d: 0x0101,
  ResourceUnref: 0x0102,
  SetScanout: 0x0103,
  ResourceFlush: 0x0104,
  TransferToHost2d: 0x0105,
  ResourceAttachBacking: 0x0106,
  ResourceDetachBacking: 0x0107,
  GetCapsetInfo: 0x0108,
  GetCapset: 0x0109,
  GetEdid: 0x010a,
  UpdateCursor: 0x0300,
  MoveCursor: 0x0301,
} as const;

export const GpuResp = {
  OkNodata: 0x1100,
  OkDisplayInfo: 0x1101,
  OkEdid: 0x1104,
  ErrUnspec: 0x1200,
  ErrOutOfMemory: 0x1201,
  ErrInvalidScanoutId: 0x1202,
  ErrInvalidResourceId: 0x1203,
  ErrInvalidContextId: 0x1204,
  ErrInvalidParameter: 0x1205,
} as const;

export const VIRTIO_GPU_F_EDID = 1n;
const FLAG_FENCE = 1;
const HDR_SIZE = 24;
const MAX_SCANOUTS = 16;
/** Queue 0 is controlq; 1 is cursorq, whose commands need no response body. */
const CURSORQ = 1;
/** QEMU's default max_hostmem: the total size of host-side resources. */
export const MAX_HOSTMEM = 256 * 1024 * 1024;
/** QEMU refuses more backing entries than this (virtio_gpu_create_mapping_iov). */
const MAX_BACKING_ENTRIES = 16384;
const MAX_RESOURCE_SIDE = 16384;

class GpuError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

interface Resource {
  id: number;
  format: SurfaceFormat;
  width: number;
  height: number;
  data: Uint8Array;
  backing: { addr: number; len: number }[] | null;
}

interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

const STATE: StateDeclaration = {
  name: 'virtio-gpu',
  version: 1,
  fields: {
    eventsRead: { kind: 'u32' },
    resources: { kind: 'bytes' },
    scanout: { kind: 'u32[]', length: 5 },
    cursor: { kind: 'u32[]', length: 5 },
  },
};

export interface VirtioGpuOptions {
  /** The scanout's preferred mode (QEMU's xres/yres default to 1280x800). */
  width?: number;
  height?: number;
  /** Offer VIRTIO_GPU_F_EDID and answer GET_EDID. */
  edid?: boolean;
}

export class VirtioGpu implements VirtioDevice {
  readonly deviceId = VirtioDeviceId.Gpu;
  readonly features: bigint;
  readonly queueMaxSizes = [256, 16];
  private readonly prefWidth: number;
  private readonly prefHeight: number;
  private ctx?: VirtioContext;
  private eventsRead = 0;
  private resources = new Map<number, Resource>();
  private hostmem = 0;
  /** The scanout: resource 0 when disabled, and the rectangle of the resource it shows. */
  private scanout = { resourceId: 0, x: 0, y: 0, w: 0, h: 0 };
  private cursorState = { resourceId: 0, hotX: 0, hotY: 0, x: 0, y: 0 };
  /** The last bad command, for logs and tests. */
  lastError: string | null = null;

  constructor(
    readonly framebuffer: Framebuffer,
    opts: VirtioGpuOptions = {},
  ) {
    this.prefWidth = opts.width ?? 1280;
    this.prefHeight = opts.height ?? 800;
    this.features = opts.edid === false ? 0n : 1n << VIRTIO_GPU_F_EDID;
  }

  // ---- config space (5.7.4): events_read, events_clear, num_scanouts, num_capsets ----

  readConfig(offset: number, size: AccessSize): number {
    const words = [this.eventsRead, 0, 1, 0];
    const word = words[offset >> 2] ?? 0;
    const shift = (offset & 3) * 8;
    const mask = size === 4 ? 0xffffffff : (1 << (size * 8)) - 1;
    return ((word >>> shift) & mask) >>> 0;
  }

  writeConfig(offset: number, _size: AccessSize, value: number): void {
    if (offset === 4) this.eventsRead &= ~value; // events_clear
  }

  // ---- queues ----

  activate(ctx: VirtioContext): void {
    this.ctx = ctx;
  }

  notify(queue: number): void {
    const ctx = this.ctx;
    const vq = ctx?.queues[queue];
    if (!ctx || !vq) return;
    let any = false;
    for (let chain = vq.pop(); chain; chain = vq.pop()) {
      const written = this.handle(ctx.mem, vq, chain, queue === CURSORQ);
      vq.push(chain.head, written);
      any = true;
    }
    if (any) ctx.usedBuffers(queue);
  }

  /** Runs one request; returns the bytes of response written. */
  private handle(mem: GuestMemory, vq: SplitVirtqueue, chain: DescriptorChain, cursor: boolean): number {
    // Requests are small except ATTACH_BACKING's entry list.
    const req = vq.readAll(chain, HDR_SIZE + 8 + 16 * MAX_BACKING_ENTRIES);
    if (req.length < HDR_SIZE) return this.respond(vq, chain, req, GpuResp.ErrUnspec, `request of ${req.length} bytes has no header`);
    const v = new DataView(req.buffer, req.byteOffset, req.byteLength);
    const type = v.getUint32(0, true);
    try {
      if (cursor) {
        this.cursorCommand(type, v);
        return this.respond(vq, chain, req, GpuResp.OkNodata);
      }
      switch (type) {
        case GpuCmd.GetDisplayInfo:
          return this.respond(vq, chain, req, GpuResp.OkDisplayInfo, null, this.displayInfo());
        case GpuCmd.ResourceCreate2d:
          this.create2d(need(v, 40));
          break;
        case GpuCmd.ResourceUnref:
          this.unref(need(v, 32).getUint32(24, true));
          break;
        case GpuCmd.SetScanout:
          this.setScanout(need(v, 48));
          break;
        case GpuCmd.ResourceFlush:
          this.flush(need(v, 48));
          break;
        case GpuCmd.TransferToHost2d:
          this.transfer(mem, need(v, 56));
          break;
        case GpuCmd.ResourceAttachBacking:
          this.attachBacking(mem, need(v, 32));
          break;
        case GpuCmd.ResourceDetachBacking:
          this.resource(need(v, 32).getUint32(24, true)).backing = null;
          break;
        case GpuCmd.GetEdid:
          if (!(this.ctx!.features & (1n << VIRTIO_GPU_F_EDID))) throw new GpuError(GpuResp.ErrUnspec, 'GET_EDID without VIRTIO_GPU_F_EDID');
          if (need(v, 32).getUint32(24, true) !== 0) throw new GpuError(GpuResp.ErrInvalidParameter, 'GET_EDID for a scanout other than 0');
          return this.respond(vq, chain, req, GpuResp.OkEdid, null, this.edidResponse());
        default:
          // 3D, blob and UUID commands: not offered, so not expected (QEMU answers ERR_UNSPEC).
          throw new GpuError(GpuResp.ErrUnspec, `command 0x${type.toString(16)} is not supported`);
      }
      return this.respond(vq, chain, req, GpuResp.OkNodata);
    } catch (e) {
      if (e instanceof GpuError) return this.respond(vq, chain, req, e.code, e.message);
      throw e;
    }
  }

  /** Writes the response header (fence echoed when asked, 5.7.6.7) and `body`. */
  private respond(vq: SplitVirtqueue, chain: DescriptorChain, req: Uint8Array, code: number, error: string | null = null, body?: Uint8Array): number {
    if (error) this.lastError = error;
    const out = new Uint8Array(HDR_SIZE + (body?.length ?? 0));
    const v = new DataView(out.buffer);
    v.setUint32(0, code, true);
    if (req.length >= HDR_SIZE) {
      const rv = new DataView(req.buffer, req.byteOffset, HDR_SIZE);
      const flags = rv.getUint32(4, true);
      if (flags & FLAG_FENCE) {
        v.setUint32(4, FLAG_FENCE, true);
        v.setBigUint64(8, rv.getBigUint64(8, true), true);
        v.setUint32(16, rv.getUint32(16, true), true);
        out[20] = req[20]!;
      }
    }
    if (body) out.set(body, HDR_SIZE);
    return vq.writeAll(chain, out);
  }

  // ---- commands ----

  private displayInfo(): Uint8Array {
    // 16 pmodes of { rect, enabled, flags }; scanout 0 enabled at the preferred size.
    const b = new Uint8Array(MAX_SCANOUTS * 24);
    const v = new DataView(b.buffer);
    v.setUint32(8, this.prefWidth, true);
    v.setUint32(12, this.prefHeight, true);
    v.setUint32(16, 1, true);
    return b;
  }

  private resource(id: number): Resource {
    const r = this.resources.get(id);
    if (!r) throw new GpuError(GpuResp.ErrInvalidResourceId, `no resource ${id}`);
    return r;
  }

  private create2d(v: DataView): void {
    const id = v.getUint32(24, true);
    const format = v.getUint32(28, true);
    const width = v.getUint32(32, true);
    const height = v.getUint32(36, true);
    if (id === 0 || this.resources.has(id)) throw new GpuError(GpuResp.ErrInvalidResourceId, `resource id ${id} is ${id === 0 ? 'reserved' : 'in use'}`);
    if (!isSurfaceFormat(format)) throw new GpuError(GpuResp.ErrInvalidParameter, `format ${format} is unknown`);
    if (width === 0 || height === 0 || width > MAX_RESOURCE_SIDE || height > MAX_RESOURCE_SIDE) {
      throw new GpuError(GpuResp.ErrInvalidParameter, `resource size ${width}x${height}`);
    }
    const bytes = width * height * SURFACE_BYTES_PER_PIXEL;
    if (this.hostmem + bytes > MAX_HOSTMEM) throw new GpuError(GpuResp.ErrOutOfMemory, `resources would take ${this.hostmem + bytes} bytes (limit ${MAX_HOSTMEM})`);
    this.hostmem += bytes;
    this.resources.set(id, { id, format, width, height, data: new Uint8Array(bytes), backing: null });
  }

  private unref(id: number): void {
    const r = this.resource(id);
    if (this.scanout.resourceId === id) this.scanout = { resourceId: 0, x: 0, y: 0, w: 0, h: 0 };
    if (this.cursorState.resourceId === id) this.cursorState.resourceId = 0;
    this.hostmem -= r.data.length;
    this.resources.delete(id);
  }

  private attachBacking(mem: GuestMemory, v: DataView): void {
    const r = this.resource(v.getUint32(24, true));
    const n = v.getUint32(28, true);
    if (r.backing) throw new GpuError(GpuResp.ErrUnspec, `resource ${r.id} already has backing`);
    if (n === 0 || n > MAX_BACKING_ENTRIES) throw new GpuError(GpuResp.ErrUnspec, `${n} backing entries`);
    if (v.byteLength < 32 + 16 * n) throw new GpuError(GpuResp.ErrUnspec, `attach-backing with ${n} entries is only ${v.byteLength} bytes`);
    const backing: { addr: number; len: number }[] = [];
    for (let i = 0; i < n; i++) {
      const addr = Number(v.getBigUint64(32 + 16 * i, true));
      const len = v.getUint32(40 + 16 * i, true);
      if (!Number.isSafeInteger(addr) || !mem.contains(addr, len)) {
        throw new GpuError(GpuResp.ErrUnspec, `backing entry ${i} at 0x${addr.toString(16)} (+${len}) is outside RAM`);
      }
      backing.push({ addr, len });
    }
    r.backing = backing;
  }

  private rect(v: DataView, at: number): Rect {
    return { x: v.getUint32(at, true), y: v.getUint32(at + 4, true), w: v.getUint32(at + 8, true), h: v.getUint32(at + 12, true) };
  }

  private checkInside(rect: Rect, r: Resource, what: string): void {
    // Sums of two u32s stay exact in doubles, so overflow cannot wrap a bad rectangle inside.
    if (rect.x + rect.w > r.width || rect.y + rect.h > r.height) {
      throw new GpuError(GpuResp.ErrInvalidParameter, `${what} ${rect.w}x${rect.h}+${rect.x}+${rect.y} outside resource ${r.id} (${r.width}x${r.height})`);
    }
  }

  private transfer(mem: GuestMemory, v: DataView): void {
    const rect = this.rect(v, 24);
    const offset = Number(v.getBigUint64(40, true));
    const r = this.resource(v.getUint32(48, true));
    this.checkInside(rect, r, 'transfer');
    if (!r.backing) throw new GpuError(GpuResp.ErrUnspec, `resource ${r.id} has no backing`);
    if (rect.w === 0 || rect.h === 0) return;
    const stride = r.width * SURFACE_BYTES_PER_PIXEL;
    const rowBytes = rect.w * SURFACE_BYTES_PER_PIXEL;
    const total = r.backing.reduce((n, b) => n + b.len, 0);
    // Row h of the rectangle is at offset + h*stride in the backing (QEMU's transfer_to_host_2d).
    if (!Number.isSafeInteger(offset) || offset + (rect.h - 1) * stride + rowBytes > total) {
      throw new GpuError(GpuResp.ErrInvalidParameter, `transfer reads past the ${total}-byte backing of resource ${r.id}`);
    }
    for (let h = 0; h < rect.h; h++) {
      const dst = (rect.y + h) * stride + rect.x * SURFACE_BYTES_PER_PIXEL;
      gather(mem, r.backing, offset + h * stride, r.data.subarray(dst, dst + rowBytes));
    }
  }

  private setScanout(v: DataView): void {
    const rect = this.rect(v, 24);
    const scanoutId = v.getUint32(40, true);
    const id = v.getUint32(44, true);
    if (scanoutId !== 0) throw new GpuError(GpuResp.ErrInvalidScanoutId, `scanout ${scanoutId} (there is 1)`);
    if (id === 0) {
      // Disabling the scanout: QEMU shows a blank display.
      this.scanout = { resourceId: 0, x: 0, y: 0, w: 0, h: 0 };
      this.framebuffer.fillRect(0, 0, this.framebuffer.width, this.framebuffer.height, 0);
      return;
    }
    const r = this.resource(id);
    if (rect.w === 0 || rect.h === 0) throw new GpuError(GpuResp.ErrInvalidParameter, 'empty scanout rectangle');
    this.checkInside(rect, r, 'scanout');
    this.scanout = { resourceId: id, ...rect };
    if (this.framebuffer.width !== rect.w || this.framebuffer.height !== rect.h) this.framebuffer.resize(rect.w, rect.h);
    this.show(r, { x: rect.x, y: rect.y, w: rect.w, h: rect.h });
  }

  private flush(v: DataView): void {
    const rect = this.rect(v, 24);
    const r = this.resource(v.getUint32(40, true));
    this.checkInside(rect, r, 'flush');
    if (this.scanout.resourceId !== r.id) return; // not on screen: nothing to show
    const s = this.scanout;
    const x0 = Math.max(rect.x, s.x);
    const y0 = Math.max(rect.y, s.y);
    const x1 = Math.min(rect.x + rect.w, s.x + s.w);
    const y1 = Math.min(rect.y + rect.h, s.y + s.h);
    if (x1 > x0 && y1 > y0) this.show(r, { x: x0, y: y0, w: x1 - x0, h: y1 - y0 });
  }

  /** Copies a rectangle of the scanout's resource (resource coordinates) to the framebuffer. */
  private show(r: Resource, rect: Rect): void {
    const stride = r.width * SURFACE_BYTES_PER_PIXEL;
    const offset = rect.y * stride + rect.x * SURFACE_BYTES_PER_PIXEL;
    this.framebuffer.blit(rect.x - this.scanout.x, rect.y - this.scanout.y, rect.w, rect.h, r.data, offset, stride, r.format);
  }

  // ---- cursor queue (5.7.6.10) ----

  private cursorCommand(type: number, v: DataView): void {
    need(v, 56);
    const scanoutId = v.getUint32(24, true);
    const x = v.getUint32(28, true);
    const y = v.getUint32(32, true);
    if (scanoutId !== 0) throw new GpuError(GpuResp.ErrInvalidScanoutId, `cursor on scanout ${scanoutId}`);
    this.cursorState.x = x;
    this.cursorState.y = y;
    if (type === GpuCmd.MoveCursor) return;
    if (type !== GpuCmd.UpdateCursor) throw new GpuError(GpuResp.ErrUnspec, `cursor command 0x${type.toString(16)}`);
    const id = v.getUint32(40, true);
    const hotX = v.getUint32(44, true);
    const hotY = v.getUint32(48, true);
    if (id === 0) {
      this.cursorState = { resourceId: 0, hotX: 0, hotY: 0, x, y };
      this.framebuffer.setCursor(null);
      return;
    }
    const r = this.resource(id);
    // Cursors are 64x64 in practice; refuse what the RFB Cursor pseudo-encoding could not carry.
    if (r.width > 256 || r.height > 256 || hotX >= r.width || hotY >= r.height) {
      throw new GpuError(GpuResp.ErrInvalidParameter, `cursor ${r.width}x${r.height} with hotspot ${hotX},${hotY}`);
    }
    this.cursorState = { resourceId: id, hotX, hotY, x, y };
    this.framebuffer.setCursor({ width: r.width, height: r.height, hotX, hotY, pixels: cursorPixels(r) });
  }

  // ---- EDID (VIRTIO_GPU_F_EDID): a 128-byte EDID 1.4 base block ----

  private edidResponse(): Uint8Array {
    const b = new Uint8Array(8 + 1024); // le32 size, le32 padding, u8 edid[1024]
    const edid = makeEdid(this.prefWidth, this.prefHeight);
    new DataView(b.buffer).setUint32(0, edid.length, true);
    b.set(edid, 8);
    return b;
  }

  // ---- reset and state ----

  reset(): void {
    this.ctx = undefined;
    this.eventsRead = 0;
    this.resources.clear();
    this.hostmem = 0;
    this.scanout = { resourceId: 0, x: 0, y: 0, w: 0, h: 0 };
    this.cursorState = { resourceId: 0, hotX: 0, hotY: 0, x: 0, y: 0 };
    this.lastError = null;
  }

  saveState(): SavedState {
    const parts: Uint8Array[] = [];
    for (const r of this.resources.values()) {
      const backing = r.backing ?? [];
      const head = new DataView(new ArrayBuffer(24 + 12 * backing.length));
      [r.id, r.format, r.width, r.height, r.backing ? 1 : 0, backing.length].forEach((n, i) => head.setUint32(i * 4, n, true));
      backing.forEach((e, i) => {
        head.setBigUint64(24 + 12 * i, BigInt(e.addr), true);
        head.setUint32(32 + 12 * i, e.len, true);
      });
      parts.push(new Uint8Array(head.buffer), r.data);
    }
    const resources = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      resources.set(p, o);
      o += p.length;
    }
    const s = this.scanout;
    const c = this.cursorState;
    return saveState(STATE, {
      eventsRead: this.eventsRead,
      resources,
      scanout: [s.resourceId, s.x, s.y, s.w, s.h],
      cursor: [c.resourceId, c.hotX, c.hotY, c.x, c.y],
    });
  }

  loadState(state: SavedState): void {
    const f = checkState(STATE, state);
    this.eventsRead = f.eventsRead as number;
    const bytes = f.resources as Uint8Array;
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.resources.clear();
    this.hostmem = 0;
    let o = 0;
    while (o < bytes.length) {
      const [id, format, width, height, hasBacking, n] = [0, 1, 2, 3, 4, 5].map((i) => v.getUint32(o + i * 4, true)) as [number, number, number, number, number, number];
      o += 24;
      const backing = Array.from({ length: n }, (_, i) => ({ addr: Number(v.getBigUint64(o + 12 * i, true)), len: v.getUint32(o + 8 + 12 * i, true) }));
      o += 12 * n;
      const size = width * height * SURFACE_BYTES_PER_PIXEL;
      const data = bytes.slice(o, o + size);
      o += size;
      this.resources.set(id, { id, format: format as SurfaceFormat, width, height, data, backing: hasBacking ? backing : null });
      this.hostmem += size;
    }
    const [sr, sx, sy, sw, sh] = f.scanout as number[];
    this.scanout = { resourceId: sr!, x: sx!, y: sy!, w: sw!, h: sh! };
    const [cr, hx, hy, cx, cy] = f.cursor as number[];
    this.cursorState = { resourceId: cr!, hotX: hx!, hotY: hy!, x: cx!, y: cy! };
    const r = this.resources.get(this.scanout.resourceId);
    if (r) {
      if (this.framebuffer.width !== sw || this.framebuffer.height !== sh) this.framebuffer.resize(sw!, sh!);
      this.show(r, { x: sx!, y: sy!, w: sw!, h: sh! });
    }
  }
}

/** A request shorter than its command's struct is malformed. */
function need(v: DataView, bytes: number): DataView {
  if (v.byteLength < bytes) throw new GpuError(GpuResp.ErrUnspec, `request of ${v.byteLength} bytes, the command needs ${bytes}`);
  return v;
}

/** Copies backing bytes [offset, offset + out.length) into `out` across the entries. */
function gather(mem: GuestMemory, backing: { addr: number; len: number }[], offset: number, out: Uint8Array): void {
  let skip = offset;
  let at = 0;
  for (const e of backing) {
    if (at >= out.length) return;
    if (skip >= e.len) {
      skip -= e.len;
      continue;
    }
    const n = Math.min(e.len - skip, out.length - at);
    out.set(mem.slice(e.addr + skip, n), at);
    at += n;
    skip = 0;
  }
}

/** A cursor resource as 0xAARRGGBB pixels (cursor formats carry alpha). */
function cursorPixels(r: Resource): Uint32Array {
  const out = new Uint32Array(r.width * r.height);
  const v = new DataView(r.data.buffer, r.data.byteOffset, r.data.byteLength);
  for (let i = 0; i < out.length; i++) {
    const [b0, b1, b2, b3] = [v.getUint8(i * 4), v.getUint8(i * 4 + 1), v.getUint8(i * 4 + 2), v.getUint8(i * 4 + 3)];
    let a: number, rr: number, g: number, b: number;
    switch (r.format) {
      case SurfaceFormat.B8G8R8A8: case SurfaceFormat.B8G8R8X8: [b, g, rr, a] = [b0, b1, b2, b3]; break;
      case SurfaceFormat.A8R8G8B8: case SurfaceFormat.X8R8G8B8: [a, rr, g, b] = [b0, b1, b2, b3]; break;
      case SurfaceFormat.R8G8B8A8: case SurfaceFormat.R8G8B8X8: [rr, g, b, a] = [b0, b1, b2, b3]; break;
      default: [a, b, g, rr] = [b0, b1, b2, b3];
    }
    out[i] = ((a << 24) | (rr << 16) | (g << 8) | b) >>> 0;
  }
  return out;
}

/**
 * An EDID 1.4 base block (VESA E-EDID) naming the preferred mode in its first detailed timing,
 * with CVT-like reduced blanking, as QEMU's qemu_edid_generate does for its xres/yres.
 */
export function makeEdid(width: number, height: number): Uint8Array {
  const e = new Uint8Array(128);
  e.set([0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00]);
  // Manufacturer "RHT" (QEMU's), product 0x1234, serial 0, week 1, year 2014+.
  const id = ((('R'.charCodeAt(0) - 64) << 10) | (('H'.charCodeAt(0) - 64) << 5) | ('T'.charCodeAt(0) - 64)) & 0x7fff;
  e[8] = id >> 8;
  e[9] = id & 0xff;
  e[10] = 0x34;
  e[11] = 0x12;
  e[16] = 1;
  e[17] = 24;
  e[18] = 1; // EDID version 1
  e[19] = 4; // revision 4
  e[20] = 0xa5; // digital input, 8 bits per colour, DisplayPort
  e[21] = Math.round(width / 37.8); // size in cm at ~96 dpi
  e[22] = Math.round(height / 37.8);
  e[23] = 120; // gamma 2.2
  e[24] = 0x06; // RGB colour, preferred timing includes native format and rate
  // Detailed timing 1 at 54: 60 Hz, reduced blanking (hblank 160, vblank ~ 23 lines).
  const hblank = 160;
  const vblank = Math.max(23, Math.ceil((height * 460) / 16_000) + 3);
  const clock10k = Math.round(((width + hblank) * (height + vblank) * 60) / 10_000);
  const d = 54;
  e[d] = clock10k & 0xff;
  e[d + 1] = clock10k >> 8;
  e[d + 2] = width & 0xff;
  e[d + 3] = hblank & 0xff;
  e[d + 4] = ((width >> 8) << 4) | (hblank >> 8);
  e[d + 5] = height & 0xff;
  e[d + 6] = vblank & 0xff;
  e[d + 7] = ((height >> 8) << 4) | (vblank >> 8);
  e[d + 8] = 48; // hsync offset
  e[d + 9] = 32; // hsync width
  e[d + 10] = (3 << 4) | 6; // vsync offset 3, width 6
  e[d + 11] = 0;
  e[d + 12] = e[21] * 10;
  e[d + 13] = e[22] * 10;
  e[d + 14] = 0;
  e[d + 17] = 0x1a; // digital separate sync, +hsync -vsync
  // Descriptor 2: display name.
  const n = 72;
  e.set([0, 0, 0, 0xfc, 0], n);
  const name = 'QEMU Monitor\n';
  for (let i = 0; i < 13; i++) e[n + 5 + i] = i < name.length ? name.charCodeAt(i) : 0x20;
  // Descriptors 3 and 4: dummy (type 0x10).
  e.set([0, 0, 0, 0x10, 0], 90);
  e.set([0, 0, 0, 0x10, 0], 108);
  e[126] = 0; // no extension blocks
  let sum = 0;
  for (let i = 0; i < 127; i++) sum += e[i]!;
  e[127] = (256 - (sum & 0xff)) & 0xff;
  return e;
}
