// Keyboard translation for the VNC server: X11 keysyms (RFB KeyEvent, rfbproto 7.5.4) and XT
// scancodes (QEMU Extended Key Event, rfbproto 7.5.9) to Linux evdev KEY_* codes. Keysyms are
// mapped as a US keyboard types them, like QEMU's default `-k en-us` keymap: a keysym that
// needs Shift (e.g. '!') gets a Shift press around it when the client is not holding one.

import type { InputSink } from './input';

// input-event-codes.h
export const KEY = {
  ESC: 1, N1: 2, N2: 3, N3: 4, N4: 5, N5: 6, N6: 7, N7: 8, N8: 9, N9: 10, N0: 11,
  MINUS: 12, EQUAL: 13, BACKSPACE: 14, TAB: 15,
  Q: 16, W: 17, E: 18, R: 19, T: 20, Y: 21, U: 22, I: 23, O: 24, P: 25,
  LEFTBRACE: 26, RIGHTBRACE: 27, ENTER: 28, LEFTCTRL: 29,
  A: 30, S: 31, D: 32, F: 33, G: 34, H: 35, J: 36, K: 37, L: 38,
  SEMICOLON: 39, APOSTROPHE: 40, GRAVE: 41, LEFTSHIFT: 42, BACKSLASH: 43,
  Z: 44, X: 45, C: 46, V: 47, B: 48, N: 49, M: 50,
  COMMA: 51, DOT: 52, SLASH: 53, RIGHTSHIFT: 54, KPASTERISK: 55, LEFTALT: 56, SPACE: 57, CAPSLOCK: 58,
  F1: 59, F2: 60, F3: 61, F4: 62, F5: 63, F6: 64, F7: 65, F8: 66, F9: 67, F10: 68,
  NUMLOCK: 69, SCROLLLOCK: 70, KP7: 71, KP8: 72, KP9: 73, KPMINUS: 74, KP4: 75, KP5: 76, KP6: 77,
  KPPLUS: 78, KP1: 79, KP2: 80, KP3: 81, KP0: 82, KPDOT: 83, K102ND: 86, F11: 87, F12: 88,
  KPENTER: 96, RIGHTCTRL: 97, KPSLASH: 98, SYSRQ: 99, RIGHTALT: 100,
  HOME: 102, UP: 103, PAGEUP: 104, LEFT: 105, RIGHT: 106, END: 107, DOWN: 108, PAGEDOWN: 109,
  INSERT: 110, DELETE: 111, MUTE: 113, VOLUMEDOWN: 114, VOLUMEUP: 115, POWER: 116, KPEQUAL: 117,
  PAUSE: 119, KPCOMMA: 121, LEFTMETA: 125, RIGHTMETA: 126, COMPOSE: 127,
} as const;

interface KeyTarget {
  code: number;
  shift: boolean;
}

/** keysym -> evdev code, Shift needed (US layout). */
const keysyms = new Map<number, KeyTarget>();
const plain = (sym: number, code: number) => keysyms.set(sym, { code, shift: false });
const shifted = (sym: number, code: number) => keysyms.set(sym, { code, shift: true });

// Latin letters: lower case plain, upper case shifted (keysyms 0x61..0x7a and 0x41..0x5a are ASCII).
const letterCodes = [KEY.A, KEY.B, KEY.C, KEY.D, KEY.E, KEY.F, KEY.G, KEY.H, KEY.I, KEY.J, KEY.K, KEY.L, KEY.M,
  KEY.N, KEY.O, KEY.P, KEY.Q, KEY.R, KEY.S, KEY.T, KEY.U, KEY.V, KEY.W, KEY.X, KEY.Y, KEY.Z];
