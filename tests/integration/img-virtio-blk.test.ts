// virtio-blk with the shared Linux guest under viv: the guest writes known patterns (raw dd) to a
// QCOW2 overlay on a base image and to a raw disk, syncs and powers off; the host then checks the
// images with qemu-img and our own reader. (A file system is not possible with the shared guest:
// its ext4 lacks the crc32c module, vfat its code page modules.) A second boot with -snapshot
// reads the data back and scribbles on both disks: the images are unchanged afterwards; a
// readonly=on drive refuses the guest's writes.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { openImage } from '../../src/emulator-core/block';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasCpio, hasGuest, initrdWithAutorun, kernel, vivRun, type VivResult } from './boot-guest';
import { ensureBuilt, hasQemuTools, qemuImg, removeDir, scratch, sha256, viv } from './img-lib';

const MiB = 1 << 20;

/** The pattern the guest writes (busybox `yes`), reproduced on the host. */
function guestPattern(bytes: number): Buffer {
  const line = Buffer.from('VIVARIUM-BLOCK-TEST-PATTERN\n');
  const out = Buffer.alloc(bytes);
  for (let at = 0; at < bytes; at += line.length) line.copy(out, at, 0, Math.min(line.length, bytes - at));
  return out;
}

// Disks are told apart by size, whatever order the guest probes them in.
const FIND = `disk() { for d in /sys/block/vd*; do [ "$(cat $d/size)" = "$1" ] && echo /dev/\${d##*/}; done; }`;

const FIRST_BOOT = `#!/bin/sh
${FIND}
OV=$(disk 131072); FS=$(disk 65536)
echo "DISKS $OV $FS"
echo "BASE-MD5 $(dd if=$OV bs=1M count=4 2>/dev/null | md5sum | cut -d' ' -f1)"
yes VIVARIUM-BLOCK-TEST-PATTERN | head -c 8388608 > /tmp/p
dd if=/tmp/p of=$OV bs=1M seek=16 conv=fsync 2>/dev/null
echo "DD-EXIT $?"
head -c 3000000 /tmp/p | dd of=$FS bs=4096 seek=768 conv=fsync 2>/dev/null
echo "FS-DD-EXIT $?"
# Four writers at once (O_DIRECT: each 64 KiB block is its own request), then read back.
for i in 0 1 2 3; do dd if=/tmp/p of=$OV bs=64k count=16 seek=$((512 + i * 16)) skip=$((i * 16)) oflag=direct 2>/dev/null & done; wait
echo "PAR-MD5 $(dd if=$OV bs=64k skip=512 count=64 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)"
sync
echo 3 > /proc/sys/vm/drop_caches
echo "READBACK-MD5 $(dd if=$OV bs=1M skip=16 count=8 2>/dev/null | md5sum | cut -d' ' -f1)"
`;

const SECOND_BOOT = `#!/bin/sh
${FIND}
OV=$(disk 131072); FS=$(disk 65536); RO=$(disk 16384)
echo "FILE-SHA $(dd if=$FS bs=4096 skip=768 count=733 2>/dev/null | head -c 3000000 | sha256sum | cut -d' ' -f1)"
dd if=/dev/urandom of=$OV bs=1M count=4 conv=fsync 2>/dev/null; echo "SNAP-DD-EXIT $?"
dd if=/dev/urandom of=$FS bs=1M count=1 seek=8 conv=fsync 2>/dev/null; echo "SNAP-FS-DD-EXIT $?"
echo "RO-FLAG $(cat /sys/block/\${RO##*/}/ro)"
dd if=/dev/zero of=$RO bs=4k count=1 conv=fsync 2>/dev/null; echo "RO-DD-EXIT $?"
`;

const line = (r: VivResult, key: string) => new RegExp(`^${key} (.*)$`, 'm').exec(r.stdout)?.[1]?.trim();

