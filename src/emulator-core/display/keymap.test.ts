import { describe, expect, it } from 'vitest';
import { BTN_LEFT, BTN_RIGHT, PointerTranslator, type InputSink } from './input';
import { KEY, KeyboardTranslator, keysymToEvdev, xtToEvdev } from './keymap';

function recordingSink() {
  const log: string[] = [];
  const sink: InputSink = {
    key: (code, down) => log.push(`key ${code} ${down ? 'down' : 'up'}`),
    pointerMove: (x, y, w, h) => log.push(`move ${x},${y} of ${w}x${h}`),
    button: (code, down) => log.push(`btn ${code} ${down ? 'down' : 'up'}`),
    scroll: (v, h) => log.push(`scroll ${v},${h}`),
    sync: () => log.push('sync'),
  };
  return { log, sink };
}

describe('keysym -> evdev', () => {
  it('maps a US keyboard: letters, digits, symbols, function keys', () => {
    expect(keysymToEvdev(0x61)).toEqual({ code: KEY.A, shift: false });
    expect(keysymToEvdev(0x41)).toEqual({ code: KEY.A, shift: true });
    expect(keysymToEvdev(0x30)).toEqual({ code: KEY.N0, shift: false });
    expect(keysymToEvdev(0x21)).toEqual({ code: KEY.N1, shift: true }); // '!'
    expect(keysymToEvdev(0x7c)).toEqual({ code: KEY.BACKSLASH, shift: true }); // '|'
    expect(keysymToEvdev(0xff0d)?.code).toBe(KEY.ENTER);
    expect(keysymToEvdev(0xffc9)?.code).toBe(KEY.F12);
    expect(keysymToEvdev(0xffe3)?.code).toBe(KEY.LEFTCTRL);
    expect(keysymToEvdev(0xffff)?.code).toBe(KEY.DELETE);
    expect(keysymToEvdev(0x20ac)).toBeUndefined(); // EuroSign: no US key
  });

  it('covers every printable ASCII character', () => {
    for (let c = 0x20; c < 0x7f; c++) expect(keysymToEvdev(c), String.fromCharCode(c)).toBeDefined();
  });

  it('maps XT scancodes, including 0xE0-prefixed ones encoded with bit 7', () => {
    expect(xtToEvdev(0x1e)).toBe(KEY.A);
    expect(xtToEvdev(0xcd)).toBe(KEY.RIGHT);
    expect(xtToEvdev(0x9d)).toBe(KEY.RIGHTCTRL);
    expect(xtToEvdev(0x54)).toBe(KEY.SYSRQ);
    expect(xtToEvdev(0xc6)).toBe(KEY.PAUSE);
    expect(xtToEvdev(0)).toBeUndefined();
  });
});

describe('KeyboardTranslator', () => {
  it('adds a Shift around a shifted keysym when the client holds none', () => {
    const { log, sink } = recordingSink();
    const k = new KeyboardTranslator(sink);
    k.keysym(0x21, true);
    k.keysym(0x21, false);
    expect(log).toEqual([`key ${KEY.LEFTSHIFT} down`, `key ${KEY.N1} down`, 'sync', `key ${KEY.N1} up`, `key ${KEY.LEFTSHIFT} up`, 'sync']);
  });

  it('uses the client Shift when held, and releases what was pressed even if the keysym changed case', () => {
    const { log, sink } = recordingSink();
    const k = new KeyboardTranslator(sink);
    k.keysym(0xffe1, true); // Shift_L
    k.keysym(0x41, true); // 'A'
    k.keysym(0xffe1, false);
    k.keysym(0x41, false);
    expect(log.filter((l) => l !== 'sync')).toEqual([
      `key ${KEY.LEFTSHIFT} down`,
      `key ${KEY.A} down`,
      `key ${KEY.LEFTSHIFT} up`,
      `key ${KEY.A} up`,
    ]);
  });

  it('ignores unknown keysyms and releases held keys on demand', () => {
    const { log, sink } = recordingSink();
    const k = new KeyboardTranslator(sink);
    expect(k.keysym(0x20ac, true)).toBe(false);
    k.keysym(0xffe3, true);
    k.scancode(0x1e, true);
    log.length = 0;
    k.releaseAll();
    expect(log.sort()).toEqual([`key ${KEY.A} up`, `key ${KEY.LEFTCTRL} up`, 'sync'].sort());
  });
});

describe('PointerTranslator', () => {
  it('turns a button mask into button edges, wheel clicks and a sync', () => {
    const { log, sink } = recordingSink();
    const p = new PointerTranslator(sink);
    p.event(0b001, 10, 20, 640, 480);
    p.event(0b100, 10, 20, 640, 480);
    p.event(0b1000, 700, 500, 640, 480); // wheel up; position clamped to the framebuffer
    expect(log).toEqual([
      'move 10,20 of 640x480', `btn ${BTN_LEFT} down`, 'sync',
      'move 10,20 of 640x480', `btn ${BTN_LEFT} up`, `btn ${BTN_RIGHT} down`, 'sync',
      'move 639,479 of 640x480', `btn ${BTN_RIGHT} up`, 'scroll 1,0', 'sync',
    ]);
  });
});
