// What a virtio device (blk, net, gpu, input, ... in later issues) implements: its id, features,
// queues and config space. The transport (mmio.ts) owns feature negotiation, status, queue setup,
// notifications and interrupts, so a device is only its own part of the virtio spec (chapter 5).
import type { AccessSize, SavedState } from '../device';
import type { GuestMemory } from '../guest-memory';
import type { SplitVirtqueue } from './virtqueue';

/** Device ids (virtio 1.2, section 5). 0 is "no device": an empty transport slot. */
export const VirtioDeviceId = {
  Net: 1,
  Block: 2,
  Console: 3,
  Entropy: 4,
  Balloon: 5,
  Scsi: 8,
  NineP: 9,
  Gpu: 16,
  Input: 18,
  Sound: 25,
} as const;

/** Transport-level feature bits (virtio 1.2, section 6). */
export const VirtioFeature = {
  RingIndirectDesc: 28n,
  RingEventIdx: 29n,
  Version1: 32n,
} as const;

/** What the transport hands the device once the driver set DRIVER_OK. */
export interface VirtioContext {
  readonly mem: GuestMemory;
  /** The device's queues, by index; undefined where the driver did not enable one. */
  readonly queues: readonly (SplitVirtqueue | undefined)[];
  /** Features both sides agreed on. */
  readonly features: bigint;
  /** Signals used buffers on `queue` (an interrupt unless the driver suppressed it). */
  usedBuffers(queue: number): void;
  /** Signals a config space change (bumps ConfigGeneration, interrupts). */
  configChanged(): void;
  /**
   * The device started asynchronous host work from `notify` (a disk read): the guest's run ends
   * after the current instruction so the host gets it going now, while the guest goes on with
   * what follows the notify (QEMU's ioeventfd wakes its I/O thread the same way).
   */
  kick(): void;
  /**
   * A ring or DMA error the device met outside `notify` (asynchronous work, e.g. a network frame
   * arriving): the transport sets DEVICE_NEEDS_RESET as it does for errors thrown from `notify`.
   */
  fail(error: unknown): void;
}

export interface VirtioDevice {
  readonly deviceId: number;
  /** Device feature bits (the transport adds VERSION_1, INDIRECT_DESC and EVENT_IDX). */
  readonly features: bigint;
  /** Maximum size of each queue (QueueNumMax); the array's length is the number of queues. */
  readonly queueMaxSizes: readonly number[];
  readConfig(offset: number, size: AccessSize): number;
  writeConfig(offset: number, size: AccessSize, value: number): void;
  /** DRIVER_OK: the driver is ready; the context stays valid until `reset`. */
  activate(ctx: VirtioContext): void;
  /** The driver notified `queue`. Ring errors thrown from here put the device in NEEDS_RESET. */
  notify(queue: number): void;
  /** Device reset (status written 0): forget the context and any in-flight requests. */
  reset(): void;
  saveState(): SavedState;
  loadState(state: SavedState): void;
}
