// virtio-blk (virtio 1.2 section 5.2) on the virtio-mmio transport, served by a block driver
// (src/emulator-core/block: raw or a QCOW2 chain). One request queue; requests are taken from
// the ring when the driver notifies and run asynchronously, several at a time (the QCOW2 driver
// orders them itself), and complete in any order, as the spec allows.
//
// Features offered, as QEMU's virtio-blk-device does by default: SEG_MAX, BLK_SIZE, FLUSH
// (a write-back cache: the guest sends flushes, and a flush means durable), DISCARD and
// WRITE_ZEROES (one segment each), RO for a read-only drive. Guest data moves straight between
// the image and guest RAM (no copy), as DMA does. Every request is checked: the chain's shape
// (a header the device reads, a status byte it writes), sector ranges against the capacity,
// lengths in whole sectors, discard/write-zeroes segments and flags. A malformed chain is a
// VirtqueueError (the transport sets DEVICE_NEEDS_RESET, as QEMU's virtio_error does); a request
// that is well formed but cannot be done gets VIRTIO_BLK_S_IOERR or S_UNSUPP; a full host disk
// (ENOSPC) is an I/O error for the guest.
import type { BlockDriver, IoRequest } from '../../block';
import { checkState, saveState, type AccessSize, type SavedState, type StateDeclaration } from '../device';
import { GuestMemoryError } from '../guest-memory';
import { VirtioDeviceId, type VirtioContext, type VirtioDevice } from './virtio-device';
import { VirtqueueError, type DescriptorChain, type GuestBuffer, type SplitVirtqueue } from './virtqueue';

export const BlkFeature = {
  SegMax: 2n,
  Ro: 5n,
  BlkSize: 6n,
  Flush: 9n,
  Discard: 13n,
  WriteZeroes: 14n,
} as const;

export const BlkRequest = { In: 0, Out: 1, Flush: 4, GetId: 8, Discard: 11, WriteZeroes: 13 } as const;
export const BlkStatus = { Ok: 0, IoErr: 1, Unsupp: 2 } as const;

const SECTOR = 512;
const HEADER = 16;
const QUEUE_SIZE = 256;
/** QEMU's defaults: seg_max = queue size - 2; 4194303 sectors (BDRV_REQUEST_MAX_SECTORS) per discard/write-zeroes. */
const SEG_MAX = QUEUE_SIZE - 2;
const MAX_DWZ_SECTORS = 4194303;
const WRITE_ZEROES_FLAG_UNMAP = 1;
const ID_BYTES = 20;

export type BlkCacheMode = 'writeback' | 'writethrough' | 'unsafe';

export interface VirtioBlkOptions {
  readOnly?: boolean;
  /** writethrough: every write is flushed before it completes; unsafe: flushes do nothing. */
  cache?: BlkCacheMode;
  /** What GET_ID returns (up to 20 bytes); QEMU's `serial` property. */
  serial?: string;
  /** Discard granularity in bytes (the image's cluster size for QCOW2). */
  discardGranularity?: number;
}

export interface VirtioBlkCounters {
  reads: number;
  writes: number;
  flushes: number;
  discards: number;
  writeZeroes: number;
  ioErrors: number;
  unsupported: number;
  bytesRead: number;
  bytesWritten: number;
}

const STATE: StateDeclaration = {
  name: 'virtio-blk',
  version: 1,
  fields: { capacity: { kind: 'u64' } },
};

export class VirtioBlk implements VirtioDevice {
  readonly deviceId = VirtioDeviceId.Block;
  readonly features: bigint;
  readonly queueMaxSizes = [QUEUE_SIZE];
  readonly counters: VirtioBlkCounters = {
    reads: 0, writes: 0, flushes: 0, discards: 0, writeZeroes: 0, ioErrors: 0, unsupported: 0, bytesRead: 0, bytesWritten: 0,
  };
  private ctx: VirtioContext | undefined;
  /** Bumped on reset: requests of an older generation do not complete into the new rings. */
  private generation = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private signalScheduled = false;
  private readonly config = new Uint8Array(60);
  private readonly readOnly: boolean;
  private readonly cache: BlkCacheMode;
  private readonly serial: Uint8Array;

