// virtio-input (virtio 1.2, 5.8): keyboard, mouse and tablet, as QEMU's virtio-keyboard-device,
// virtio-mouse-device and virtio-tablet-device present them (names, ids, event bits, 0..0x7fff
// absolute axes), so the guest's virtio_input driver and evdev see the same devices. Input
// arrives through the display library's InputSink (from the VNC server) in evdev terms already.
//
// Layout: state (kind, config select), config space, queues (eventq 0 device->driver, statusq 1
// driver->device), the sink, reset, vmstate.
import { BTN_EXTRA, BTN_LEFT, BTN_MIDDLE, BTN_RIGHT, BTN_SIDE, type InputSink } from '../../display/input';
import { checkState, saveState, type AccessSize, type SavedState, type StateDeclaration } from '../device';
import { VirtioDeviceId, type VirtioContext, type VirtioDevice } from './virtio-device';

export type VirtioInputKind = 'keyboard' | 'mouse' | 'tablet';

/** virtio_input_config_select (5.8.5). */
export const InputConfigSelect = {
  Unset: 0x00,
  IdName: 0x01,
  IdSerial: 0x02,
  IdDevids: 0x03,
  PropBits: 0x10,
  EvBits: 0x11,
  AbsInfo: 0x12,
} as const;

// input-event-codes.h
export const EV_SYN = 0x00;
export const EV_KEY = 0x01;
export const EV_REL = 0x02;
export const EV_ABS = 0x03;
export const EV_LED = 0x11;
export const EV_REP = 0x14;
export const REL_X = 0x00;
export const REL_Y = 0x01;
export const REL_HWHEEL = 0x06;
export const REL_WHEEL = 0x08;
export const ABS_X = 0x00;
export const ABS_Y = 0x01;
const LED_NUML = 0;
const LED_CAPSL = 1;
const LED_SCROLLL = 2;

/** QEMU's INPUT_EVENT_ABS_MAX: tablet axes run 0..0x7fff. */
export const ABS_MAX = 0x7fff;
const EVENTQ = 0;
const STATUSQ = 1;
const QUEUE_SIZE = 64;
/** Events kept while the driver has no buffers posted; older ones are dropped beyond this. */
const MAX_PENDING = 1024;
const EVENT_SIZE = 8;

const BUTTONS = [BTN_LEFT, BTN_RIGHT, BTN_MIDDLE, BTN_SIDE, BTN_EXTRA];

interface Identity {
  name: string;
  product: number;
  ev: Map<number, number[]>;
}

function identity(kind: VirtioInputKind): Identity {
  switch (kind) {
    case 'keyboard': {
      // Every keyboard key code (evdev 1..255): the translators may send any of them.
      const keys = Array.from({ length: 255 }, (_, i) => i + 1);
      return { name: 'QEMU Virtio Keyboard', product: 1, ev: new Map([[EV_KEY, keys], [EV_LED, [LED_NUML, LED_CAPSL, LED_SCROLLL]], [EV_REP, []]]) };
    }
    case 'mouse':
      return { name: 'QEMU Virtio Mouse', product: 2, ev: new Map([[EV_KEY, BUTTONS], [EV_REL, [REL_X, REL_Y, REL_HWHEEL, REL_WHEEL]]]) };
    case 'tablet':
      return { name: 'QEMU Virtio Tablet', product: 3, ev: new Map([[EV_KEY, BUTTONS], [EV_REL, [REL_HWHEEL, REL_WHEEL]], [EV_ABS, [ABS_X, ABS_Y]]]) };
  }
}

const STATE: StateDeclaration = {
  name: 'virtio-input',
  version: 1,
  fields: {
    select: { kind: 'u8' },
    subsel: { kind: 'u8' },
    pending: { kind: 'bytes' },
  },
};

