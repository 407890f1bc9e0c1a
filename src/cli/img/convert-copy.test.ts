// convert's copy pipeline in process, against a model: many read units (so the buffer ring wraps
// several times and writes merge across unit edges), raw and QCOW2 sources with holes, zero and
// data clusters, several sources whose edges fall inside a unit, an existing target that is not
// zero, -S 0, compression, and a read that fails halfway (reported, nothing left running).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BlockError, createQcow2, openImage, type BlockDriver, type IoRequest } from '../../emulator-core/block';
import { checkQcow2 } from '../../emulator-core/block/qcow2/check';
import type { Qcow2Driver } from '../../emulator-core/block/qcow2/driver';
import { firstDiff, pattern } from '../../emulator-core/block/testing/model';
import { CommandError } from './common';
import { copyImage, type CopyJob } from './convert-copy';

const dir = mkdtempSync(path.join(tmpdir(), 'viv-convert-copy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MiB = 1 << 20;

/** A raw file of `size` bytes: data where `data` says (pattern bytes), holes elsewhere. */
function rawFile(name: string, size: number, data: [number, number][], seed: number): { file: string; model: Uint8Array } {
  const model = new Uint8Array(size);
  for (const [off, len] of data) model.set(pattern(new Uint8Array(len), seed + off), off);
  const file = path.join(dir, name);
  writeFileSync(file, model); // zero runs in the model stay zero: sparse detection finds them
  return { file, model };
}

async function readAll(drv: BlockDriver): Promise<Uint8Array> {
  const buf = new Uint8Array(drv.length());
  await drv.read(0, buf);
  return buf;
}

async function expectClean(file: string): Promise<void> {
  const drv = (await openImage(file, { readOnly: true })) as Qcow2Driver;
  const res = await drv.exclusive((img) => checkQcow2(img, { leaks: false, errors: false }, () => {}));
  await drv.close();
  expect(res.corruptions + res.leaks + res.checkErrors).toBe(0);
}

function job(sources: BlockDriver[], target: BlockDriver, over: Partial<CopyJob> = {}): CopyJob {
  let base = 0;
  const srcs = sources.map((drv) => {
    const s = { drv, base };
    base += drv.length();
    return s;
  });
  return { sources: srcs, target, total: base, zeroInit: true, compress: false, minSparse: 4096, parallel: 8, topOnly: false, progress: null, ...over };
}

describe('convert copy pipeline', () => {
  it('raw and qcow2 sources, concatenated, into qcow2 and raw targets', async () => {
    // 13 MiB + 5 MiB + 100 KiB: source edges fall inside read units.
    const a = rawFile('a.raw', 13 * MiB, [[0, 3 * MiB], [4 * MiB + 4096, 5000], [6 * MiB - 100, 3 * MiB], [12 * MiB, MiB]], 1);
    const qfile = path.join(dir, 'b.qcow2');
    await createQcow2(qfile, { size: 5 * MiB });
    const q = await openImage(qfile);
    const bModel = new Uint8Array(5 * MiB);
    for (const [off, len] of [[65536, 3 * 65536], [2 * MiB - 512, 1024], [4 * MiB, MiB]] as const) {
      const d = pattern(new Uint8Array(len), off);
      await q.write(off, d);
      bModel.set(d, off);
    }
    await q.writeZeroes(3 * MiB, 65536 * 2);
    await q.close();
    const c = rawFile('c.raw', 100 * 1024, [[0, 100 * 1024]], 3);
    const want = new Uint8Array(13 * MiB + 5 * MiB + 100 * 1024);
    want.set(a.model, 0);
    want.set(bModel, 13 * MiB);
    want.set(c.model, 18 * MiB);

    for (const fmt of ['qcow2', 'raw'] as const) {
      const out = path.join(dir, `out.${fmt}`);
      if (fmt === 'qcow2') await createQcow2(out, { size: want.length });
      else writeFileSync(out, new Uint8Array(want.length));
      const srcs = [await openImage(a.file, { format: 'raw', readOnly: true }), await openImage(qfile, { readOnly: true }), await openImage(c.file, { format: 'raw', readOnly: true })];
      const target = await openImage(out, { format: fmt });
      await copyImage(job(srcs, target));
      expect(firstDiff(await readAll(target), want), fmt).toBe(-1);
      await target.close();
      for (const s of srcs) await s.close();
      if (fmt === 'qcow2') await expectClean(out);
    }
  });

  it('an existing target that is not zero: zeros are written; -S 0 and -c give the same content', async () => {
    const a = rawFile('z.raw', 9 * MiB + 512, [[MiB, 2 * MiB], [5 * MiB + 12345, 70000]], 5);
    for (const over of [{ zeroInit: false }, { zeroInit: false, minSparse: 0 }, { compress: true }] as Partial<CopyJob>[]) {
      const out = path.join(dir, 'existing.qcow2');
      await createQcow2(out, { size: a.model.length });
      const t = await openImage(out);
      await t.write(0, new Uint8Array(a.model.length).fill(0x55));
      const src = await openImage(a.file, { format: 'raw', readOnly: true });
      // Compression into a target with old data: not a case convert makes (it creates the
      // target), so the target is emptied first there.
      if (over.compress) await t.writeZeroes(0, a.model.length, { mayUnmap: true });
      await copyImage(job([src], t, over));
      expect(firstDiff(await readAll(t), a.model), JSON.stringify(over)).toBe(-1);
      await t.close();
      await src.close();
      await expectClean(out);
    }
  });

  it('-c with two sources whose edge falls inside a cluster, ending inside a sector', async () => {
    // 3 MiB + 512 and 1 MiB - 300: the end is not even a whole sector (the target rounds up).
    const a = rawFile('ca.raw', 3 * MiB + 512, [[0, 3 * MiB + 512]], 11);
    const b = rawFile('cb.raw', MiB - 300, [[0, 4096], [MiB - 400, 100]], 12);
    const want = new Uint8Array(Math.ceil((a.model.length + b.model.length) / 512) * 512);
    want.set(a.model);
    want.set(b.model, a.model.length);
    const out = path.join(dir, 'cat-c.qcow2');
    await createQcow2(out, { size: want.length });
    const t = await openImage(out);
    const srcs = [await openImage(a.file, { format: 'raw', readOnly: true }), await openImage(b.file, { format: 'raw', readOnly: true })];
    await copyImage(job(srcs, t, { compress: true }));
    expect(firstDiff(await readAll(t), want)).toBe(-1);
    await t.close();
    for (const s of srcs) await s.close();
    await expectClean(out);
  });

  it('a raw source with a map of its data: holes are zero extents, never read', async () => {
    const a = rawFile('m.raw', 7 * MiB, [[MiB, 2 * MiB], [5 * MiB, 4096]], 9);
    const real = await openImage(a.file, { format: 'raw', readOnly: true });
    const read: [number, number][] = [];
    const spy: BlockDriver = Object.create(real, {
      readMany: { value: (reqs: readonly IoRequest[]) => (reqs.forEach((r) => read.push([r.offset, r.data.length])), real.readMany(reqs)) },
    });
    const map = [{ offset: MiB, length: 2 * MiB }, { offset: 5 * MiB, length: 65536 }];
    const out = path.join(dir, 'mapped.qcow2');
    await createQcow2(out, { size: a.model.length });
    const t = await openImage(out);
    const j = job([spy], t);
    j.sources[0]!.dataExtents = Promise.resolve(map);
    await copyImage(j);
    expect(firstDiff(await readAll(t), a.model)).toBe(-1);
    for (const [off, len] of read) expect(map.some((m) => off >= m.offset && off + len <= m.offset + m.length), `read ${off}+${len}`).toBe(true);
    await t.close();
    await real.close();
    await expectClean(out);
  });

  it('a read that fails halfway is reported, and nothing is left running', async () => {
    const a = rawFile('f.raw', 12 * MiB, [[0, 12 * MiB]], 7);
    const real = await openImage(a.file, { format: 'raw', readOnly: true });
    let reads = 0;
    let running = 0;
    const failing: BlockDriver = Object.create(real, {
      readMany: {
        value: async (reqs: readonly IoRequest[]) => {
          running++;
          try {
            if (++reads === 3) throw new BlockError('EIO', 'Input/output error');
            await real.readMany(reqs);
          } finally {
            running--;
          }
        },
      },
    });
    const out = path.join(dir, 'fail.qcow2');
    await createQcow2(out, { size: 12 * MiB });
    const t = await openImage(out);
    const err = await copyImage(job([failing], t)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect((err as Error).message).toMatch(/^error while reading at byte \d+: Input\/output error$/);
    expect(running).toBe(0);
    await t.close();
    await real.close();
    await expectClean(out);
  });
});