letterCodes.forEach((code, i) => {
  plain(0x61 + i, code);
  shifted(0x41 + i, code);
});
const digitCodes = [KEY.N0, KEY.N1, KEY.N2, KEY.N3, KEY.N4, KEY.N5, KEY.N6, KEY.N7, KEY.N8, KEY.N9];
digitCodes.forEach((code, i) => plain(0x30 + i, code));
for (const [ch, code] of [
  [' ', KEY.SPACE], ['-', KEY.MINUS], ['=', KEY.EQUAL], ['[', KEY.LEFTBRACE], [']', KEY.RIGHTBRACE],
  [';', KEY.SEMICOLON], ["'", KEY.APOSTROPHE], ['`', KEY.GRAVE], ['\\', KEY.BACKSLASH], [',', KEY.COMMA],
  ['.', KEY.DOT], ['/', KEY.SLASH],
] as const) plain(ch.charCodeAt(0), code);
for (const [ch, code] of [
  ['!', KEY.N1], ['@', KEY.N2], ['#', KEY.N3], ['$', KEY.N4], ['%', KEY.N5], ['^', KEY.N6], ['&', KEY.N7],
  ['*', KEY.N8], ['(', KEY.N9], [')', KEY.N0], ['_', KEY.MINUS], ['+', KEY.EQUAL], ['{', KEY.LEFTBRACE],
  ['}', KEY.RIGHTBRACE], [':', KEY.SEMICOLON], ['"', KEY.APOSTROPHE], ['~', KEY.GRAVE], ['|', KEY.BACKSLASH],
  ['<', KEY.COMMA], ['>', KEY.DOT], ['?', KEY.SLASH],
] as const) shifted(ch.charCodeAt(0), code);

// Function and modifier keysyms (X11 keysymdef.h, 0xff00 page).
for (const [sym, code] of [
  [0xff08, KEY.BACKSPACE], [0xff09, KEY.TAB], [0xff0d, KEY.ENTER], [0xff13, KEY.PAUSE], [0xff14, KEY.SCROLLLOCK],
  [0xff15, KEY.SYSRQ], [0xff1b, KEY.ESC], [0xffff, KEY.DELETE],
  [0xff50, KEY.HOME], [0xff51, KEY.LEFT], [0xff52, KEY.UP], [0xff53, KEY.RIGHT], [0xff54, KEY.DOWN],
  [0xff55, KEY.PAGEUP], [0xff56, KEY.PAGEDOWN], [0xff57, KEY.END], [0xff61, KEY.SYSRQ], [0xff63, KEY.INSERT],
  [0xff67, KEY.COMPOSE], [0xff7f, KEY.NUMLOCK],
  [0xff8d, KEY.KPENTER], [0xff95, KEY.KP7], [0xff96, KEY.KP4], [0xff97, KEY.KP8], [0xff98, KEY.KP6],
  [0xff99, KEY.KP2], [0xff9a, KEY.KP9], [0xff9b, KEY.KP3], [0xff9c, KEY.KP1], [0xff9d, KEY.KP5],
  [0xff9e, KEY.KP0], [0xff9f, KEY.KPDOT], [0xffaa, KEY.KPASTERISK], [0xffab, KEY.KPPLUS], [0xffac, KEY.KPCOMMA],
  [0xffad, KEY.KPMINUS], [0xffae, KEY.KPDOT], [0xffaf, KEY.KPSLASH],
  [0xffb0, KEY.KP0], [0xffb1, KEY.KP1], [0xffb2, KEY.KP2], [0xffb3, KEY.KP3], [0xffb4, KEY.KP4],
  [0xffb5, KEY.KP5], [0xffb6, KEY.KP6], [0xffb7, KEY.KP7], [0xffb8, KEY.KP8], [0xffb9, KEY.KP9], [0xffbd, KEY.KPEQUAL],
  [0xffbe, KEY.F1], [0xffbf, KEY.F2], [0xffc0, KEY.F3], [0xffc1, KEY.F4], [0xffc2, KEY.F5], [0xffc3, KEY.F6],
  [0xffc4, KEY.F7], [0xffc5, KEY.F8], [0xffc6, KEY.F9], [0xffc7, KEY.F10], [0xffc8, KEY.F11], [0xffc9, KEY.F12],
  [0xffe1, KEY.LEFTSHIFT], [0xffe2, KEY.RIGHTSHIFT], [0xffe3, KEY.LEFTCTRL], [0xffe4, KEY.RIGHTCTRL],
  [0xffe5, KEY.CAPSLOCK], [0xffe7, KEY.LEFTMETA], [0xffe8, KEY.RIGHTMETA], [0xffe9, KEY.LEFTALT],
  [0xffea, KEY.RIGHTALT], [0xffeb, KEY.LEFTMETA], [0xffec, KEY.RIGHTMETA],
  [0xfe03, KEY.RIGHTALT], // ISO_Level3_Shift (AltGr)
  [0xfe20, KEY.TAB], // ISO_Left_Tab: what X sends for Shift+Tab; the client holds Shift already
  [0x1008ff11, KEY.VOLUMEDOWN], [0x1008ff12, KEY.MUTE], [0x1008ff13, KEY.VOLUMEUP], // XF86Audio*
] as const) plain(sym, code);

