import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openImage } from '../open';
import { createQcow2 } from './create';
import { Qcow2Driver } from './driver';
import { checkQcow2 } from './check';
import type { BlockError } from '../errors';
import { firstDiff, pattern, prng, randInt } from '../testing/model';

const dir = mkdtempSync(path.join(tmpdir(), 'viv-qcow2-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function verify(drv: Qcow2Driver, model: Uint8Array, what: string): Promise<void> {
  const got = new Uint8Array(model.length);
  await drv.read(0, got);
  const d = firstDiff(got, model);
  expect(d, `${what}: first difference at byte ${d}`).toBe(-1);
}

async function checkClean(file: string): Promise<void> {
  const drv = (await openImage(file, { readOnly: true })) as Qcow2Driver;
  const lines: string[] = [];
  const res = await drv.exclusive((img) => checkQcow2(img, { leaks: false, errors: false }, (l) => lines.push(l)));
  await drv.close();
  expect(lines).toEqual([]);
  expect(res.corruptions + res.leaks + res.checkErrors).toBe(0);
}

/**
 * Random writes, zero writes, discards, compressed writes, flushes and snapshots on a small
 * image with tiny metadata caches (so tables are evicted and written mid-run), checked byte for
 * byte against a model, then checked for refcount consistency and leaks.
 */
async function randomRun(clusterSize: number, refcountBits: number, version: 2 | 3, seed: number): Promise<void> {
  const file = path.join(dir, `r-${clusterSize}-${refcountBits}-v${version}-${seed}.qcow2`);
  const size = Math.max(4 << 20, clusterSize * (clusterSize >= 1 << 20 ? 6 : 24)) + 512 * 3; // not cluster aligned on purpose
  await createQcow2(file, { size, clusterSize, refcountBits, version });
  const rnd = prng(seed);
  let drv = (await openImage(file, { l2CacheTables: 2, refblockCacheTables: 2 })) as Qcow2Driver;
  let model: Uint8Array = new Uint8Array(size);
  const snapshots = new Map<string, Uint8Array>();
  for (let op = 0; op < 160; op++) {
    const r = rnd();
    if (r < 0.45) {
      const len = randInt(rnd, 1, clusterSize * 3);
      const off = randInt(rnd, 0, size - len);
      const data = pattern(new Uint8Array(len), op + seed * 1000);
      await drv.write(off, data);
      model.set(data, off);
    } else if (r < 0.55) {
      const len = randInt(rnd, 1, clusterSize * 4);
      const off = randInt(rnd, 0, size - len);
      await drv.writeZeroes(off, len, { mayUnmap: rnd() < 0.5 });
      model.fill(0, off, off + len);
    } else if (r < 0.62) {
      const len = randInt(rnd, clusterSize, clusterSize * 4);
      const off = randInt(rnd, 0, size - len);
      await drv.discard(off, len);
      // Discard only affects whole clusters; they then read as zeros (no backing file).
      const first = Math.ceil(off / clusterSize) * clusterSize;
      const last = Math.floor((off + len) / clusterSize) * clusterSize;
      if (last > first) model.fill(0, first, last);
    } else if (r < 0.72) {
      const nClusters = Math.ceil(size / clusterSize);
      const c = randInt(rnd, 0, nClusters - 1);
      const len = Math.min(clusterSize, size - c * clusterSize);
      const data = new Uint8Array(len);
      // Compressible: a short pattern repeated, sometimes random (falls back to a normal write).
      const unit = pattern(new Uint8Array(rnd() < 0.8 ? 61 : len), op);
      for (let i = 0; i < len; i++) data[i] = unit[i % unit.length]!;
      await drv.writeCompressed(c * clusterSize, data);
      model.set(data, c * clusterSize);
    } else if (r < 0.78) {
      await drv.flush();
    } else if (r < 0.84) {
      const len = randInt(rnd, 1, clusterSize * 2);
      const off = randInt(rnd, 0, size - len);
      const got = new Uint8Array(len);
      await drv.read(off, got);
      expect(firstDiff(got, model.subarray(off, off + len))).toBe(-1);
    } else if (r < 0.9 && version === 3) {
      const name = `s${op}`;
      const vmState = rnd() < 0.3 ? pattern(new Uint8Array(randInt(rnd, 1, clusterSize * 3)), op) : undefined;
      try {
        await drv.createSnapshot({ name, vmState });
      } catch (err) {
        // Narrow refcounts cannot count a second reference (QEMU fails with ERANGE too); the
        // transaction must then leave the image exactly as it was.
        expect((err as BlockError).code).toBe('ERANGE');
        expect(refcountBits).toBeLessThan(4);
        continue;
      }
      snapshots.set(name, model.slice());
      if (vmState) expect(firstDiff(await drv.readSnapshotVmState(name), vmState)).toBe(-1);
    } else if (r < 0.95 && snapshots.size) {
      const names = [...snapshots.keys()];
      const name = names[randInt(rnd, 0, names.length - 1)]!;
      await drv.applySnapshot(name);
      model = snapshots.get(name)!.slice();
    } else if (snapshots.size) {
      const names = [...snapshots.keys()];
      const name = names[randInt(rnd, 0, names.length - 1)]!;
      await drv.deleteSnapshot(name);
      snapshots.delete(name);
    } else {
      await drv.close();
      drv = (await openImage(file, { l2CacheTables: 2, refblockCacheTables: 2 })) as Qcow2Driver;
    }
  }
  await verify(drv, model, 'before close');
  await drv.close();
  await checkClean(file);
  const ro = (await openImage(file, { readOnly: true })) as Qcow2Driver;
  await verify(ro, model, 'after reopen');
  for (const [name, content] of snapshots) {
    expect(ro.listSnapshots().some((s) => s.name === name)).toBe(true);
    void content;
  }
  await ro.close();
  // Each snapshot still holds its own content.
  for (const [name, content] of snapshots) {
    const rw = (await openImage(file)) as Qcow2Driver;
    await rw.applySnapshot(name);
    await verify(rw, content, `snapshot ${name}`);
    await rw.close();
  }
  await checkClean(file);
}

describe('qcow2 engine against a model', () => {
  const cases: [number, number, 2 | 3][] = [
    [65536, 16, 3], [512, 16, 3], [1024, 1, 3], [4096, 2, 3], [8192, 4, 3], [16384, 8, 3], [32768, 32, 3],
    [65536, 64, 3], [2 << 20, 16, 3], [65536, 16, 2], [4096, 16, 2],
  ];
  for (const [cs, rb, v] of cases) {
    it(`cluster ${cs}, refcount bits ${rb}, v${v}`, async () => {
      await randomRun(cs, rb, v, cs + rb + v);
    }, 60_000);
  }
});

/**
 * Requests in flight together, as convert's pipeline and a guest's queue issue them: whole-cluster
 * writes do their data I/O outside the lock and link their L2 entries afterwards, so batches of
 * writes, partial writes, zero writes, discards, reads and flushes on disjoint ranges (some in
 * the same clusters) run concurrently, with tiny caches (tables evicted mid-batch) and
 * snapshots between batches; content is checked against the model and refcounts after.
 */
async function concurrentRun(clusterSize: number, seed: number): Promise<void> {
  const file = path.join(dir, `c-${clusterSize}-${seed}.qcow2`);
  const size = clusterSize * 64;
  await createQcow2(file, { size, clusterSize });
  const rnd = prng(seed);
  const drv = (await openImage(file, { l2CacheTables: 1, refblockCacheTables: 1 })) as Qcow2Driver;
  const model = new Uint8Array(size);
  const snapshots = new Map<string, Uint8Array>();
  for (let batch = 0; batch < 40; batch++) {
    // Disjoint ranges: the batch's result does not depend on the order requests finish in.
    const slots = Array.from({ length: 16 }, (_, i) => i).sort(() => rnd() - 0.5).slice(0, 8);
    const ops: Promise<void>[] = [];
    for (const slot of slots) {
      const base = slot * 4 * clusterSize;
      const r = rnd();
      if (r < 0.5) {
        const whole = rnd() < 0.7;
        const off = base + (whole ? 0 : randInt(rnd, 0, clusterSize - 1));
        const len = whole ? clusterSize * randInt(rnd, 1, 4) : randInt(rnd, 1, base + 4 * clusterSize - off);
        const data = pattern(new Uint8Array(len), batch * 100 + slot);
        ops.push(drv.write(off, data));
        model.set(data, off);
      } else if (r < 0.65) {
        ops.push(drv.writeZeroes(base, clusterSize * 2, { mayUnmap: rnd() < 0.5 }));
        model.fill(0, base, base + clusterSize * 2);
      } else if (r < 0.8) {
        ops.push(drv.discard(base + clusterSize, clusterSize * 3));
        model.fill(0, base + clusterSize, base + clusterSize * 4);
      } else if (r < 0.9) {
        const got = new Uint8Array(clusterSize * 4);
        const want = model.slice(base, base + clusterSize * 4);
        ops.push(drv.read(base, got).then(() => expect(firstDiff(got, want)).toBe(-1)));
      } else {
        ops.push(drv.flush());
      }
    }
    await Promise.all(ops);
    if (batch % 10 === 9) {
      await drv.createSnapshot({ name: `b${batch}` });
      snapshots.set(`b${batch}`, model.slice());
    }
  }
  // The same clusters written by two requests at once: one of them wins, nothing leaks.
  const a = pattern(new Uint8Array(clusterSize * 3), 1);
  const b = pattern(new Uint8Array(clusterSize * 3), 2);
  await Promise.all([drv.write(0, a), drv.write(0, b), drv.discard(clusterSize * 8, clusterSize), drv.write(clusterSize * 8, a)]);
  const got = new Uint8Array(clusterSize * 3);
  await drv.read(0, got);
  expect(firstDiff(got, a) === -1 || firstDiff(got, b) === -1, 'one write wins whole').toBe(true);
  model.set(got, 0);
  await drv.read(clusterSize * 8, got);
  model.set(got, clusterSize * 8);
  await verify(drv, model, 'after concurrent batches');
  await drv.close();
  await checkClean(file);
  for (const [name, content] of snapshots) {
    const rw = (await openImage(file)) as Qcow2Driver;
    await rw.applySnapshot(name);
    await verify(rw, content, `snapshot ${name}`);
    await rw.close();
  }
  await checkClean(file);
}

describe('qcow2 engine, requests in flight together', () => {
  for (const cs of [512, 65536]) {
    it(`cluster ${cs}`, async () => {
      await concurrentRun(cs, cs + 11);
    }, 60_000);
  }
});

describe('backing files', () => {
  it('reads through, copies on write, and hides backing data on discard', async () => {
    const base = path.join(dir, 'base.qcow2');
    const top = path.join(dir, 'top.qcow2');
    const size = 3 << 20;
    await createQcow2(base, { size });
    const b = (await openImage(base)) as Qcow2Driver;
    const model = pattern(new Uint8Array(size), 7);
    await b.write(0, model);
    await b.close();
    await createQcow2(top, { size: size + 65536, backingFile: 'base.qcow2', backingFormat: 'qcow2' });
    const t = (await openImage(top)) as Qcow2Driver;
    const full = new Uint8Array(size + 65536);
    full.set(model);
    await verify(t, full, 'through backing');
    const patch = pattern(new Uint8Array(1000), 9);
    await t.write(70000, patch); // partial cluster: the rest comes from the backing file
    full.set(patch, 70000);
    await t.discard(131072, 65536);
    full.fill(0, 131072, 196608);
    await verify(t, full, 'after COW and discard');
    await t.close();
    await checkClean(top);
    await checkClean(base);
  });

  it('refuses a backing chain that loops', async () => {
    const a = path.join(dir, 'loop-a.qcow2');
    const bb = path.join(dir, 'loop-b.qcow2');
    await createQcow2(a, { size: 1 << 20, backingFile: 'loop-b.qcow2', backingFormat: 'qcow2' });
    await createQcow2(bb, { size: 1 << 20, backingFile: 'loop-a.qcow2', backingFormat: 'qcow2' });
    await expect(openImage(a)).rejects.toThrow(/infinite loop/);
  });

  it('names a missing backing file', async () => {
    const a = path.join(dir, 'orphan.qcow2');
    await createQcow2(a, { size: 1 << 20, backingFile: 'gone.qcow2', backingFormat: 'qcow2' });
    await expect(openImage(a)).rejects.toThrow(/Could not open backing file: Could not open '.*gone.qcow2': No such file or directory/);
  });
});

describe('the dirty flag and lazy refcounts', () => {
  const dirtyOnDisk = async (file: string) => {
    const { readFileSync } = await import('node:fs');
    return (readFileSync(file).readBigUInt64BE(72) & 1n) === 1n;
  };

  it('lazy_refcounts: dirty while written, clean after close; refcounts stay exact', async () => {
    const file = path.join(dir, 'lazy.qcow2');
    await createQcow2(file, { size: 4 << 20, lazyRefcounts: true });
    const d = (await openImage(file)) as Qcow2Driver;
    expect(await dirtyOnDisk(file)).toBe(false);
    await d.write(0, pattern(new Uint8Array(100_000), 3));
    expect(await dirtyOnDisk(file)).toBe(true);
    expect((await d.getInfo()).dirtyFlag).toBe(true);
    await d.close();
    expect(await dirtyOnDisk(file)).toBe(false);
    await checkClean(file);
  });

  it('a dirty image opened read-write is repaired first (as QEMU does), then marked clean', async () => {
    const file = path.join(dir, 'dirty.qcow2');
    await createQcow2(file, { size: 4 << 20 });
    const d = (await openImage(file)) as Qcow2Driver;
    await d.write(0, pattern(new Uint8Array(65536), 4));
    await d.close();
    const { readFileSync, writeFileSync } = await import('node:fs');
    const b = readFileSync(file);
    b.writeBigUInt64BE(b.readBigUInt64BE(72) | 1n, 72); // dirty
    b.writeUInt16BE(2, 0x20000 + 2 * 5); // and a refcount that is too high (a leak)
    writeFileSync(file, b);
    const ro = (await openImage(file, { readOnly: true })) as Qcow2Driver;
    const res = await ro.exclusive((img) => checkQcow2(img, { leaks: false, errors: false }, () => {}));
    await ro.close();
    expect(res.leaks + res.corruptions).toBeGreaterThan(0);
    const rw = (await openImage(file)) as Qcow2Driver;
    await rw.close();
    expect(await dirtyOnDisk(file)).toBe(false);
    await checkClean(file);
  });
});

describe('create', () => {
  it('syncs four times, as QEMU does; unsafe (a convert target with -t unsafe) never, same image', async () => {
    for (const [unsafe, syncs] of [[false, 4], [true, 0]] as const) {
      const file = path.join(dir, `create-${unsafe}.qcow2`);
      let n = 0;
      await createQcow2(file, { size: 3 * 2 ** 30, unsafe, faults: { beforeSync: () => void n++ } });
      expect(n, `unsafe ${unsafe}`).toBe(syncs);
      await checkClean(file);
      const d = (await openImage(file, { readOnly: true })) as Qcow2Driver;
      expect(d.length()).toBe(3 * 2 ** 30);
      await d.close();
    }
  });
});
