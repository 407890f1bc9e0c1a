// virtio-net (virtio 1.2 section 5.1) on the virtio-mmio transport, attached to a network backend
// (src/emulator-core/net: the user-mode stack or a socket link). One receive and one transmit
// queue, no control queue.
//
// Features offered: MAC, STATUS (link always up), CSUM (the guest may hand us frames with a
// partial checksum: we complete it before the backend sees the frame), GUEST_CSUM (frames from
// a backend whose checksums are known good, the user-mode stack, are marked DATA_VALID so the
// guest does not verify them again) and, for a backend that takes them whole (the user-mode
// stack), HOST_TSO4: the guest sends TCP in segments of up to 64 KiB, which saves it most of its
// per-packet work. Not offered, a documented subset: MRG_RXBUF, GUEST_TSO/UFO (the receive
// direction), HOST_TSO6/ECN/UFO, CTRL_VQ, MQ, MTU. So every received frame fits one descriptor chain, which
// is what Linux posts without MRG_RXBUF (a header and 1514 bytes or more); a larger frame, which
// only a socket link peer could send, is dropped and counted.
import { checkState, saveState, type AccessSize, type SavedState, type StateDeclaration } from '../device';
import { GuestMemoryError } from '../guest-memory';
import type { NetBackend } from '../../net/backend';
import { VirtioDeviceId, type VirtioContext, type VirtioDevice } from './virtio-device';
import { VirtqueueError } from './virtqueue';

export const NetFeature = {
  Csum: 0n,
  GuestCsum: 1n,
  Mac: 5n,
  HostTso4: 11n,
  Status: 16n,
} as const;

/** struct virtio_net_hdr (5.1.6): with VERSION_1 it always carries num_buffers, 12 bytes. */
export const NET_HDR_LEN = 12;
const HDR_F_NEEDS_CSUM = 1;
const HDR_F_DATA_VALID = 2;
const GSO_NONE = 0;
const GSO_TCPV4 = 1;
const LINK_UP = 1;
const RX = 0;
const TX = 1;
/** Queue sizes we offer (QEMU's default rx/tx_queue_size). */
const QUEUE_SIZE = 256;
/** The largest frame we take from the guest: a 64 KiB datagram (a TSO segment) in Ethernet + VLAN. */
const MAX_TX_FRAME = 65535 + 18;

const STATE: StateDeclaration = {
  name: 'virtio-net',
  version: 1,
  fields: { mac: { kind: 'bytes', length: 6 } },
};

export interface VirtioNetCounters {
  txFrames: number;
  txBadHeader: number;
  rxFrames: number;
  /** Frames the backend had for a guest whose driver was not running. */
  rxNoDriver: number;
  /** Frames larger than the guest's receive buffer. */
  rxTooBig: number;
}

export class VirtioNet implements VirtioDevice {
  readonly deviceId = VirtioDeviceId.Net;
  readonly features: bigint;
  readonly queueMaxSizes = [QUEUE_SIZE, QUEUE_SIZE];
  readonly counters: VirtioNetCounters = { txFrames: 0, txBadHeader: 0, rxFrames: 0, rxNoDriver: 0, rxTooBig: 0 };
  private ctx: VirtioContext | undefined;
  private mac: Uint8Array;
  private signalScheduled = false;
  /** A guest ring error on the receive path (outside a notify): receiving stops until reset. */
  private broken = false;

  constructor(
    readonly backend: NetBackend,
    mac: Uint8Array,
    /** Wakes the run loop when a frame arrives for a sleeping guest. */
    private readonly wake: () => void = () => {},
  ) {
    if (mac.length !== 6) throw new RangeError('a MAC address has 6 bytes');
    this.mac = mac.slice();
    this.features =
      (1n << NetFeature.Csum) |
      (1n << NetFeature.GuestCsum) |
      (1n << NetFeature.Mac) |
      (1n << NetFeature.Status) |
      (backend.acceptsTcpGso ? 1n << NetFeature.HostTso4 : 0n);
    backend.attach((frame) => this.receive(frame));
  }

  get macAddress(): Uint8Array {
    return this.mac.slice();
  }

  // ---- config space (5.1.4): mac[6], status le16, max_virtqueue_pairs le16 ----

  readConfig(offset: number, size: AccessSize): number {
    const bytes = [...this.mac, LINK_UP, 0, 1, 0];
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + (bytes[offset + i] ?? 0);
    return v >>> 0;
  }

  writeConfig(): void {
    // Read-only for a 1.x driver (the MAC changes only through the control queue, not offered).
  }

  activate(ctx: VirtioContext): void {
    this.ctx = ctx;
    this.broken = false;
    this.backend.receiveReady();
  }

  notify(queue: number): void {
    if (queue === TX) this.transmit();
    else if (queue === RX) this.backend.receiveReady(); // the guest posted receive buffers
  }