export class VirtioInput implements VirtioDevice, InputSink {
  readonly deviceId = VirtioDeviceId.Input;
  readonly features = 0n;
  readonly queueMaxSizes = [QUEUE_SIZE, QUEUE_SIZE];
  private readonly id: Identity;
  private select = 0;
  private subsel = 0;
  /** The config payload (`u`) for the current select/subsel, and its size. */
  private payload: Uint8Array = new Uint8Array(0);
  private ctx?: VirtioContext;
  /** Events waiting for eventq buffers: [type, code, value] triples. */
  private pending: number[][] = [];
  /** Events of the report being built (sent at sync). */
  private batch: number[][] = [];
  private lastX = -1;
  private lastY = -1;

  constructor(readonly kind: VirtioInputKind) {
    this.id = identity(kind);
  }

  // ---- config space: select, subsel, size, 5 reserved, then 128 bytes of payload ----

  readConfig(offset: number, size: AccessSize): number {
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = (v << 8) | this.configByte(offset + i);
    return v >>> 0;
  }

  private configByte(offset: number): number {
    if (offset === 0) return this.select;
    if (offset === 1) return this.subsel;
    if (offset === 2) return this.payload.length;
    if (offset >= 8 && offset < 8 + 128) return this.payload[offset - 8] ?? 0;
    return 0;
  }

  writeConfig(offset: number, size: AccessSize, value: number): void {
    // Only select and subsel are writable (5.8.5); the driver writes them as bytes.
    for (let i = 0; i < size; i++) {
      const b = (value >>> (8 * i)) & 0xff;
      if (offset + i === 0) this.select = b;
      else if (offset + i === 1) this.subsel = b;
    }
    this.payload = this.configPayload(this.select, this.subsel);
  }

  private configPayload(select: number, subsel: number): Uint8Array {
    switch (select) {
      case InputConfigSelect.IdName:
        return subsel === 0 ? new TextEncoder().encode(this.id.name) : new Uint8Array(0);
      case InputConfigSelect.IdDevids: {
        if (subsel !== 0) return new Uint8Array(0);
        const b = new Uint8Array(8);
        const v = new DataView(b.buffer);
        v.setUint16(0, 0x06, true); // BUS_VIRTUAL
        v.setUint16(2, 0x0627, true); // QEMU's vendor id
        v.setUint16(4, this.id.product, true);
        v.setUint16(6, 0x0001, true);
        return b;
      }
      case InputConfigSelect.EvBits: {
        const codes = this.id.ev.get(subsel);
        if (!codes) return new Uint8Array(0);
        // EV_REP carries no codes; QEMU answers with one zero byte so the driver sets the bit.
        if (codes.length === 0) return new Uint8Array(1);
        const bitmap = new Uint8Array(Math.floor(Math.max(...codes) / 8) + 1);
        for (const c of codes) bitmap[c >> 3]! |= 1 << (c & 7);
        return bitmap;
      }
      case InputConfigSelect.AbsInfo: {
        if (this.kind !== 'tablet' || (subsel !== ABS_X && subsel !== ABS_Y)) return new Uint8Array(0);
        const b = new Uint8Array(20); // min, max, fuzz, flat, res
        new DataView(b.buffer).setUint32(4, ABS_MAX, true);
        return b;
      }
      default:
        // IdSerial (none), PropBits (none), Unset, and unknown selects: size 0.
        return new Uint8Array(0);
    }
  }

  // ---- queues ----

  activate(ctx: VirtioContext): void {
    this.ctx = ctx;
    this.flush();
  }

  notify(queue: number): void {
    if (queue === EVENTQ) {
      this.flush();
    } else if (queue === STATUSQ) {
      // LED state from the guest (caps lock ...): taken and returned; there is no LED to light.
      const vq = this.ctx?.queues[STATUSQ];
      if (!vq) return;
      let any = false;
      for (let c = vq.pop(); c; c = vq.pop()) {
        vq.push(c.head, 0);
        any = true;
      }
      if (any) this.ctx!.usedBuffers(STATUSQ);
    }
  }

