// A full disk while writing: the write fails with ENOSPC surfaced to the caller (and to the user
// of `viv img convert`), and the image stays consistent. With root we use a small tmpfs (a real
// full file system); everywhere we also inject ENOSPC at the driver's file layer.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlockError, createQcow2, openImage, Qcow2Driver, type IoFaults } from '../../src/emulator-core/block';
import { pattern } from '../../src/emulator-core/block/testing/model';
import { ensureBuilt, hasQemuTools, qemuImg, removeDir, scratch, viv } from './img-lib';

const qemu = hasQemuTools();

function expectConsistent(file: string): void {
  const r = qemuImg(['check', file]);
  const bad = r.stderr.split('\n').filter((l) => l && !/^Leaked cluster \d+ refcount=\d+ reference=\d+$/.test(l));
  expect(bad).toEqual([]);
  expect([0, 3]).toContain(r.status);
}

describe.skipIf(!qemu)('a full disk', () => {
  let dir: string;
  beforeAll(() => {
    ensureBuilt();
    dir = scratch('enospc');
  });
  afterAll(() => removeDir(dir));

  it('injected ENOSPC: writes fail with ENOSPC, the image stays consistent, earlier data stays', async () => {
    for (const budget of [0, 100_000, 700_000, 3_000_000]) {
      const file = path.join(dir, `inj-${budget}.qcow2`);
      await createQcow2(file, { size: 64 << 20 });
      let written = 0;
      let full = false;
      const faults: IoFaults = {
        beforeWrite: (_off, len) => {
          if (full) throw new BlockError('ENOSPC', 'No space left on device');
          written += len;
          if (written > budget + 400_000) {
            full = true;
            throw new BlockError('ENOSPC', 'No space left on device');
          }
        },
      };
      const d = (await openImage(file, { faults, l2CacheTables: 2, refblockCacheTables: 2 })) as Qcow2Driver;
      const first = pattern(new Uint8Array(65536), 1);
      await d.write(0, first);
      await d.flush();
      let error: unknown;
      try {
        for (let i = 1; i < 200; i++) await d.write(i * 300_000, pattern(new Uint8Array(200_000), i));
        await d.flush();
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(BlockError);
      expect((error as BlockError).code).toBe('ENOSPC');
      await d.close().catch((err) => expect((err as BlockError).code).toBe('ENOSPC'));
      expectConsistent(file);
      // What was flushed before the disk filled up is still there.
      const r = await openImage(file, { readOnly: true });
      const back = new Uint8Array(65536);
      await r.read(0, back);
      await r.close();
      expect(Buffer.from(back).equals(Buffer.from(first))).toBe(true);
    }
  });

  const canMount = process.getuid?.() === 0 && spawnSync('mount', ['--version']).status === 0;
  it.skipIf(!canMount)('a real full tmpfs: convert fails naming ENOSPC, exit 1, the target passes qemu-img check', () => {
    const mnt = path.join(dir, 'mnt');
    mkdirSync(mnt);
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mnt], { encoding: 'utf8' });
    if (m.status !== 0) return; // not allowed here (a container without CAP_SYS_ADMIN): the injected test covers it
    try {
      const src = path.join(dir, 'big.raw');
      const buf = Buffer.alloc(16 << 20);
      for (let off = 0; off < buf.length; off += 65536) pattern(buf.subarray(off, off + 65536), off);
      writeFileSync(src, buf);
      for (const args of [['-O', 'qcow2'], ['-O', 'qcow2', '-o', 'cluster_size=4k'], ['-O', 'raw']]) {
        const dst = path.join(mnt, `out.${args[1]}`);
        const r = viv(['convert', '-f', 'raw', ...args, src, dst]);
        expect(r.status, r.stderr).toBe(1);
        expect(r.stderr).toMatch(/^viv img: error while writing at byte \d+: No space left on device$/m);
        if (args[1] === 'qcow2') expectConsistent(dst);
        spawnSync('rm', ['-f', dst]);
      }
      // The driver sees ENOSPC too, and the image it was writing stays consistent.
      const img = path.join(mnt, 'w.qcow2');
      expect(viv(['create', '-q', '-f', 'qcow2', img, '64M']).status).toBe(0);
      const w = viv(['convert', '-n', '-f', 'raw', '-O', 'qcow2', src, img]);
      expect(w.stderr).toMatch(/No space left on device/);
      expectConsistent(img);
    } finally {
      spawnSync('umount', [mnt]);
    }
  });
});
