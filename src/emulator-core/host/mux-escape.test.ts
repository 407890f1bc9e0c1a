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
});