/** The evdev code and Shift need for a keysym, or undefined when a US keyboard has no such key. */
export function keysymToEvdev(keysym: number): KeyTarget | undefined {
  return keysyms.get(keysym);
}

/**
 * XT scancode as RFB encodes it (0xE0-prefixed codes have bit 7 set) -> evdev code. Set-1 make
 * codes 0x01..0x53 and 0x56..0x58 equal the evdev codes (Linux's numbering began as the XT set);
 * the rest are listed.
 */
const xtExtended = new Map<number, number>([
  [0x54, KEY.SYSRQ], [0xb7, KEY.SYSRQ], // rfbproto: Print is 0x54, 0xb7 accepted as a synonym
  [0x59, KEY.KPEQUAL], [0x7e, KEY.KPCOMMA],
  [0x9c, KEY.KPENTER], [0x9d, KEY.RIGHTCTRL], [0xa0, KEY.MUTE], [0xae, KEY.VOLUMEDOWN], [0xb0, KEY.VOLUMEUP],
  [0xb5, KEY.KPSLASH], [0xb8, KEY.RIGHTALT], [0xc6, KEY.PAUSE], [0xc7, KEY.HOME], [0xc8, KEY.UP],
  [0xc9, KEY.PAGEUP], [0xcb, KEY.LEFT], [0xcd, KEY.RIGHT], [0xcf, KEY.END], [0xd0, KEY.DOWN],
  [0xd1, KEY.PAGEDOWN], [0xd2, KEY.INSERT], [0xd3, KEY.DELETE], [0xdb, KEY.LEFTMETA], [0xdc, KEY.RIGHTMETA],
  [0xdd, KEY.COMPOSE], [0xde, KEY.POWER],
]);

export function xtToEvdev(xt: number): number | undefined {
  if ((xt >= 0x01 && xt <= 0x53) || (xt >= 0x56 && xt <= 0x58)) return xt;
  return xtExtended.get(xt);
}

/**
 * Per-connection keyboard state: which keys a keysym pressed (so the release matches the press
 * even if Shift changed in between), which Shift keys the client holds, and a synthetic Shift.
 */
export class KeyboardTranslator {
  private readonly pressedBySym = new Map<number, { code: number; fakeShift: boolean }>();
  private readonly held = new Set<number>();

  constructor(private readonly sink: InputSink) {}

  /** RFB KeyEvent. Returns false for a keysym with no key (ignored, as QEMU warns and drops it). */
  keysym(sym: number, down: boolean): boolean {
    if (!down) {
      const pressed = this.pressedBySym.get(sym);
      if (!pressed) return keysymToEvdev(sym) !== undefined; // a release we never saw pressed: nothing held
      this.pressedBySym.delete(sym);
      this.emit(pressed.code, false);
      if (pressed.fakeShift) this.emit(KEY.LEFTSHIFT, false);
      this.sink.sync();
      return true;
    }
    const target = keysymToEvdev(sym);
    if (!target) return false;
    const shiftHeld = this.held.has(KEY.LEFTSHIFT) || this.held.has(KEY.RIGHTSHIFT);
    const fakeShift = target.shift && !shiftHeld;
    if (fakeShift) this.emit(KEY.LEFTSHIFT, true);
    this.emit(target.code, true);
    this.pressedBySym.set(sym, { code: target.code, fakeShift: this.pressedBySym.get(sym)?.fakeShift || fakeShift });
    this.sink.sync();
    return true;
  }

  /** QEMU Extended Key Event: the scancode wins, the keysym is ignored (layout independent). */
  scancode(xt: number, down: boolean): boolean {
    const code = xtToEvdev(xt);
    if (code === undefined) return false;
    this.emit(code, down);
    this.sink.sync();
    return true;
  }

  /** Releases every key still held (the client disconnected with keys down). */
  releaseAll(): void {
    if (this.held.size === 0) return;
    for (const code of [...this.held]) this.emit(code, false);
    this.pressedBySym.clear();
    this.sink.sync();
  }

  private emit(code: number, down: boolean): void {
    if (down) this.held.add(code);
    else this.held.delete(code);
    this.sink.key(code, down);
  }
}