  /** Moves pending events into the buffers the driver posted on eventq. */
  private flush(): void {
    const vq = this.ctx?.queues[EVENTQ];
    if (!vq || this.pending.length === 0) return;
    let sent = 0;
    const b = new Uint8Array(EVENT_SIZE);
    const v = new DataView(b.buffer);
    while (this.pending.length > 0) {
      const chain = vq.pop();
      if (!chain) break;
      const [type, code, value] = this.pending.shift()!;
      v.setUint16(0, type!, true);
      v.setUint16(2, code!, true);
      v.setInt32(4, value!, true);
      vq.push(chain.head, vq.writeAll(chain, b));
      sent++;
    }
    if (sent > 0) this.ctx!.usedBuffers(EVENTQ);
  }

  // ---- InputSink: events in evdev terms ----

  private event(type: number, code: number, value: number): void {
    if (!this.ctx) return; // no driver: nobody to tell
    this.batch.push([type, code, value]);
  }

  key(code: number, down: boolean): void {
    if (this.kind === 'keyboard') this.event(EV_KEY, code, down ? 1 : 0);
  }

  button(code: number, down: boolean): void {
    if (this.kind !== 'keyboard') this.event(EV_KEY, code, down ? 1 : 0);
  }

  pointerMove(x: number, y: number, width: number, height: number): void {
    if (this.kind === 'tablet') {
      // Pixel centres map onto 0..ABS_MAX, the last pixel to ABS_MAX (QEMU's qemu_input_scale_axis).
      this.event(EV_ABS, ABS_X, width > 1 ? Math.round((x * ABS_MAX) / (width - 1)) : 0);
      this.event(EV_ABS, ABS_Y, height > 1 ? Math.round((y * ABS_MAX) / (height - 1)) : 0);
    } else if (this.kind === 'mouse') {
      // A relative mouse behind an absolute source: send the difference from the last position.
      if (this.lastX >= 0) {
        if (x !== this.lastX) this.event(EV_REL, REL_X, x - this.lastX);
        if (y !== this.lastY) this.event(EV_REL, REL_Y, y - this.lastY);
      }
      this.lastX = x;
      this.lastY = y;
    }
  }

  scroll(vertical: number, horizontal: number): void {
    if (this.kind === 'keyboard') return;
    if (vertical) this.event(EV_REL, REL_WHEEL, vertical);
    if (horizontal) this.event(EV_REL, REL_HWHEEL, horizontal);
  }

  sync(): void {
    if (this.batch.length === 0) return;
    this.batch.push([EV_SYN, 0, 0]);
    this.pending.push(...this.batch);
    this.batch = [];
    if (this.pending.length > MAX_PENDING) this.pending.splice(0, this.pending.length - MAX_PENDING);
    this.flush();
  }

  // ---- reset and state ----

  reset(): void {
    this.ctx = undefined;
    this.select = 0;
    this.subsel = 0;
    this.payload = new Uint8Array(0);
    this.pending = [];
    this.batch = [];
    this.lastX = -1;
    this.lastY = -1;
  }

  saveState(): SavedState {
    const pending = new Uint8Array(this.pending.length * EVENT_SIZE);
    const v = new DataView(pending.buffer);
    this.pending.forEach(([t, c, val], i) => {
      v.setUint16(i * 8, t!, true);
      v.setUint16(i * 8 + 2, c!, true);
      v.setInt32(i * 8 + 4, val!, true);
    });
    return saveState(STATE, { select: this.select, subsel: this.subsel, pending });
  }

  loadState(state: SavedState): void {
    const f = checkState(STATE, state);
    this.select = f.select as number;
    this.subsel = f.subsel as number;
    this.payload = this.configPayload(this.select, this.subsel);
    const p = f.pending as Uint8Array;
    const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
    this.pending = [];
    for (let o = 0; o + EVENT_SIZE <= p.length; o += EVENT_SIZE) this.pending.push([v.getUint16(o, true), v.getUint16(o + 2, true), v.getInt32(o + 4, true)]);
  }
}
