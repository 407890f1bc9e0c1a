import { describe, expect, it } from 'vitest';
import { zeroRuns } from './zero-runs';

describe('convert sparse detection (zeroRuns)', () => {
  it('merges blocks into runs on a grid aligned to the output offset', () => {
    const buf = new Uint8Array(4096 * 6);
    buf[4096 * 2 + 100] = 1; // block 2 has data
    buf[4096 * 3] = 7; // and block 3
    buf[4096 * 6 - 1] = 9; // and only the last byte of block 5
    expect(zeroRuns(buf, 0, 4096)).toEqual([
      { start: 0, end: 8192, zero: true },
      { start: 8192, end: 16384, zero: false },
      { start: 16384, end: 20480, zero: true },
      { start: 20480, end: 24576, zero: false },
    ]);
  });

  it('cuts the first and last runs where the grid of the whole output falls', () => {
    const buf = new Uint8Array(10000);
    buf.fill(1, 0, 1000);
    // Output offset 3096: the first block ends at 4096, i.e. 1000 bytes into buf.
    expect(zeroRuns(buf, 3096, 4096)).toEqual([
      { start: 0, end: 1000, zero: false },
      { start: 1000, end: 10000, zero: true },
    ]);
  });

  it('finds data in the middle of a block that starts and ends with zeros', () => {
    const buf = new Uint8Array(65536);
    buf[30000] = 1;
    expect(zeroRuns(buf, 0, 65536)).toEqual([{ start: 0, end: 65536, zero: false }]);
    expect(zeroRuns(new Uint8Array(65536), 0, 65536)).toEqual([{ start: 0, end: 65536, zero: true }]);
  });
});