  reset(): void {
    this.ctx = undefined;
    this.broken = false;
  }

  saveState(): SavedState {
    return saveState(STATE, { mac: this.mac.slice() });
  }

  loadState(state: SavedState): void {
    const f = checkState(STATE, state);
    this.mac = (f.mac as Uint8Array).slice();
  }

  // ---- transmit: guest -> backend ----

  private transmit(): void {
    const ctx = this.ctx!;
    const vq = ctx.queues[TX];
    if (!vq) return;
    let any = false;
    // Ring errors propagate to the transport, which marks the device NEEDS_RESET.
    for (let chain = vq.pop(); chain; chain = vq.pop()) {
      any = true;
      const len = chain.readableLength;
      if (len < NET_HDR_LEN || len > NET_HDR_LEN + MAX_TX_FRAME) {
        this.counters.txBadHeader++;
        vq.push(chain.head, 0);
        continue;
      }
      const buf = vq.readAll(chain);
      vq.push(chain.head, 0);
      const frame = buf.subarray(NET_HDR_LEN);
      if (!this.checkTxHeader(buf, frame, ctx.features)) {
        this.counters.txBadHeader++;
        continue;
      }
      this.counters.txFrames++;
      this.backend.send(frame);
    }
    if (any) ctx.usedBuffers(TX);
  }

  /** Validates the header; completes a partial checksum (VIRTIO_NET_F_CSUM, 5.1.6.2). */
  private checkTxHeader(hdr: Uint8Array, frame: Uint8Array, features: bigint): boolean {
    const flags = hdr[0]!;
    const gso = hdr[1]!;
    if (gso !== GSO_NONE) {
      // Only TCPv4 without ECN, only if negotiated, and always with a checksum to complete (5.1.6.2).
      if (gso !== GSO_TCPV4 || !((features >> NetFeature.HostTso4) & 1n) || !(flags & HDR_F_NEEDS_CSUM)) return false;
    }
    if (!(flags & HDR_F_NEEDS_CSUM)) return true;
    if (!((features >> NetFeature.Csum) & 1n)) return false;
    const start = hdr[6]! | (hdr[7]! << 8);
    const offset = hdr[8]! | (hdr[9]! << 8);
    // The checksum field lies inside the frame and after csum_start (both guest-supplied).
    if (start >= frame.length || start + offset + 2 > frame.length) return false;
    // The field holds the pseudo-header sum already; the checksum from csum_start to the end
    // of the frame, folded and complemented, is the final value (5.1.6.2.1).
    let sum = 0;
    let i = start;
    for (; i + 1 < frame.length; i += 2) sum += (frame[i]! << 8) | frame[i + 1]!;
    if (i < frame.length) sum += frame[i]! << 8;
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    const c = ~sum & 0xffff;
    frame[start + offset] = c >>> 8;
    frame[start + offset + 1] = c & 0xff;
    return true;
  }

  // ---- receive: backend -> guest ----

  /** The backend's receiver: false asks it to hold the frame until the guest posts buffers. */
  private receive(frame: Uint8Array): boolean {
    const ctx = this.ctx;
    if (!ctx || this.broken) {
      this.counters.rxNoDriver++;
      return true; // no driver: the frame is dropped (a cable with nothing listening)
    }
    const vq = ctx.queues[RX];
    if (!vq) {
      this.counters.rxNoDriver++;
      return true;
    }
    try {
      const chain = vq.pop();
      if (!chain) return false;
      if (chain.writableLength < NET_HDR_LEN + frame.length) {
        this.counters.rxTooBig++;
        vq.push(chain.head, 0);
        this.signal();
        return true;
      }
      const hdr = new Uint8Array(NET_HDR_LEN);
      if (this.backend.framesHaveValidChecksums && (ctx.features >> NetFeature.GuestCsum) & 1n) hdr[0] = HDR_F_DATA_VALID;
      hdr[10] = 1; // num_buffers: 1 without MRG_RXBUF (5.1.6.3.2)
      vq.writeAll(chain, hdr);
      vq.writeAll(chain, frame, NET_HDR_LEN);
      vq.push(chain.head, NET_HDR_LEN + frame.length);
      this.counters.rxFrames++;
      this.signal();
      return true;
    } catch (e) {
      if (!(e instanceof VirtqueueError || e instanceof GuestMemoryError)) throw e;
      // A broken receive ring outside a notify: the transport marks NEEDS_RESET.
      this.broken = true;
      ctx.fail(e);
      return true;
    }
  }

  /** One interrupt for a batch of received frames (the backend delivers them in one go). */
  private signal(): void {
    if (this.signalScheduled) return;
    this.signalScheduled = true;
    queueMicrotask(() => {
      this.signalScheduled = false;
      const ctx = this.ctx;
      if (!ctx) return;
      ctx.usedBuffers(RX);
      this.wake();
    });
  }
}