  constructor(
    readonly drive: BlockDriver,
    options: VirtioBlkOptions = {},
    /** Wakes the run loop when a request completes while the guest sleeps. */
    private readonly wake: () => void = () => {},
  ) {
    this.readOnly = options.readOnly ?? drive.readOnly;
    this.cache = options.cache ?? 'writeback';
    this.serial = new TextEncoder().encode(options.serial ?? '').subarray(0, ID_BYTES);
    let f = (1n << BlkFeature.SegMax) | (1n << BlkFeature.BlkSize) | (1n << BlkFeature.Flush);
    if (this.readOnly) f |= 1n << BlkFeature.Ro;
    else f |= (1n << BlkFeature.Discard) | (1n << BlkFeature.WriteZeroes);
    this.features = f;
    this.buildConfig(options.discardGranularity ?? 4096);
  }

  get capacitySectors(): number {
    return Math.floor(this.drive.length() / SECTOR);
  }

  /** struct virtio_blk_config (5.2.4), little-endian. */
  private buildConfig(granularity: number): void {
    const v = new DataView(this.config.buffer);
    v.setBigUint64(0, BigInt(this.capacitySectors), true); // capacity
    v.setUint32(12, SEG_MAX, true); // seg_max
    v.setUint32(20, SECTOR, true); // blk_size
    v.setUint16(34, 1, true); // num_queues
    v.setUint32(36, MAX_DWZ_SECTORS, true); // max_discard_sectors
    v.setUint32(40, 1, true); // max_discard_seg
    v.setUint32(44, Math.max(1, Math.floor(granularity / SECTOR)), true); // discard_sector_alignment
    v.setUint32(48, MAX_DWZ_SECTORS, true); // max_write_zeroes_sectors
    v.setUint32(52, 1, true); // max_write_zeroes_seg
    v.setUint8(56, 1); // write_zeroes_may_unmap
  }

  readConfig(offset: number, size: AccessSize): number {
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + (this.config[offset + i] ?? 0);
    return v >>> 0;
  }

  writeConfig(): void {
    // Nothing is writable without VIRTIO_BLK_F_CONFIG_WCE (not offered).
  }

  activate(ctx: VirtioContext): void {
    this.ctx = ctx;
  }

  reset(): void {
    this.ctx = undefined;
    this.generation++;
  }

