import { describe, expect, it } from 'vitest';
import { ConsoleBuffer } from './console-buffer';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('ConsoleBuffer', () => {
  it('keeps the newest bytes within its capacity', () => {
    const b = new ConsoleBuffer(10);
    b.push(bytes('0123456'));
    b.push(bytes('789'));
    b.push(bytes('abcd'));
    // Whole chunks are dropped from the front until it fits (the newest chunk always stays).
    expect(new TextDecoder().decode(b.snapshot())).toBe('789abcd');
  });

  it('quotes the last lines as plain text', () => {
    const b = new ConsoleBuffer();
    b.push(bytes('\x1b[1;31mKernel panic\x1b[0m - not syncing\r\n\r\n[ end trace ]\r\n~ # '));
    expect(b.lastLines(2)).toEqual(['[ end trace ]', '~ #']);
    expect(b.lastLines(5)[0]).toBe('Kernel panic - not syncing');
  });
});
