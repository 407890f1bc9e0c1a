import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseExtents, rawDataExtents } from './raw-extents';

const dir = mkdtempSync(path.join(tmpdir(), 'viv-raw-extents-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const perl = spawnSync('perl', ['-e', '1']).status === 0;

describe('raw data extents', () => {
  it('parses the helper output and refuses anything out of order or outside the file', () => {
    expect(parseExtents('0 4096\n8192 12288\n', 16384)).toEqual([{ offset: 0, length: 4096 }, { offset: 8192, length: 4096 }]);
    expect(parseExtents('', 100)).toEqual([]);
    expect(parseExtents('8192 20000\n', 16384)).toEqual([{ offset: 8192, length: 8192 }]); // clipped to the size seen at open
    expect(parseExtents('8192 12288\n0 4096\n', 16384)).toBeNull();
    expect(parseExtents('0 4096\n2048 8192\n', 16384)).toBeNull();
    expect(parseExtents('20000 30000\n', 16384)).toBeNull();
    expect(parseExtents('0 x\n', 16384)).toBeNull();
  });

  it.runIf(process.platform === 'linux' && perl)('finds the data of a sparse file as SEEK_DATA/SEEK_HOLE give it', async () => {
    const file = path.join(dir, 'sparse.raw');
    const size = 16 << 20;
    const fd = openSync(file, 'w');
    for (const off of [1 << 20, 5 << 20, 6 << 20]) writeSync(fd, new Uint8Array(1 << 20).fill(1), 0, 1 << 20, off);
    closeSync(fd);
    spawnSync('truncate', ['-s', String(size), file]);
    const map = await rawDataExtents(file, size);
    // A file system may allocate more than was written (never less): every written byte is in an
    // extent, and the holes between the writes stay outside.
    expect(map).not.toBeNull();
    const inData = (p: number) => map!.some((e) => p >= e.offset && p < e.offset + e.length);
    for (const p of [1 << 20, (2 << 20) - 1, 5 << 20, (7 << 20) - 1]) expect(inData(p), `byte ${p}`).toBe(true);
    for (const p of [0, 3 << 20, 10 << 20, size - 1]) expect(inData(p), `byte ${p}`).toBe(false);
  });

  it('a file without holes, or one that does not exist, is not mapped', async () => {
    const file = path.join(dir, 'full.raw');
    writeFileSync(file, new Uint8Array(1 << 20).fill(7));
    expect(await rawDataExtents(file, 1 << 20)).toBeNull();
    expect(await rawDataExtents(path.join(dir, 'none.raw'), 1 << 20)).toBeNull();
  });
});
