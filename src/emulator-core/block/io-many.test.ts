// readMany/writeMany (several ranges as one request, data contiguous in the file merged into one
// preadv/pwritev) on both formats, and HostFile's vectored I/O under it: checked byte for byte
// against a model, with scatter lists longer than IOV_MAX, reads past the end of the file,
// partial clusters next to whole ones, and the QCOW2 image clean and allocated in request order.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BlockDriver, IoRequest } from './driver';
import { fileRuns } from './file-runs';
import { HostFile } from './host-file';
import { openImage } from './open';
import { checkQcow2 } from './qcow2/check';
import { createQcow2 } from './qcow2/create';
import { Qcow2Driver } from './qcow2/driver';
import { Scatter } from './scatter';
import { firstDiff, pattern, prng, randInt } from './testing/model';

const dir = mkdtempSync(path.join(tmpdir(), 'viv-io-many-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Cuts `buf` into parts of random lengths (a scatter list over one range). */
function scatterList(buf: Uint8Array, rnd: () => number, maxPart: number): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (let at = 0; at < buf.length;) {
    const n = Math.min(buf.length - at, randInt(rnd, 1, maxPart));
    parts.push(buf.subarray(at, at + n));
    at += n;
  }
  return parts;
}

/** Random disjoint ranges of [0, size), in increasing order, some back to back. */
function disjointRanges(rnd: () => number, size: number, maxLen: number): { offset: number; length: number }[] {
  const out: { offset: number; length: number }[] = [];
  for (let at = randInt(rnd, 0, maxLen); at < size;) {
    const length = Math.min(size - at, randInt(rnd, 1, maxLen));
    out.push({ offset: at, length });
    at += length + (rnd() < 0.4 ? 0 : randInt(rnd, 1, maxLen));
  }
  return out;
}

async function randomMany(drv: BlockDriver, size: number, maxLen: number, seed: number): Promise<void> {
  const rnd = prng(seed);
  const model = new Uint8Array(size);
  for (let round = 0; round < 12; round++) {
    const writes: IoRequest[] = disjointRanges(rnd, size, maxLen).map((r, i) => ({
      offset: r.offset, data: pattern(new Uint8Array(r.length), seed + round * 1000 + i),
    }));
    await drv.writeMany(writes);
    for (const w of writes) model.set(w.data, w.offset);
    // Read back: ranges in any order, each a scatter list of one request per part.
    const reads = disjointRanges(rnd, size, maxLen * 2).sort(() => rnd() - 0.5);
    const bufs = reads.map((r) => new Uint8Array(r.length));
    const reqs: IoRequest[] = [];
    reads.forEach((r, i) => {
      let at = r.offset;
      for (const part of scatterList(bufs[i]!, rnd, 700)) {
        reqs.push({ offset: at, data: part });
        at += part.length;
      }
    });
    await drv.readMany(reqs);
    reads.forEach((r, i) => expect(firstDiff(bufs[i]!, model.subarray(r.offset, r.offset + r.length)), `round ${round} read ${i}`).toBe(-1));
  }
  const all = new Uint8Array(size);
  await drv.read(0, all);
  expect(firstDiff(all, model)).toBe(-1);
}

describe('readMany / writeMany', () => {
  it('raw: random batches against a model', async () => {
    const file = path.join(dir, 'm.raw');
    writeFileSync(file, new Uint8Array(0));
    const size = 3 << 20;
    const f = await HostFile.open(file, { readOnly: false });
    await f.truncate(size);
    await f.close();
    const drv = await openImage(file, { format: 'raw' });
    await randomMany(drv, size, 100_000, 1);
    await drv.close();
  });

  for (const cs of [512, 65536]) {
    it(`qcow2 (cluster ${cs}): random batches against a model, image clean`, async () => {
      const file = path.join(dir, `m-${cs}.qcow2`);
      const size = cs * 200 + 1536; // the last cluster is partial
      await createQcow2(file, { size, clusterSize: cs });
      const drv = (await openImage(file, { l2CacheTables: 1, refblockCacheTables: 1 })) as Qcow2Driver;
      await randomMany(drv, size, cs * 5, cs);
      await drv.close();
      const ro = (await openImage(file, { readOnly: true })) as Qcow2Driver;
      const lines: string[] = [];
      const res = await ro.exclusive((img) => checkQcow2(img, { leaks: false, errors: false }, (l) => lines.push(l)));
      await ro.close();
      expect(lines).toEqual([]);
      expect(res.corruptions + res.leaks + res.checkErrors).toBe(0);
    }, 60_000);
  }

  it('qcow2: a batch of whole clusters on a fresh image is allocated in request order, back to back', async () => {
    const file = path.join(dir, 'order.qcow2');
    const cs = 65536;
    await createQcow2(file, { size: cs * 64, clusterSize: cs });
    const drv = (await openImage(file)) as Qcow2Driver;
    // Guest clusters 10, 3, 40 (two clusters), 7: the host clusters follow this order.
    const reqs = [10, 3, 40, 7].map((g, i) => ({ offset: g * cs, data: pattern(new Uint8Array(g === 40 ? 2 * cs : cs), i) }));
    await drv.writeMany(reqs);
    const hosts = [];
    for (const g of [10, 3, 40, 41, 7]) hosts.push((await drv.blockStatus(g * cs, cs)).hostOffset!);
    for (let i = 1; i < hosts.length; i++) expect(hosts[i]).toBe(hosts[0]! + i * cs);
    for (const r of reqs) {
      const got = new Uint8Array(r.data.length);
      await drv.read(r.offset, got);
      expect(firstDiff(got, r.data)).toBe(-1);
    }
    await drv.close();
  });
});

describe('readMany over a scatter list', () => {
  it('qcow2 overlay: data, zero, compressed and backing clusters into many small buffers', async () => {
    const cs = 65536;
    const size = cs * 40;
    const base = path.join(dir, 'sc-base.qcow2');
    const top = path.join(dir, 'sc-top.qcow2');
    await createQcow2(base, { size: size - cs * 3 }); // shorter: the end reads as zeros
    const model = new Uint8Array(size);
    const b = (await openImage(base)) as Qcow2Driver;
    const bdata = pattern(new Uint8Array(size - cs * 3), 1);
    await b.write(0, bdata);
    model.set(bdata);
    await b.close();
    await createQcow2(top, { size, backingFile: 'sc-base.qcow2', backingFormat: 'qcow2' });
    const t = (await openImage(top)) as Qcow2Driver;
    const w = pattern(new Uint8Array(cs * 5 + 1000), 2);
    await t.write(cs * 3 + 500, w);
    model.set(w, cs * 3 + 500);
    await t.writeZeroes(cs * 12, cs * 4);
    model.fill(0, cs * 12, cs * 16);
    const c = new Uint8Array(cs);
    for (let i = 0; i < cs; i++) c[i] = i % 7;
    await t.writeCompressed(cs * 20, c);
    model.set(c, cs * 20);
    const rnd = prng(9);
    for (let round = 0; round < 20; round++) {
      const off = randInt(rnd, 0, size - 1);
      const len = randInt(rnd, 1, Math.min(size - off, cs * 12));
      const got = new Uint8Array(len);
      let at = off;
      const reqs = scatterList(got, rnd, 5000).map((part) => {
        const r = { offset: at, data: part };
        at += part.length;
        return r;
      });
      await t.readMany(reqs);
      expect(firstDiff(got, model.subarray(off, off + len)), `read ${off}+${len}`).toBe(-1);
    }
    await t.close();
  });

  it('Scatter.slices cuts across parts', () => {
    const buf = pattern(new Uint8Array(100), 4);
    const sc = new Scatter([buf.subarray(0, 10), buf.subarray(10, 11), buf.subarray(11, 60), buf.subarray(60)]);
    expect(sc.length).toBe(100);
    for (const [a, z] of [[0, 100], [5, 10], [9, 12], [10, 11], [59, 61], [99, 100], [30, 30]]) {
      const joined = Buffer.concat(sc.slices(a!, z!));
      expect(firstDiff(joined, buf.subarray(a, z)), `${a}-${z}`).toBe(-1);
    }
  });
});

describe('HostFile vectored I/O', () => {
  it('transfers more buffers than one system call takes, and reads zeros past the end', async () => {
    const file = path.join(dir, 'v.bin');
    writeFileSync(file, new Uint8Array(0));
    const f = await HostFile.open(file, { readOnly: false });
    const data = pattern(new Uint8Array(3000 * 100), 5);
    const parts = Array.from({ length: 3000 }, (_, i) => data.subarray(i * 100, (i + 1) * 100));
    await f.writev(parts, 4096);
    const back = new Uint8Array(data.length + 5000);
    back.fill(0xee);
    const rnd = prng(3);
    await f.readv(scatterList(back, rnd, 150), 4096);
    expect(firstDiff(back.subarray(0, data.length), data)).toBe(-1);
    expect(back.subarray(data.length).every((b) => b === 0)).toBe(true);
    await f.close();
  });

  it('groups pieces that are back to back in the file, in the order given', () => {
    const b = (n: number) => new Uint8Array(n);
    const runs = fileRuns([
      { host: 0, data: b(10) }, { host: 10, data: b(5) }, { host: 100, data: b(1) }, { host: 101, data: b(0) },
      { host: 101, data: b(2) }, { host: 50, data: b(3) },
    ]);
    expect(runs.map((r) => [r.host, r.bufs.map((x) => x.length)])).toEqual([[0, [10, 5]], [100, [1, 2]], [50, [3]]]);
  });
});
