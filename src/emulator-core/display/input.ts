// Where keyboard and pointer input goes: an evdev-shaped sink (Linux input-event-codes.h), which
// is what virtio-input carries to the guest, so the VNC server translates once, at the edge.

/** Receives input in Linux evdev terms. A burst of calls ends with `sync()` (EV_SYN/SYN_REPORT). */
export interface InputSink {
  /** EV_KEY with a KEY_* code. */
  key(code: number, down: boolean): void;
  /** An absolute pointer position in framebuffer pixels, with the framebuffer size for scaling to an axis range. */
  pointerMove(x: number, y: number, width: number, height: number): void;
  /** EV_KEY with a BTN_* code. */
  button(code: number, down: boolean): void;
  /** Wheel clicks: EV_REL REL_WHEEL (positive: away from the user) and REL_HWHEEL (positive: right). */
  scroll(vertical: number, horizontal: number): void;
  sync(): void;
}

/** A sink that drops everything (no input device attached). */
export const nullInputSink: InputSink = {
  key() {},
  pointerMove() {},
  button() {},
  scroll() {},
  sync() {},
};

// Linux input-event-codes.h values used by the translators.
export const BTN_LEFT = 0x110;
export const BTN_RIGHT = 0x111;
export const BTN_MIDDLE = 0x112;
export const BTN_SIDE = 0x113;
export const BTN_EXTRA = 0x114;

/**
 * Turns RFB PointerEvents into evdev events. RFB button mask bits (rfbproto 7.5.5): 0 left,
 * 1 middle, 2 right, 3/4 wheel up/down, 5/6 wheel left/right (a press is one click), and by
 * the ExtendedMouseButtons convention 7/8 back/forward.
 */
export class PointerTranslator {
  private mask = 0;

  constructor(private readonly sink: InputSink) {}

  event(mask: number, x: number, y: number, width: number, height: number): void {
    this.sink.pointerMove(Math.min(x, width - 1), Math.min(y, height - 1), width, height);
    const changed = mask ^ this.mask;
    const pressed = changed & mask;
    const buttons: [number, number][] = [
      [0, BTN_LEFT],
      [1, BTN_MIDDLE],
      [2, BTN_RIGHT],
      [7, BTN_SIDE],
      [8, BTN_EXTRA],
    ];
    for (const [bit, code] of buttons) if (changed & (1 << bit)) this.sink.button(code, (mask & (1 << bit)) !== 0);
    const vertical = (pressed & (1 << 3) ? 1 : 0) - (pressed & (1 << 4) ? 1 : 0);
    const horizontal = (pressed & (1 << 6) ? 1 : 0) - (pressed & (1 << 5) ? 1 : 0);
    if (vertical || horizontal) this.sink.scroll(vertical, horizontal);
    this.mask = mask;
    this.sink.sync();
  }

  /** Releases every button still held (a client went away mid-drag). */
  releaseAll(): void {
    if (this.mask === 0) return;
    const buttons: [number, number][] = [
      [0, BTN_LEFT],
      [1, BTN_MIDDLE],
      [2, BTN_RIGHT],
      [7, BTN_SIDE],
      [8, BTN_EXTRA],
    ];
    for (const [bit, code] of buttons) if (this.mask & (1 << bit)) this.sink.button(code, false);
    this.mask = 0;
    this.sink.sync();
  }
}
