import { describe, expect, it } from 'vitest';
import { BTN_LEFT } from '../../display/input';
import { KEY } from '../../display/keymap';
import { ABS_MAX, ABS_X, ABS_Y, EV_ABS, EV_KEY, EV_REL, EV_SYN, InputConfigSelect, REL_WHEEL, REL_X, REL_Y, VirtioInput, type VirtioInputKind } from './input';
import { TestDriver } from './test-driver';

function up(kind: VirtioInputKind) {
  const dev = new VirtioInput(kind);
  const d = new TestDriver(dev);
  d.init();
  return { dev, d };
}

/** What the driver reads from config space for (select, subsel): size and payload. */
function query(d: TestDriver, select: number, subsel: number): Uint8Array {
  d.writeConfig8(0, select);
  d.writeConfig8(1, subsel);
  const size = d.config8(2);
  return Uint8Array.from({ length: size }, (_, i) => d.config8(8 + i));
}

function hasBit(bitmap: Uint8Array, bit: number): boolean {
  return ((bitmap[bit >> 3] ?? 0) & (1 << (bit & 7))) !== 0;
}

/** Posts n 8-byte event buffers and returns their addresses. */
function postBuffers(d: TestDriver, n: number): number[] {
  const addrs: number[] = [];
  for (let i = 0; i < n; i++) addrs.push(d.post(0, [], [8]).out[0]!);
  d.notify(0);
  return addrs;
}

function events(d: TestDriver, addrs: number[]): string[] {
  const used = d.used(0);
  return used.map(([head, len]) => {
    expect(len).toBe(8);
    const b = d.read(addrs[head]!, 8);
    const v = new DataView(b.buffer, b.byteOffset);
    return `${v.getUint16(0, true)}:${v.getUint16(2, true)}:${v.getInt32(4, true)}`;
  });
}

describe('virtio-input config space', () => {
  it('names and identifies each kind as QEMU does', () => {
    for (const [kind, name, product] of [['keyboard', 'QEMU Virtio Keyboard', 1], ['mouse', 'QEMU Virtio Mouse', 2], ['tablet', 'QEMU Virtio Tablet', 3]] as const) {
      const { d } = up(kind);
      expect(new TextDecoder().decode(query(d, InputConfigSelect.IdName, 0))).toBe(name);
      expect([...query(d, InputConfigSelect.IdDevids, 0)]).toEqual([6, 0, 0x27, 0x06, product, 0, 1, 0]);
      expect(query(d, InputConfigSelect.IdSerial, 0).length).toBe(0);
    }
  });

  it('declares event bits: keys for the keyboard, buttons and absolute axes for the tablet', () => {
    const kb = up('keyboard').d;
    const keys = query(kb, InputConfigSelect.EvBits, EV_KEY);
    expect(hasBit(keys, KEY.A) && hasBit(keys, KEY.ENTER) && hasBit(keys, KEY.F12)).toBe(true);
    expect(query(kb, InputConfigSelect.EvBits, EV_ABS).length).toBe(0);
    const tab = up('tablet').d;
    expect(hasBit(query(tab, InputConfigSelect.EvBits, EV_KEY), BTN_LEFT)).toBe(true);
    const abs = query(tab, InputConfigSelect.EvBits, EV_ABS);
    expect(hasBit(abs, ABS_X) && hasBit(abs, ABS_Y)).toBe(true);
    const info = query(tab, InputConfigSelect.AbsInfo, ABS_X);
    expect(new DataView(info.buffer).getUint32(4, true)).toBe(ABS_MAX);
    const mouse = query(up('mouse').d, InputConfigSelect.EvBits, EV_REL);
    expect(hasBit(mouse, REL_X) && hasBit(mouse, REL_WHEEL)).toBe(true);
    expect(query(tab, 0x7f, 0).length).toBe(0);
  });
});

describe('virtio-input events', () => {
  it('delivers keys with a SYN into the buffers the driver posted, and interrupts', () => {
    const { dev, d } = up('keyboard');
    const addrs = postBuffers(d, 8);
    dev.key(KEY.A, true);
    dev.sync();
    dev.key(KEY.A, false);
    dev.sync();
    expect(events(d, addrs)).toEqual([`${EV_KEY}:${KEY.A}:1`, `${EV_SYN}:0:0`, `${EV_KEY}:${KEY.A}:0`, `${EV_SYN}:0:0`]);
    expect(d.irq.at(-1)).toBe(true);
  });

  it('keeps events until buffers come, and drops nothing in between', () => {
    const { dev, d } = up('keyboard');
    for (const k of [KEY.H, KEY.I]) {
      dev.key(k, true);
      dev.key(k, false);
      dev.sync();
    }
    expect(d.used(0)).toEqual([]);
    const addrs = postBuffers(d, 6);
    expect(events(d, addrs)).toEqual([`1:${KEY.H}:1`, `1:${KEY.H}:0`, '0:0:0', `1:${KEY.I}:1`, `1:${KEY.I}:0`, '0:0:0']);
  });

  it('scales the tablet to 0..0x7fff and reports buttons and the wheel', () => {
    const { dev, d } = up('tablet');
    const addrs = postBuffers(d, 8);
    dev.pointerMove(639, 0, 640, 480);
    dev.button(BTN_LEFT, true);
    dev.scroll(1, 0);
    dev.sync();
    expect(events(d, addrs)).toEqual([`${EV_ABS}:${ABS_X}:${ABS_MAX}`, `${EV_ABS}:${ABS_Y}:0`, `1:${BTN_LEFT}:1`, `${EV_REL}:${REL_WHEEL}:1`, '0:0:0']);
  });

  it('turns absolute positions into relative motion for the mouse', () => {
    const { dev, d } = up('mouse');
    const addrs = postBuffers(d, 8);
    dev.pointerMove(10, 10, 100, 100);
    dev.sync(); // first position: nothing to say
    dev.pointerMove(15, 7, 100, 100);
    dev.sync();
    expect(events(d, addrs)).toEqual([`${EV_REL}:${REL_X}:5`, `${EV_REL}:${REL_Y}:-3`, '0:0:0']);
  });

  it('ignores input before the driver is ready and after a reset; returns status buffers', () => {
    const dev = new VirtioInput('keyboard');
    const d = new TestDriver(dev);
    dev.key(KEY.A, true);
    dev.sync();
    d.init();
    const addrs = postBuffers(d, 2);
    expect(events(d, addrs)).toEqual([]);
    d.post(1, [Uint8Array.of(0x11, 0, 1, 0, 1, 0, 0, 0)], []); // EV_LED CAPSL on
    d.notify(1);
    expect(d.used(1)).toEqual([[0, 0]]);
  });

  it('round-trips its state, pending events included', () => {
    const { dev } = up('keyboard');
    dev.key(KEY.Z, true);
    dev.sync();
    const b = new VirtioInput('keyboard');
    b.loadState(dev.saveState());
    expect(b.saveState()).toEqual(dev.saveState());
  });
});
