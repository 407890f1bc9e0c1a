// What a NIC sees of a network backend (QEMU's NetClientState peer): frames in, frames out,
// counters. The user-mode stack and the socket link both implement it, so a NIC model does not
// know which one it is attached to.
import { NetCounters } from './counters';

/**
 * Delivers one frame to the guest. Returns false when the NIC has no receive buffer; the backend
 * keeps the frame and retries after the NIC calls `receiveReady()` (QEMU's can_receive +
 * qemu_flush_queued_packets).
 */
export type FrameReceiver = (frame: Uint8Array) => boolean;

export interface NetBackend {
  /** Binds host sockets (hostfwd listeners, socket links). Rejects with an error naming what failed. */
  start(): Promise<void>;
  /** A frame the guest transmitted. The backend owns `frame` from here on and never throws. */
  send(frame: Uint8Array): void;
  attach(receiver: FrameReceiver): void;
  /** The NIC has receive buffers again. */
  receiveReady(): void;
  readonly counters: NetCounters;
  /**
   * Every frame this backend delivers has correct IP/TCP/UDP checksums (it built them itself), so
   * a NIC may tell the guest not to verify them (virtio-net's DATA_VALID).
   */
  readonly framesHaveValidChecksums?: boolean;
  /**
   * The backend takes TCP/IPv4 frames larger than the MTU as they are (a guest's TSO
   * super-segments, up to a 64 KiB datagram), so a NIC may offer TSO without cutting them: the
   * user-mode stack terminates TCP itself and never needs them cut.
   */
  readonly acceptsTcpGso?: boolean;
  close(): Promise<void>;
}

/** Limits of the queue of frames waiting for the guest's receive buffers. */
export const TX_QUEUE_MAX_FRAMES = 2048;
export const TX_QUEUE_MAX_BYTES = 8 * 1024 * 1024;
/** Producers that can wait (TCP) stop filling at this depth, leaving room for ARP, DHCP, DNS. */
export const TX_QUEUE_SOFT_FRAMES = 512;

/**
 * Frames on their way to the guest. Delivery happens in a microtask, never inside `send()`, so a
 * NIC is not re-entered while it is processing its transmit queue (and because the board runs
 * the CPU in synchronous slices, that means at the end of the slice).
 */
export class TxQueue {
  private frames: Uint8Array[] = [];
  private head = 0;
  private bytes = 0;
  private receiver: FrameReceiver | undefined;
  private scheduled = false;
  private closed = false;

  constructor(
    private readonly counters: NetCounters,
    /** Called after a flush freed room, so waiting producers (TCP) can fill it. */
    private readonly onRoom: () => void = () => {},
  ) {}

  attach(receiver: FrameReceiver): void {
    this.receiver = receiver;
    this.schedule();
  }

  get length(): number {
    return this.frames.length - this.head;
  }

  /** True while a producer that can wait should keep producing. */
  hasRoom(): boolean {
    return this.length < TX_QUEUE_SOFT_FRAMES;
  }

  push(frame: Uint8Array): boolean {
    if (this.closed) return false;
    if (this.length >= TX_QUEUE_MAX_FRAMES || this.bytes + frame.length > TX_QUEUE_MAX_BYTES) {
      this.counters.inc('txQueueFull');
      return false;
    }
    this.frames.push(frame);
    this.bytes += frame.length;
    this.schedule();
    return true;
  }

  /** The NIC has buffers again. */
  receiveReady(): void {
    this.schedule();
  }

  close(): void {
    this.closed = true;
    this.frames = [];
    this.head = 0;
    this.bytes = 0;
  }

  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const rx = this.receiver;
    if (!rx || this.closed) return;
    let delivered = 0;
    while (this.head < this.frames.length) {
      const f = this.frames[this.head]!;
      if (!rx(f)) break;
      this.head++;
      this.bytes -= f.length;
      this.counters.inc('txFrames');
      this.counters.inc('txBytes', f.length);
      delivered++;
    }
    if (this.head > 64 && this.head * 2 > this.frames.length) {
      this.frames = this.frames.slice(this.head);
      this.head = 0;
    }
    if (delivered > 0) this.onRoom();
  }
}