  /** Resolves when every request taken from the ring has completed (before a snapshot). */
  async drain(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  get pendingRequests(): number {
    return this.inFlight.size;
  }

  saveState(): SavedState {
    return saveState(STATE, { capacity: BigInt(this.capacitySectors) });
  }

  loadState(state: SavedState): void {
    const f = checkState(STATE, state);
    if (Number(f.capacity) !== this.capacitySectors) {
      throw new RangeError(`virtio-blk: the drive has ${this.capacitySectors} sectors, the saved state ${f.capacity}`);
    }
  }

  notify(queue: number): void {
    const ctx = this.ctx;
    const vq = ctx?.queues[queue];
    if (!ctx || !vq || queue !== 0) return;
    // Chains are parsed here, synchronously: a malformed one throws to the transport.
    let started = false;
    for (let chain = vq.pop(); chain; chain = vq.pop()) {
      const req = this.parse(vq, chain);
      const gen = this.generation;
      const p = this.execute(req).then(
        (status) => this.complete(ctx, vq, req, status, gen),
        (err) => {
          // A ring or guest memory error while completing (or a bug): the device needs a reset.
          if (gen === this.generation) ctx.fail(err);
        },
      );
      this.inFlight.add(p);
      p.finally(() => this.inFlight.delete(p)).catch(() => undefined);
      started = true;
    }
    // The requests' I/O starts in promise jobs: have the machine run them now.
    if (started) ctx.kick();
  }

  private parse(vq: SplitVirtqueue, chain: DescriptorChain): Request {
    if (chain.readableLength < HEADER || chain.writableLength < 1) {
      throw new VirtqueueError('virtio-blk request without a header or a status byte');
    }
    const hdr = vq.readAll(chain, HEADER);
    const v = new DataView(hdr.buffer, hdr.byteOffset, HEADER);
    const type = v.getUint32(0, true);
    const sector = Number(v.getBigUint64(8, true));
    // The status is the last writable byte; data lies between the header and it.
    const out = skipBytes(chain.readable, HEADER);
    const inBufs = takeBytes(chain.writable, chain.writableLength - 1);
    const status = lastByte(chain.writable);
    return { chain, type, sector, out, outLength: chain.readableLength - HEADER, in: inBufs, inLength: chain.writableLength - 1, status, vq };
  }

  private async execute(req: Request): Promise<number> {
    const d = this.drive;
    const cap = this.capacitySectors;
    const mem = this.ctx!.mem;
    const rangeOk = (sector: number, bytes: number) =>
      Number.isSafeInteger(sector) && bytes % SECTOR === 0 && sector <= cap && bytes / SECTOR <= cap - sector;
    try {
      switch (req.type) {
        case BlkRequest.In: {
          if (!rangeOk(req.sector, req.inLength)) return this.ioErr();
          // Straight into guest RAM, as DMA does, reported written when the read is done (failed or
          // not); a scatter list of pages is one request to the image, which reads what lies back
          // to back in its file with one preadv.
          if (req.in.length === 1) await mem.writeInPlace(req.in[0]!.addr, req.in[0]!.len, (view) => d.read(req.sector * SECTOR, view));
          else if (req.in.length > 1) {
            const ranges = guestRanges(mem, req.sector * SECTOR, req.in);
            try {
              await d.readMany(ranges);
            } finally {
              for (const b of req.in) mem.noteWritten(b.addr, b.len);
            }
          }
          this.counters.reads++;
          this.counters.bytesRead += req.inLength;
          return BlkStatus.Ok;
        }
        case BlkRequest.Out: {
          if (this.readOnly || !rangeOk(req.sector, req.outLength)) return this.ioErr();
          if (req.out.length === 1) await d.write(req.sector * SECTOR, mem.slice(req.out[0]!.addr, req.out[0]!.len));
          else if (req.out.length > 1) await d.write(req.sector * SECTOR, gather(mem, req.out, req.outLength));
          if (this.cache === 'writethrough') await d.flush();
          this.counters.writes++;
          this.counters.bytesWritten += req.outLength;
          return BlkStatus.Ok;
        }
        case BlkRequest.Flush:
          if (this.cache !== 'unsafe') await d.flush();
          this.counters.flushes++;
          return BlkStatus.Ok;
        case BlkRequest.GetId: {
          const id = new Uint8Array(Math.min(ID_BYTES, this.serial.length + 1, req.inLength));
          id.set(this.serial.subarray(0, id.length));
          scatter(mem, req.in, id);
          return BlkStatus.Ok;
        }
        case BlkRequest.Discard:
        case BlkRequest.WriteZeroes:
          return await this.discardOrZero(req);
        default:
          this.counters.unsupported++;
          return BlkStatus.Unsupp;
      }
    } catch (err) {
      if (err instanceof VirtqueueError || err instanceof GuestMemoryError) throw err;
      // Host I/O errors, a full disk (ENOSPC), a corrupt image: the guest sees an I/O error.
      return this.ioErr();
    }
  }

  /** DISCARD and WRITE_ZEROES (5.2.6): one segment {sector le64, num_sectors le32, flags le32}. */
  private async discardOrZero(req: Request): Promise<number> {
    const zeroes = req.type === BlkRequest.WriteZeroes;
    if (this.readOnly) return this.ioErr();
    if (req.outLength < 16 || req.outLength > 16) {
      this.counters.unsupported++;
      return BlkStatus.Unsupp; // we offer one segment per request (max_*_seg = 1)
    }
    const seg = gather(this.ctx!.mem, req.out, 16);
    const v = new DataView(seg.buffer);
    const sector = Number(v.getBigUint64(0, true));
    const count = v.getUint32(8, true);
    const flags = v.getUint32(12, true);
    const cap = this.capacitySectors;
    if (count > MAX_DWZ_SECTORS || !Number.isSafeInteger(sector) || sector > cap || count > cap - sector) return this.ioErr();
    if (flags & ~WRITE_ZEROES_FLAG_UNMAP || (!zeroes && flags & WRITE_ZEROES_FLAG_UNMAP)) {
      this.counters.unsupported++;
      return BlkStatus.Unsupp;
    }
    if (zeroes) {
      await this.drive.writeZeroes(sector * SECTOR, count * SECTOR, { mayUnmap: (flags & WRITE_ZEROES_FLAG_UNMAP) !== 0 });
      if (this.cache === 'writethrough') await this.drive.flush();
      this.counters.writeZeroes++;
    } else {
      await this.drive.discard(sector * SECTOR, count * SECTOR);
      this.counters.discards++;
    }
    return BlkStatus.Ok;
  }

  private ioErr(): number {
    this.counters.ioErrors++;
    return BlkStatus.IoErr;
  }

  private complete(ctx: VirtioContext, vq: SplitVirtqueue, req: Request, status: number, gen: number): void {
    if (gen !== this.generation) return; // the device was reset meanwhile: the ring is not ours any more
    ctx.mem.write8(req.status, status);
    vq.push(req.chain.head, req.chain.writableLength);
    this.signal();
  }

  /** One interrupt for the requests that completed together. */
  private signal(): void {
    if (this.signalScheduled) return;
    this.signalScheduled = true;
    queueMicrotask(() => {
      this.signalScheduled = false;
      this.ctx?.usedBuffers(0);
      this.wake();
    });
  }
}

interface Request {
  chain: DescriptorChain;
  type: number;
  sector: number;
  /** Data the device reads (after the header). */
  out: GuestBuffer[];
  outLength: number;
  /** Data the device writes (before the status byte). */
  in: GuestBuffer[];
  inLength: number;
  /** Guest address of the status byte. */
  status: number;
  vq: SplitVirtqueue;
}

/** The buffers after the first `skip` bytes. */
function skipBytes(bufs: GuestBuffer[], skip: number): GuestBuffer[] {
  const out: GuestBuffer[] = [];
  for (const b of bufs) {
    if (skip >= b.len) {
      skip -= b.len;
      continue;
    }
    out.push({ addr: b.addr + skip, len: b.len - skip });
    skip = 0;
  }
  return out;
}

/** The first `n` bytes of the buffers. */
function takeBytes(bufs: GuestBuffer[], n: number): GuestBuffer[] {
  const out: GuestBuffer[] = [];
  for (const b of bufs) {
    if (n <= 0) break;
    const len = Math.min(n, b.len);
    if (len > 0) out.push({ addr: b.addr, len });
    n -= len;
  }
  return out;
}

function lastByte(bufs: GuestBuffer[]): number {
  for (let i = bufs.length - 1; i >= 0; i--) if (bufs[i]!.len > 0) return bufs[i]!.addr + bufs[i]!.len - 1;
  throw new VirtqueueError('virtio-blk request without a status byte');
}

/** The guest buffers of a scatter list as consecutive ranges of the disk from `offset` on. */
function guestRanges(mem: VirtioContext['mem'], offset: number, bufs: GuestBuffer[]): IoRequest[] {
  const out: IoRequest[] = [];
  for (const b of bufs) {
    out.push({ offset, data: mem.slice(b.addr, b.len) });
    offset += b.len;
  }
  return out;
}

function gather(mem: VirtioContext['mem'], bufs: GuestBuffer[], n: number): Uint8Array {
  const out = new Uint8Array(n);
  let at = 0;
  for (const b of bufs) {
    if (at >= n) break;
    const len = Math.min(b.len, n - at);
    out.set(mem.slice(b.addr, len), at);
    at += len;
  }
  return out;
}

function scatter(mem: VirtioContext['mem'], bufs: GuestBuffer[], data: Uint8Array): void {
  let at = 0;
  for (const b of bufs) {
    if (at >= data.length) break;
    const len = Math.min(b.len, data.length - at);
    mem.writeBytes(b.addr, data.subarray(at, at + len));
    at += len;
  }
}
