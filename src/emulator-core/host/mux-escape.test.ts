import { describe, expect, it } from 'vitest';
import { MuxEscape } from './mux-escape';

describe('Ctrl-A escape (QEMU mux)', () => {
  it('passes ordinary input, quits on C-a x, helps on C-a h, sends one C-a for C-a C-a', () => {
    const mux = new MuxEscape();
    expect(mux.feed(Uint8Array.from([0x6c, 0x73, 0x0d]))).toEqual({ toGuest: Uint8Array.from([0x6c, 0x73, 0x0d]), actions: [] });
    expect(mux.feed(Uint8Array.from([0x01, 0x01, 0x61]))).toEqual({ toGuest: Uint8Array.from([0x01, 0x61]), actions: [] });
    expect(mux.feed(Uint8Array.from([0x01, 0x68]))).toEqual({ toGuest: new Uint8Array(0), actions: [{ kind: 'help' }] });
    expect(mux.feed(Uint8Array.from([0x62, 0x01, 0x78, 0x63]))).toEqual({ toGuest: Uint8Array.from([0x62, 0x63]), actions: [{ kind: 'quit' }] });
  });
  it('keeps an escape split across two reads, and drops unknown escapes', () => {
    const mux = new MuxEscape();
    expect(mux.feed(Uint8Array.from([0x41, 0x01])).toGuest).toEqual(Uint8Array.from([0x41]));
    expect(mux.feed(Uint8Array.from([0x78])).actions).toEqual([{ kind: 'quit' }]);
    expect(mux.feed(Uint8Array.from([0x01, 0x63, 0x42]))).toEqual({ toGuest: Uint8Array.from([0x42]), actions: [] });
  });
  it('with a monitor on the mux, C-a c switches the input between the console and the monitor', () => {
    const mux = new MuxEscape(true);
    const enc = (t: string) => new TextEncoder().encode(t);
    expect(mux.feed(enc('ls\x01cinfo status\r'))).toEqual({ toGuest: enc('ls'), toMonitor: enc('info status\r'), actions: [{ kind: 'focus', monitor: true }] });
    expect(mux.feed(enc('\x01\x01q\x01cpwd'))).toEqual({ toGuest: enc('pwd'), toMonitor: enc('\x01q'), actions: [{ kind: 'focus', monitor: false }] });
  });
});
