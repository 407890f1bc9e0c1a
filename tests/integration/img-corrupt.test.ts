// Bad input: hand-made and fuzzed corrupt images. Every command answers with a clear error
// naming the problem (exit 1; check reports corruption with exit 2), never a host exception,
// and a command that only reads leaves the image byte for byte as it was.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlockError, createQcow2, openImage, Qcow2Driver } from '../../src/emulator-core/block';
import { checkQcow2 } from '../../src/emulator-core/block/qcow2/check';
import { pattern, prng, randInt } from '../../src/emulator-core/block/testing/model';
import { ensureBuilt, hasQemuTools, qemuImg, removeDir, scratch, sha256, viv } from './img-lib';

const qemu = hasQemuTools();

function poke(file: string, offset: number, bytes: Uint8Array): void {
  const b = readFileSync(file);
  Buffer.from(bytes).copy(b, offset);
  writeFileSync(file, b);
}
const u32 = (v: number) => Buffer.from([v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255]);
const u64 = (v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(v);
  return b;
};

/** Output must be our own words: no stack trace, no JS error class names. */
function expectCleanError(text: string, what: string): void {
  expect(text, what).not.toMatch(/TypeError|RangeError|ReferenceError|SyntaxError|\n\s+at |Error: /);
}

describe('corrupt images', () => {
  let dir: string;
  let good: string;
  beforeAll(async () => {
    ensureBuilt();
    dir = scratch('corrupt');
    good = path.join(dir, 'good.qcow2');
    // 64 KiB clusters: header 0, reftable 0x10000, refblock 0x20000, L1 0x30000, L2 0x40000, data.
    await createQcow2(good, { size: 16 << 20 });
    const d = (await openImage(good)) as Qcow2Driver;
    await d.write(0, pattern(new Uint8Array(1 << 20), 1));
    await d.writeCompressed(2 << 20, new Uint8Array(65536).fill(7));
    await d.createSnapshot({ name: 'snap' });
    await d.write(4 << 20, pattern(new Uint8Array(100_000), 2));
    await d.close();
  });
  afterAll(() => removeDir(dir));

  const cases: [string, (f: string) => void, RegExp][] = [
    ['truncated header', (f) => writeFileSync(f, readFileSync(f).subarray(0, 50)), /qcow2 header too short|not in qcow2 format/],
    ['version 4', (f) => poke(f, 4, u32(4)), /Unsupported qcow2 version 4/],
    ['cluster size 2^30', (f) => poke(f, 20, u32(30)), /Unsupported cluster size: 2\^30/],
    ['L1 size overflow', (f) => poke(f, 36, u32(0xffffffff)), /Active L1 table too large/],
    ['L1 offset unaligned', (f) => poke(f, 40, u64(0x123n)), /Active L1 table offset invalid/],
    ['L1 table too small for the size', (f) => poke(f, 24, u64(1n << 40n)), /L1 table is too small/],
    ['refcount table offset unaligned', (f) => poke(f, 48, u64(0x777n)), /Reference count table offset invalid/],
    ['refcount table too large', (f) => poke(f, 56, u32(0x10000000)), /Reference count table too large/],
    ['no refcount table', (f) => poke(f, 56, u32(0)), /does not contain a reference count table/],
    ['refcount width 128 bits', (f) => poke(f, 96, u32(7)), /Reference count entry width too large/],
    ['unknown incompatible feature', (f) => poke(f, 72, u64(0x100n)), /Unsupported qcow2 feature\(s\): Unknown incompatible feature: 100/],
    ['header extension too large', (f) => poke(f, 116, u32(0x7fffffff)), /Header extension too large/],
    ['backing file offset past the header cluster', (f) => poke(f, 8, u64(0x20000n)), /Invalid backing file offset/],
    ['encrypted', (f) => poke(f, 32, u32(5)), /Unsupported encryption method 5/],
    ['too many snapshots', (f) => poke(f, 60, u32(0x20000)), /Snapshot table too large/],
    ['snapshot table offset unaligned', (f) => poke(f, 64, u64(0x1234n)), /Snapshot table offset invalid/],
    ['snapshot table garbage (huge extra data)', (f) => {
      const b = readFileSync(f);
      const off = Number(b.readBigUInt64BE(64));
      poke(f, off + 36, u32(0x7fffffff));
    }, /Too much extra metadata in snapshot table entry 0/],
    ['missing backing file', (f) => {
      // Give the image a backing file name in the header cluster (after the extensions).
      poke(f, 8, u64(0x1000n));
      poke(f, 16, u32(11));
      poke(f, 0x1000, Buffer.from('gone.qcow2x'));
    }, /Could not open backing file: Could not open '.*gone.qcow2x': No such file or directory/],
  ];

  for (const [name, corrupt, message] of cases) {
    it(`${name}: a clear error, exit 1, image untouched`, () => {
      const f = path.join(dir, `${name.replace(/\W+/g, '-')}.qcow2`);
      copyFileSync(good, f);
      corrupt(f);
      const before = sha256(f);
      const cmds = [['info', f], ['info', '--output=json', '--backing-chain', f], ['check', f], ['map', f], ['convert', '-O', 'raw', f, path.join(dir, 'out.raw')],
        ['compare', f, good], ['snapshot', '-l', f], ['measure', '-O', 'qcow2', f], ['resize', f, '+1M'], ['snapshot', '-c', 'x', f]];
      let matched = 0;
      for (const args of cmds) {
        const r = viv(args);
        expectCleanError(r.stderr + r.stdout, `${args.join(' ')}`);
        if (r.status === 0) continue; // some commands do not look at the corrupt part (info on a missing backing file)
        expect(r.status === 1 || (args[0] === 'compare' && r.status === 2), `${args.join(' ')}: exit ${r.status}\n${r.stderr}`).toBe(true);
        if (message.test(r.stderr)) matched++;
        expect(r.stderr).toMatch(/^viv img: /m);
      }
      expect(matched, 'the message names the problem').toBeGreaterThan(0);
      expect(sha256(f), 'nothing written to a corrupt image').toBe(before);
    });
  }

  it.skipIf(!qemu)('refcount overflow: two references to a cluster of a 1-bit refcount image', async () => {
    const f = path.join(dir, 'rb1.qcow2');
    await createQcow2(f, { size: 1 << 20, refcountBits: 1 });
    const d = (await openImage(f)) as Qcow2Driver;
    await d.write(0, new Uint8Array(65536).fill(1));
    await d.close();
    // A snapshot would need refcount 2: refused, and the image is left as it was (one transaction).
    const before = sha256(f);
    const snap = viv(['snapshot', '-c', 's', f]);
    expect(snap.status).toBe(1);
    expect(snap.stderr).toMatch(/^viv img: Could not create snapshot 's': refcount overflow on cluster \d+$/m);
    expect(sha256(f)).toBe(before);
    // Make the second L2 entry point at the first one's cluster: check counts past 1.
    const b = readFileSync(f);
    const l1 = Number(b.readBigUInt64BE(40));
    const l2 = Number(b.readBigUInt64BE(l1) & 0x00fffffffffffe00n);
    b.copy(b, l2 + 8, l2, l2 + 8);
    writeFileSync(f, b);
    const ours = viv(['check', f]);
    const theirs = qemuImg(['check', f]);
    expect(ours.stderr).toMatch(/^ERROR: overflow cluster offset=0x[0-9a-f]+$/m);
    expect(ours.stdout).toBe(theirs.stdout);
    expect(ours.stderr).toBe(theirs.stderr);
    expect(ours.status).toBe(2);
  });

  it('a backing chain that loops', async () => {
    const a = path.join(dir, 'loop-a.qcow2');
    const b = path.join(dir, 'loop-b.qcow2');
    await createQcow2(a, { size: 1 << 20, backingFile: 'loop-b.qcow2', backingFormat: 'qcow2' });
    await createQcow2(b, { size: 1 << 20, backingFile: 'loop-a.qcow2', backingFormat: 'qcow2' });
    for (const args of [['info', '--backing-chain', a], ['convert', '-O', 'raw', a, path.join(dir, 'x.raw')], ['check', a], ['map', a]]) {
      const r = viv(args);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/creates an infinite loop/);
    }
  });

  it.skipIf(!qemu)('corruptions inside the tables: check reports what qemu-img reports, reads fail cleanly', () => {
    const mk = (name: string, fn: (f: string) => void) => {
      const f = path.join(dir, name);
      copyFileSync(good, f);
      fn(f);
      return f;
    };
    const b = readFileSync(good);
    const l1 = Number(b.readBigUInt64BE(40));
    const l2 = Number(b.readBigUInt64BE(l1) & 0x00fffffffffffe00n);
    const files = [
      mk('l2-past-eof.qcow2', (f) => poke(f, l2, u64((1n << 63n) | 0x40000000n))),
      mk('l2-unaligned.qcow2', (f) => poke(f, l2 + 8, u64((1n << 63n) | 0x50200n))),
      mk('l2-reserved.qcow2', (f) => poke(f, l2 + 16, u64((1n << 63n) | 0x60002n))),
      mk('l1-unaligned.qcow2', (f) => poke(f, l1, u64((1n << 63n) | BigInt(l2 + 512)))),
      mk('refblock-unaligned.qcow2', (f) => poke(f, 0x10000, u64(0x20200n))),
      mk('refcount-zero.qcow2', (f) => poke(f, 0x20000 + 2 * 5, Buffer.from([0, 0]))),
      mk('compressed-garbage.qcow2', (f) => {
        // The compressed cluster's bytes: overwrite its deflate stream.
        const e = readFileSync(f).readBigUInt64BE(l2 + 32 * 8);
        const off = Number(e & ((1n << 54n) - 1n));
        poke(f, off, Buffer.alloc(64, 0xff));
      }),
    ];
    for (const f of files) {
      const before = sha256(f);
      const ours = viv(['check', f]);
      const theirs = qemuImg(['check', f]);
      expectCleanError(ours.stderr, f);
      expect(ours.stdout, f).toBe(theirs.stdout);
      expect(ours.stderr.replace(/viv img/g, 'qemu-img'), f).toBe(theirs.stderr);
      expect(ours.status, f).toBe(theirs.status);
      const conv = viv(['convert', '-O', 'raw', f, path.join(dir, 'c.raw')]);
      expectCleanError(conv.stderr, f);
      expect([0, 1]).toContain(conv.status);
      if (conv.status) expect(conv.stderr).toMatch(/^viv img: error while reading (at byte|block status at offset) \d+: /m);
      expect(sha256(f)).toBe(before);
    }
  });

  it('fuzzed metadata: only BlockErrors, no host exception, read-only use changes nothing', async () => {
    const base = readFileSync(good);
    const rnd = prng(4242);
    const f = path.join(dir, 'fuzz.qcow2');
    // Metadata lives in the first clusters (header, refcount table and block, L1, L2) and the
    // snapshot table and L1 copy near the end.
    const snapOff = Number(base.readBigUInt64BE(64));
    const regions: [number, number][] = [[0, 512], [0x10000, 64], [0x20000, 128], [0x30000, 64], [0x40000, 4096], [snapOff, 256]];
    let rejected = 0;
    let opened = 0;
    for (let iter = 0; iter < 300; iter++) {
      const b = Buffer.from(base);
      const flips = randInt(rnd, 1, 6);
      for (let k = 0; k < flips; k++) {
        const [start, len] = regions[randInt(rnd, 0, regions.length - 1)]!;
        const at = start + randInt(rnd, 0, len - 1);
        b[at] = rnd() < 0.5 ? randInt(rnd, 0, 255) : b[at]! ^ (1 << randInt(rnd, 0, 7));
      }
      writeFileSync(f, b);
      const before = sha256(f);
      try {
        const d = await openImage(f, { readOnly: true });
        opened++;
        try {
          await d.getInfo();
          const buf = new Uint8Array(Math.min(d.length(), 32 << 20));
          await d.read(0, buf).catch((err) => {
            if (!(err instanceof BlockError)) throw err;
          });
          if (d instanceof Qcow2Driver) await d.exclusive((img) => checkQcow2(img, { leaks: false, errors: false }, () => {}));
        } finally {
          await d.close();
        }
      } catch (err) {
        if (!(err instanceof BlockError)) throw new Error(`iteration ${iter}: host exception ${(err as Error).stack}`);
        rejected++;
      }
      expect(sha256(f), `iteration ${iter}`).toBe(before);
      // Read-write use of a damaged image may fail, but only with a BlockError.
      if (iter % 5 === 0) {
        try {
          const d = await openImage(f);
          try {
            await d.write(randInt(rnd, 0, 200) * 65536, new Uint8Array(70_000).fill(iter & 255));
            await d.flush();
          } finally {
            await d.close();
          }
        } catch (err) {
          if (!(err instanceof BlockError)) throw new Error(`iteration ${iter} (write): host exception ${(err as Error).stack}`);
        }
      }
    }
    expect(rejected).toBeGreaterThan(5);
    expect(opened).toBeGreaterThan(20);
  }, 120_000);
});