describe.skipIf(!hasGuest || !hasCpio || !hasQemuTools())('virtio-blk with the shared guest', () => {
  let dir: string;
  let first: VivResult;
  let second: VivResult;
  let before: Record<string, string>;
  const f = (n: string) => path.join(dir, n);

  beforeAll(async () => {
    ensureBuilt();
    dir = scratch('virtio-blk');
    // base: 4 MiB of a pattern; the guest's disk is an overlay on it (a backing chain).
    writeFileSync(f('base.raw'), Buffer.concat([Buffer.alloc(4 * MiB, 0x5b), Buffer.alloc(60 * MiB)]));
    expect(viv(['convert', '-f', 'raw', '-O', 'qcow2', f('base.raw'), f('base.qcow2')]).status).toBe(0);
    expect(viv(['create', '-q', '-f', 'qcow2', '-b', 'base.qcow2', '-F', 'qcow2', f('top.qcow2'), '64M']).status).toBe(0);
    expect(viv(['create', '-q', '-f', 'raw', f('fs.raw'), '32M']).status).toBe(0);
    expect(viv(['create', '-q', '-f', 'qcow2', f('ro.qcow2'), '8M']).status).toBe(0);
    const common = ['-M', 'virt', '-m', '512M', '-smp', '2', '-nographic', '-kernel', kernel, '-append', 'console=ttyS0 quiet'];
    first = await vivRun([...common, '-initrd', initrdWithAutorun(FIRST_BOOT),
      '-drive', `file=${f('top.qcow2')},format=qcow2,if=virtio`,
      '-drive', `file=${f('fs.raw')},format=raw,if=none,id=fs`, '-device', 'virtio-blk-device,drive=fs,serial=FS0']);
    before = Object.fromEntries(['top.qcow2', 'base.qcow2', 'fs.raw', 'ro.qcow2'].map((n) => [n, sha256(f(n))]));
    second = await vivRun([...common, '-snapshot', '-initrd', initrdWithAutorun(SECOND_BOOT),
      '-drive', `file=${f('top.qcow2')},format=qcow2`, '-drive', `file=${f('fs.raw')},format=raw`,
      '-drive', `file=${f('ro.qcow2')},format=qcow2,readonly=on`]);
  }, 1_800_000);
  afterAll(() => removeDir(dir));

  it('the guest sees its disks and reads the backing file through the overlay', () => {
    expect(first.code, first.stderr).toBe(0);
    expect(line(first, 'AUTORUN-EXIT')).toBe('0');
    expect(line(first, 'DISKS')).toMatch(/^\/dev\/vd[a-z] \/dev\/vd[a-z]$/);
    expect(line(first, 'BASE-MD5')).toBe(createHash('md5').update(Buffer.alloc(4 * MiB, 0x5b)).digest('hex'));
  });

  it('a raw dd through virtio-blk lands in the image: qemu-img and viv read it back', () => {
    expect(line(first, 'DD-EXIT')).toBe('0');
    const pattern = guestPattern(8 * MiB);
    expect(line(first, 'READBACK-MD5')).toBe(createHash('md5').update(pattern).digest('hex'));
    expect(qemuImg(['check', f('top.qcow2')]).status).toBe(0);
    // The parallel writers put the first 4 MiB of the pattern at 32 MiB.
    expect(line(first, 'PAR-MD5')).toBe(createHash('md5').update(pattern.subarray(0, 4 * MiB)).digest('hex'));
    const expected = Buffer.concat([Buffer.alloc(4 * MiB, 0x5b), Buffer.alloc(12 * MiB), pattern, Buffer.alloc(8 * MiB), pattern.subarray(0, 4 * MiB), Buffer.alloc(28 * MiB)]);
    writeFileSync(f('expected.raw'), expected);
    expect(qemuImg(['compare', '-f', 'qcow2', '-F', 'raw', f('top.qcow2'), f('expected.raw')]).stdout).toBe('Images are identical.\n');
    expect(viv(['compare', '-f', 'qcow2', '-F', 'raw', f('top.qcow2'), f('expected.raw')]).stdout).toBe('Images are identical.\n');
    // The base image was only read.
    expect(viv(['compare', '-f', 'qcow2', '-F', 'raw', f('base.qcow2'), f('base.raw')]).status).toBe(0);
  });

  it('a dd to a raw disk (if=none + -device virtio-blk-device): the bytes are where the guest put them', async () => {
    expect(line(first, 'FS-DD-EXIT')).toBe('0');
    const data = guestPattern(8 * MiB).subarray(0, 3_000_000);
    const drv = await openImage(f('fs.raw'), { format: 'raw', readOnly: true });
    const img = Buffer.alloc(drv.length());
    await drv.read(0, img);
    await drv.close();
    expect(img.subarray(3 * MiB, 3 * MiB + data.length).equals(data)).toBe(true);
    expect(img.subarray(0, 3 * MiB).every((b) => b === 0)).toBe(true);
    expect(img.subarray(3 * MiB + data.length).every((b) => b === 0)).toBe(true);
  });

  it('-snapshot: the guest reads its data back, its writes go to a temporary overlay', () => {
    expect(second.code, second.stderr).toBe(0);
    expect(line(second, 'FILE-SHA')).toBe(createHash('sha256').update(guestPattern(8 * MiB).subarray(0, 3_000_000)).digest('hex'));
    expect(line(second, 'SNAP-DD-EXIT')).toBe('0');
    expect(line(second, 'SNAP-FS-DD-EXIT')).toBe('0');
    for (const [n, h] of Object.entries(before)) expect(sha256(f(n)), `${n} unchanged`).toBe(h);
  });

  it('readonly=on: the disk is read-only in the guest and writes fail', () => {
    expect(line(second, 'RO-FLAG')).toBe('1');
    expect(line(second, 'RO-DD-EXIT')).not.toBe('0');
  });
});
