// Interop with Debian's qemu-img/qemu-io, both ways: images viv writes (every cluster size and
// refcount width, backing chains, snapshots, compressed clusters) pass `qemu-img check` and
// read back in QEMU as the content we wrote; images QEMU writes read back in viv byte for byte;
// `viv img info --output=json` equals qemu-img's on every field.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQcow2, openImage, Qcow2Driver } from '../../src/emulator-core/block';
import { pattern, prng, randInt } from '../../src/emulator-core/block/testing/model';
import { ensureBuilt, hasQemuTools, qemuImg, qemuIo, removeDir, scratch, viv } from './img-lib';

const qemu = hasQemuTools();

describe.skipIf(!qemu)('interop with qemu-img 7.2', () => {
  let dir: string;
  beforeAll(() => {
    ensureBuilt();
    dir = scratch('interop');
  });
  afterAll(() => removeDir(dir));

  const f = (name: string) => path.join(dir, name);

  /** qemu-img check must report nothing at all (no leaks either) and exit 0. */
  function qemuCheckClean(file: string): void {
    const r = qemuImg(['check', file]);
    expect(r.stderr, `qemu-img check ${file}`).toBe('');
    expect(r.status, r.stdout).toBe(0);
  }

  /** QEMU's view of the image, as raw bytes. */
  function qemuContent(file: string): Buffer {
    const out = f('qemu-view.raw');
    const r = qemuImg(['convert', '-O', 'raw', file, out]);
    expect(r.status, r.stderr).toBe(0);
    return readFileSync(out);
  }

  async function vivContent(file: string): Promise<Buffer> {
    const drv = await openImage(file, { readOnly: true });
    const buf = Buffer.alloc(drv.length());
    await drv.read(0, buf);
    await drv.close();
    return buf;
  }

  const cases: [number, number][] = [[512, 16], [1024, 1], [2048, 64], [4096, 2], [8192, 4], [16384, 8], [32768, 32], [65536, 16], [131072, 16], [262144, 16], [524288, 16], [1 << 20, 16], [2 << 20, 16]];
  for (const [cs, rb] of cases) {
    it(`viv writes, QEMU reads: cluster ${cs}, refcount bits ${rb}`, async () => {
      const file = f(`w-${cs}-${rb}.qcow2`);
      const size = Math.max(8 << 20, cs * 8);
      await createQcow2(file, { size, clusterSize: cs, refcountBits: rb });
      const model = Buffer.alloc(size);
      const drv = (await openImage(file, { l2CacheTables: 2, refblockCacheTables: 2 })) as Qcow2Driver;
      const rnd = prng(cs ^ rb);
      for (let i = 0; i < 60; i++) {
        const kind = rnd();
        if (kind < 0.6) {
          const len = randInt(rnd, 1, cs * 3);
          const off = randInt(rnd, 0, size - len);
          const data = pattern(new Uint8Array(len), i);
          await drv.write(off, data);
          model.set(data, off);
        } else if (kind < 0.75) {
          const len = randInt(rnd, 1, cs * 3);
          const off = randInt(rnd, 0, size - len);
          await drv.writeZeroes(off, len, { mayUnmap: rnd() < 0.5 });
          model.fill(0, off, off + len);
        } else if (kind < 0.9) {
          const c = randInt(rnd, 0, size / cs - 1);
          const data = Buffer.alloc(cs, (i * 7) & 0xff);
          data.write(`cluster ${c} op ${i}`, 0);
          await drv.writeCompressed(c * cs, data);
          model.set(data, c * cs);
        } else {
          await drv.flush();
        }
      }
      await drv.close();
      qemuCheckClean(file);
      expect(qemuContent(file).equals(model)).toBe(true);
      // And QEMU can write to it afterwards.
      expect(qemuIo(['-c', 'write -P 0x5a 0 4096', file]).status).toBe(0);
      model.fill(0x5a, 0, 4096);
      qemuCheckClean(file);
      expect((await vivContent(file)).equals(model)).toBe(true);
    });
  }

  it('viv writes a backing chain and snapshots (with VM state); QEMU reads every layer and snapshot', async () => {
    const base = f('chain-base.qcow2');
    const mid = f('chain-mid.qcow2');
    const top = f('chain-top.qcow2');
    const size = 16 << 20;
    await createQcow2(base, { size });
    await createQcow2(mid, { size, backingFile: 'chain-base.qcow2', backingFormat: 'qcow2' });
    await createQcow2(top, { size, backingFile: 'chain-mid.qcow2', backingFormat: 'qcow2' });
    const model = Buffer.alloc(size);
    const write = async (file: string, off: number, len: number, seed: number) => {
      const d = (await openImage(file)) as Qcow2Driver;
      const data = pattern(new Uint8Array(len), seed);
      await d.write(off, data);
      await d.close();
      model.set(data, off);
    };
    await write(base, 0, 4 << 20, 1);
    await write(mid, 1 << 20, 2 << 20, 2);
    await write(top, 100_000, 300_000, 3);
    const d = (await openImage(top)) as Qcow2Driver;
    await d.discard(3 << 20, 1 << 20); // hides the base's data there: reads zeros
    model.fill(0, 3 << 20, 4 << 20);
    const before = Buffer.from(model);
    await d.createSnapshot({ name: 'snap-a', vmState: pattern(new Uint8Array(300_000), 9), vmClockNsec: 12_345_000_000 });
    const after = pattern(new Uint8Array(70_000), 4);
    await d.write(5 << 20, after);
    model.set(after, 5 << 20);
    await d.createSnapshot({ name: 'snap-b' });
    await d.close();
    for (const file of [base, mid, top]) qemuCheckClean(file);
    expect(qemuContent(top).equals(model)).toBe(true);
    const list = qemuImg(['snapshot', '-l', top]).stdout;
    expect(list).toMatch(/1\s+snap-a\s+293 KiB .* 00:00:12\.345/);
    expect(list).toMatch(/2\s+snap-b\s+0 B/);
    // QEMU applies our snapshot and sees the disk as it was.
    expect(qemuImg(['snapshot', '-a', 'snap-a', top]).status).toBe(0);
    qemuCheckClean(top);
    expect(qemuContent(top).equals(before)).toBe(true);
    expect(qemuImg(['snapshot', '-d', 'snap-a', top]).status).toBe(0);
    qemuCheckClean(top);
    // viv deletes the other one after QEMU touched the table.
    const d2 = (await openImage(top)) as Qcow2Driver;
    await d2.deleteSnapshot('snap-b');
    await d2.close();
    qemuCheckClean(top);
    expect(qemuContent(top).equals(before)).toBe(true);
  });

  it('QEMU writes (random, zero, discard, compressed, snapshots, v2, refcount widths); viv reads byte for byte', async () => {
    const variants = [
      ['-o', 'cluster_size=65536'], ['-o', 'cluster_size=512'], ['-o', 'cluster_size=2M'], ['-o', 'compat=0.10'],
      ['-o', 'refcount_bits=1'], ['-o', 'refcount_bits=64,cluster_size=4096'], ['-o', 'lazy_refcounts=on'],
    ];
    for (const [i, opts] of variants.entries()) {
      const file = f(`q-${i}.qcow2`);
      expect(qemuImg(['create', '-q', '-f', 'qcow2', ...opts, file, '24M']).status).toBe(0);
      const rnd = prng(i + 100);
      const cs = opts.join().includes('2M') ? 2 << 20 : /cluster_size=512($|,)/.test(opts.join()) ? 512 : opts.join().includes('4096') ? 4096 : 65536;
      // Compressed clusters first (QEMU only compresses into unallocated clusters), then the rest.
      const cmds: string[] = [0, 1, 2, 3, 4, 5].map((r) => `write -c -P ${r + 1} ${r * (4 << 20)} ${cs}`);
      for (let k = 0; k < 40; k++) {
        const len = randInt(rnd, 1, 300) * 512;
        const off = randInt(rnd, 0, (24 << 20) / 512 - len / 512) * 512;
        const r = rnd();
        if (r < 0.65) cmds.push(`write -P ${k + 10} ${off} ${len}`);
        else if (r < 0.85) cmds.push(`write -z ${off} ${len}`);
        else cmds.push(`discard ${off} ${len}`);
      }
      const w = qemuIo(cmds.flatMap((c) => ['-c', c]).concat(file));
      expect(w.status, w.stderr).toBe(0);
      if (!opts.join().includes('0.10') && !opts.join().includes('refcount_bits=1')) {
        expect(qemuImg(['snapshot', '-c', 'qs', file]).status).toBe(0);
        expect(qemuIo(['-c', 'write -P 200 0 1M', file]).status).toBe(0);
      }
      const expected = qemuContent(file);
      expect((await vivContent(file)).equals(expected), `variant ${opts.join(' ')}`).toBe(true);
      // viv's check agrees with qemu-img's.
      const ours = viv(['check', file]);
      const theirs = qemuImg(['check', file]);
      expect(ours.stdout).toBe(theirs.stdout);
      expect(ours.status).toBe(theirs.status);
    }
  });

  it('qemu-img convert -c output (zlib) reads back in viv; viv -c output reads back in QEMU', async () => {
    const src = f('mixed.raw');
    const size = 12 << 20;
    const buf = Buffer.alloc(size);
    const rnd = prng(5);
    for (let off = 0; off < size; off += 65536) {
      const r = rnd();
      if (r < 0.3) pattern(buf.subarray(off, off + 65536), off);
      else if (r < 0.6) buf.fill(`text block ${off} `, off, off + 65536);
    }
    writeFileSync(src, buf);
    const q = f('qc.qcow2');
    expect(qemuImg(['convert', '-c', '-O', 'qcow2', '-f', 'raw', src, q]).status).toBe(0);
    expect((await vivContent(q)).equals(buf)).toBe(true);
    const v = f('vc.qcow2');
    const r = viv(['convert', '-c', '-O', 'qcow2', '-f', 'raw', src, v]);
    expect(r.status, r.stderr).toBe(0);
    qemuCheckClean(v);
    expect(qemuContent(v).equals(buf)).toBe(true);
    expect(qemuImg(['compare', '-f', 'qcow2', '-F', 'raw', v, src]).stdout).toBe('Images are identical.\n');
  });

  it('persistent bitmaps (made by qemu-img bitmap): info and check as qemu-img; after a viv write they are kept, marked in use', async () => {
    const file = f('bitmaps.qcow2');
    expect(qemuImg(['create', '-q', '-f', 'qcow2', file, '64M']).status).toBe(0);
    expect(qemuImg(['bitmap', '--add', file, 'b0']).status).toBe(0);
    expect(qemuImg(['bitmap', '--add', '-g', '128k', file, 'b1']).status).toBe(0);
    expect(qemuIo(['-c', 'write -P 1 0 1M', file]).status).toBe(0);
    for (const args of [['info', file], ['info', '--output=json', file], ['check', file]]) {
      expect(viv(args).stdout, args.join(' ')).toBe(qemuImg(args).stdout);
    }
    const d = (await openImage(file)) as Qcow2Driver;
    await d.write(5 << 20, new Uint8Array(70_000).fill(9));
    await d.close();
    qemuCheckClean(file);
    const info = JSON.parse(qemuImg(['info', '--output=json', file]).stdout);
    expect(info['format-specific'].data.bitmaps.map((b: { flags: string[] }) => b.flags)).toEqual([['in-use', 'auto'], ['in-use', 'auto']]);
    expect(viv(['info', '--output=json', file]).stdout).toBe(qemuImg(['info', '--output=json', file]).stdout);
  });

  it('viv img info --output=json equals qemu-img info on every field, for every image made here', () => {
    const files = readdirQcow2(dir);
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      for (const extra of [[], ['--backing-chain']]) {
        const ours = viv(['info', '--output=json', ...extra, file]);
        const theirs = qemuImg(['info', '--output=json', ...extra, file]);
        expect(ours.status).toBe(theirs.status);
        expect(ours.stdout, `${file} ${extra.join(' ')}`).toBe(theirs.stdout);
      }
    }
  });
});

function readdirQcow2(dir: string): string[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fs = require('node:fs') as typeof import('node:fs');
  return fs.readdirSync(dir).filter((n) => n.endsWith('.qcow2')).map((n) => path.join(dir, n));
}
