// The Images view's service over real files: every operation, every refusal, and Debian's
// qemu-img (the interop peer) checking the images after each operation and comparing contents.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createQcow2, openImage, Qcow2Driver } from '../../emulator-core/block';
import type { ImageJob } from '../../shared/images';
import type { VmDiskUse } from './image-graph';
import { ImageService } from './image-service';

const qemuImg = '/usr/bin/qemu-img';
const MiB = 1024 * 1024;

let dir: string;
let folder: string;
let vms: VmDiskUse[];
let jobs: ImageJob[];
let changed: number;
let service: ImageService;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'viv-images-'));
  folder = path.join(dir, 'images');
  vms = [];
  jobs = [];
  changed = 0;
  service = new ImageService({ folder, vms: async () => vms, onJob: (j) => jobs.push(j), onChanged: () => changed++ });
});
afterEach(async () => {
  await service.jobs.drain();
  await fs.rm(dir, { recursive: true, force: true });
});

/** Debian's qemu-img check: exits non-zero on any leak or corruption. */
function qemuCheck(file: string): void {
  const r = spawnSync(qemuImg, ['check', file], { encoding: 'utf8' });
  expect(r.status, `qemu-img check ${file}: ${r.stdout}${r.stderr}`).toBe(0);
}

function qemuInfo(file: string): Record<string, unknown> {
  return JSON.parse(execFileSync(qemuImg, ['info', '--output=json', file], { encoding: 'utf8' })) as Record<string, unknown>;
}

/** qemu-img compare: 0 when the two images show the same content. */
function sameContent(a: string, b: string): boolean {
  return spawnSync(qemuImg, ['compare', a, b]).status === 0;
}

async function finished(job: ImageJob): Promise<ImageJob> {
  const end = Date.now() + 15_000;
  for (;;) {
    const last = jobs.filter((j) => j.id === job.id).at(-1);
    if (last && last.state !== 'running') return last;
    if (Date.now() > end) throw new Error(`job ${job.label} did not finish`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function done(job: Promise<ImageJob>): Promise<ImageJob> {
  const end = await finished(await job);
  expect(end.error).toBeUndefined();
  expect(end.state).toBe('done');
  return end;
}

/** A raw image with a recognisable pattern in every MiB but the zero ones. */
async function rawWithPattern(name: string, size = 8 * MiB, fill = 0x5a): Promise<string> {
  const file = path.join(dir, name);
  const buf = Buffer.alloc(size);
  for (let m = 0; m < size / MiB; m += 2) buf.fill(fill + m, m * MiB, m * MiB + 4096);
  await fs.writeFile(file, buf);
  return file;
}

async function writeAt(file: string, offset: number, bytes: Buffer): Promise<void> {
  const drv = await openImage(file, { format: 'qcow2' });
  try {
    await drv.write(offset, bytes);
  } finally {
    await drv.close();
  }
}

async function snapshotOf(file: string, name: string): Promise<void> {
  const drv = await openImage(file, { format: 'qcow2' });
  try {
    await (drv as Qcow2Driver).createSnapshot({ name });
  } finally {
    await drv.close();
  }
}

async function node(file: string) {
  return (await service.nodes()).get(file)!;
}

const refusal = (p: Promise<unknown>) => expect(p).rejects.toMatchObject({ code: 'refused' });

/** An imported base and an overlay on it, as most tests start. */
async function baseAndOverlay(): Promise<{ base: string; overlay: string }> {
  await done(service.import(await rawWithPattern('src.raw'), 'base'));
  const base = path.join(folder, 'base.qcow2');
  await done(service.createOverlay(base, 'overlay'));
  return { base, overlay: path.join(folder, 'overlay.qcow2') };
}

describe.skipIf(!existsSync(qemuImg))('ImageService', () => {
  describe('import', () => {
    it('converts a raw image into a standalone QCOW2 with progress, and catalogs it', async () => {
      const src = await rawWithPattern('disk.raw', 32 * MiB);
      const end = await done(service.import(src, 'Debian base'));
      const target = path.join(folder, 'Debian base.qcow2');
      expect(end.note).toBe('Imported as Debian base.qcow2.');
      const fractions = jobs.filter((j) => j.state === 'running' && j.fraction !== undefined).map((j) => j.fraction!);
      expect(fractions.length).toBeGreaterThan(0);
      expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
      qemuCheck(target);
      expect(qemuInfo(target)).toMatchObject({ format: 'qcow2', 'virtual-size': 32 * MiB });
      expect(sameContent(src, target)).toBe(true);
      // Zero runs stay unallocated: the copy is much smaller than the raw file.
      expect((await node(target)).actualSize!).toBeLessThan(8 * MiB);
      expect(await node(target)).toMatchObject({ origin: 'imported', managed: true, status: 'ok', format: 'qcow2' });
      expect(changed).toBeGreaterThan(0);
    });

    it('flattens a QCOW2 source with a backing chain into one image', async () => {
      const lower = await rawWithPattern('lower.raw');
      const top = path.join(dir, 'top.qcow2');
      execFileSync(qemuImg, ['create', '-q', '-f', 'qcow2', '-b', lower, '-F', 'raw', top]);
      await writeAt(top, 3 * MiB, Buffer.alloc(4096, 0x77));
      await done(service.import(top, 'merged'));
      const target = path.join(folder, 'merged.qcow2');
      qemuCheck(target);
      expect(qemuInfo(target)['backing-filename']).toBeUndefined();
      expect(sameContent(top, target)).toBe(true);
    });

    it('is cancelled at the next chunk and leaves no file', async () => {
      const src = await rawWithPattern('big.raw', 256 * MiB);
      const job = await service.import(src, 'big');
      service.cancel(job.id);
      const end = await finished(job);
      expect(end.state).toBe('cancelled');
      expect(existsSync(path.join(folder, 'big.qcow2'))).toBe(false);
      expect((await service.graph()).images).toEqual([]);
    });

    it('refuses a missing source and a name that is taken', async () => {
      await expect(service.import(path.join(dir, 'nope.raw'), 'x')).rejects.toMatchObject({ code: 'missing-file' });
      const src = await rawWithPattern('a.raw');
      await done(service.import(src, 'a'));
      await expect(service.import(src, 'a')).rejects.toThrow('An image named a.qcow2 already exists.');
    });
  });

  describe('overlays and the graph', () => {
    it('creates an overlay on a base; the graph links them and the VMs on them', async () => {
      const { base, overlay } = await baseAndOverlay();
      qemuCheck(overlay);
      expect(qemuInfo(overlay)).toMatchObject({ 'backing-filename': base, 'backing-filename-format': 'qcow2' });
      vms = [{ id: 'web', name: 'Web', running: false, disk: { path: overlay, format: 'qcow2' } }];
      const nodes = await service.nodes();
      expect(nodes.get(base)).toMatchObject({ overlays: [overlay], chain: [base], vms: [] });
      expect(nodes.get(overlay)).toMatchObject({ backing: base, chain: [overlay, base], vms: [{ id: 'web', role: 'disk', running: false }] });
      // The view is told in advance what would be refused.
      expect(nodes.get(base)!.refusals.delete).toBe('overlay.qcow2 is built on base.qcow2: deleting it would destroy that overlay.');
      expect(nodes.get(overlay)!.refusals.commit).toBeUndefined();
    });

    it('refuses an overlay on a VM\'s own disk, on a missing image, and a taken name', async () => {
      const { base, overlay } = await baseAndOverlay();
      vms = [{ id: 'web', name: 'Web', running: false, disk: { path: overlay, format: 'qcow2' } }];
      await expect(service.createOverlay(overlay, 'o2')).rejects.toThrow(/Web uses overlay\.qcow2 as its own disk and writes to it/);
      await expect(service.createOverlay(base, 'overlay')).rejects.toThrow('An image named overlay.qcow2 already exists.');
      await fs.rm(base);
      await refusal(service.createOverlay(base, 'o3'));
      await expect(service.createOverlay(path.join(dir, 'unknown.qcow2'), 'o4')).rejects.toMatchObject({ code: 'not-found' });
    });

    it('shows an image that vanished or was corrupted outside the app, with the reason, and the rest works', async () => {
      const { base, overlay } = await baseAndOverlay();
      await done(service.import(await rawWithPattern('other.raw'), 'other'));
      const other = path.join(folder, 'other.qcow2');
      await fs.rm(base);
      const damaged = await fs.open(other, 'r+');
      await damaged.write(Buffer.from('not a qcow2 header'), 0, 18, 0);
      await damaged.close();
      await done(service.import(await rawWithPattern('fine.raw'), 'fine'));
      const nodes = await service.nodes();
      expect(nodes.get(base)).toMatchObject({ status: 'missing', reason: 'The file is gone: it was deleted or moved outside Vivarium.' });
      expect(nodes.get(other)).toMatchObject({ status: 'broken' });
      expect(nodes.get(other)!.reason).toMatch(/no longer starts with a QCOW2 header/);
      expect(nodes.get(overlay)).toMatchObject({ status: 'broken', reason: expect.stringMatching(/^Its base base\.qcow2 is missing/) });
      expect(nodes.get(path.join(folder, 'fine.qcow2'))!.status).toBe('ok');
      // Operations on them are refused with the reason; the missing one can be forgotten once nothing uses it.
      await expect(service.flatten(overlay)).rejects.toThrow(/overlay\.qcow2 is broken: Its base base\.qcow2 is missing/);
      await expect(service.check(base)).rejects.toThrow(/base\.qcow2 is missing/);
      const report = (await done(service.check(other))).report!;
      expect(report.clean).toBe(false);
      await refusal(service.delete(base));
      await done(service.delete(overlay));
      const forgot = await done(service.delete(base));
      expect(forgot.note).toBe('base.qcow2 was already gone; the app forgot it.');
      expect((await service.nodes()).has(base)).toBe(false);
    });

    it('a garbled header field is broken with the engine\'s reason', async () => {
      await done(service.import(await rawWithPattern('c.raw'), 'c'));
      const file = path.join(folder, 'c.qcow2');
      const h = await fs.open(file, 'r+');
      await h.write(Buffer.from([0, 0, 0, 99]), 0, 4, 20); // cluster_bits = 99
      await h.close();
      const n = await node(file);
      expect(n.status).toBe('broken');
      expect(n.reason).toMatch(/^The QCOW2 header is damaged: /);
    });
  });

  describe('commit', () => {
    it('writes the overlay into its base and empties it; both stay clean', async () => {
      const { base, overlay } = await baseAndOverlay();
      await writeAt(overlay, 1 * MiB, Buffer.alloc(64 * 1024, 0x31));
      const before = path.join(dir, 'before.qcow2');
      execFileSync(qemuImg, ['convert', '-O', 'qcow2', overlay, before]);
      const end = await done(service.commit(overlay, []));
      expect(end.note).toMatch(/^base\.qcow2 now holds the changes of overlay\.qcow2/);
      qemuCheck(base);
      qemuCheck(overlay);
      expect(sameContent(base, before)).toBe(true);
      expect(sameContent(overlay, before)).toBe(true);
      const map = JSON.parse(execFileSync(qemuImg, ['map', '--output=json', overlay], { encoding: 'utf8' })) as { depth: number }[];
      expect(map.every((m) => m.depth > 0)).toBe(true); // nothing left in the overlay itself
    });

    it('names the other overlays it invalidates and needs them accepted', async () => {
      const { base, overlay } = await baseAndOverlay();
      await done(service.createOverlay(base, 'sibling'));
      const sibling = path.join(folder, 'sibling.qcow2');
      expect((await node(overlay)).commitInvalidates).toEqual([sibling]);
      await expect(service.commit(overlay, [])).rejects.toMatchObject({
        code: 'confirm-invalidate',
        message: 'Committing overlay.qcow2 changes its base underneath sibling.qcow2: confirm that it may be invalidated.',
      });
      const end = await done(service.commit(overlay, [sibling]));
      expect(end.note).toMatch(/sibling\.qcow2 no longer shows what it showed\./);
      qemuCheck(base);
    });

    it('refuses: not an overlay, running VMs, a VM on the base, snapshots, a sibling that runs', async () => {
      const { base, overlay } = await baseAndOverlay();
      await expect(service.commit(base, [])).rejects.toThrow('base.qcow2 is not an overlay: it has no base to commit into.');
      vms = [{ id: 'a', name: 'Alpha', running: true, disk: { path: overlay, format: 'qcow2' } }];
      await expect(service.commit(overlay, [])).rejects.toThrow('Alpha is running on overlay.qcow2: stop it first.');
      vms = [{ id: 'b', name: 'Beta', running: false, disk: { path: base, format: 'qcow2' } }];
      await expect(service.commit(overlay, [])).rejects.toThrow('Beta uses base.qcow2 as its own disk: committing would change it underneath it.');
      vms = [];
      await done(service.createOverlay(base, 'sibling'));
      // A VM running on another overlay of the base runs on the base too.
      vms = [{ id: 'c', name: 'Gamma', running: true, disk: { path: path.join(folder, 'sibling.qcow2'), format: 'qcow2' } }];
      await expect(service.commit(overlay, [path.join(folder, 'sibling.qcow2')])).rejects.toThrow('Gamma is running on base.qcow2: stop it first.');
      vms = [];
      await snapshotOf(overlay, 'keep');
      await expect(service.commit(overlay, [path.join(folder, 'sibling.qcow2')])).rejects.toThrow(/overlay\.qcow2 has 1 snapshot, which records only what differs from its base/);
    });
  });

  describe('rebase and flatten', () => {
    it('rebases onto another base without changing what the overlay shows', async () => {
      const { overlay } = await baseAndOverlay();
      await writeAt(overlay, 0, Buffer.alloc(4096, 0x44));
      await done(service.import(await rawWithPattern('b2.raw', 8 * MiB, 0x20), 'base2'));
      const base2 = path.join(folder, 'base2.qcow2');
      const before = path.join(dir, 'before.qcow2');
      execFileSync(qemuImg, ['convert', '-O', 'qcow2', overlay, before]);
      await done(service.rebase(overlay, base2));
      qemuCheck(overlay);
      expect(qemuInfo(overlay)).toMatchObject({ 'backing-filename': base2, 'backing-filename-format': 'qcow2' });
      expect(sameContent(overlay, before)).toBe(true);
      expect((await node(base2)).overlays).toEqual([overlay]);
    });

    it('refuses a loop, the same base, a base a VM writes, a raw image, and an overlay with snapshots', async () => {
      const { base, overlay } = await baseAndOverlay();
      await expect(service.rebase(base, overlay)).rejects.toThrow('overlay.qcow2 is built on base.qcow2: that would make a loop.');
      await expect(service.rebase(overlay, base)).rejects.toThrow('base.qcow2 is already the base of overlay.qcow2.');
      await expect(service.rebase(overlay, overlay)).rejects.toThrow('overlay.qcow2 cannot be its own base.');
      await done(service.import(await rawWithPattern('b2.raw'), 'base2'));
      const base2 = path.join(folder, 'base2.qcow2');
      vms = [{ id: 'w', name: 'Writer', running: false, disk: { path: base2, format: 'qcow2' } }];
      await expect(service.rebase(overlay, base2)).rejects.toThrow('Writer writes to base2.qcow2: a base must not change underneath its overlays.');
      vms = [{ id: 'w', name: 'Writer', running: true, disk: { path: overlay, format: 'qcow2' } }];
      await expect(service.rebase(overlay, base2)).rejects.toThrow('Writer is running on overlay.qcow2: stop it first.');
      vms = [];
      await snapshotOf(overlay, 's');
      await expect(service.rebase(overlay, base2)).rejects.toThrow(/has 1 snapshot/);
      vms = [{ id: 'r', name: 'Raw', running: false, disk: { path: await rawWithPattern('r.raw'), format: 'raw' } }];
      await expect(service.rebase(path.join(dir, 'r.raw'), base2)).rejects.toThrow('r.raw is a raw image, which cannot have a base.');
    });

    it('flattens an overlay into a standalone image; its base can then go', async () => {
      const { base, overlay } = await baseAndOverlay();
      await writeAt(overlay, 5 * MiB, Buffer.alloc(8192, 0x66));
      const before = path.join(dir, 'before.qcow2');
      execFileSync(qemuImg, ['convert', '-O', 'qcow2', overlay, before]);
      await expect(service.delete(base)).rejects.toThrow(/deleting it would destroy that overlay/);
      await done(service.flatten(overlay));
      qemuCheck(overlay);
      expect(qemuInfo(overlay)['backing-filename']).toBeUndefined();
      expect(sameContent(overlay, before)).toBe(true);
      await done(service.delete(base));
      expect(existsSync(base)).toBe(false);
      expect(sameContent(overlay, before)).toBe(true);
      await expect(service.flatten(overlay)).rejects.toThrow('overlay.qcow2 is already standalone: it has no base.');
    });

    it('refuses to flatten an overlay with snapshots or one a VM runs on', async () => {
      const { overlay } = await baseAndOverlay();
      vms = [{ id: 'x', name: 'X', running: true, disk: { path: overlay, format: 'qcow2' } }];
      await expect(service.flatten(overlay)).rejects.toThrow('X is running on overlay.qcow2: stop it first.');
      vms = [];
      await snapshotOf(overlay, 'one');
      await snapshotOf(overlay, 'two');
      await expect(service.flatten(overlay)).rejects.toThrow('overlay.qcow2 has 2 snapshots, which record only what differs from its base; flattening it would change them. Delete them first.');
    });
  });

  describe('resize', () => {
    it('grows a QCOW2 and a raw image', async () => {
      await done(service.import(await rawWithPattern('g.raw'), 'grow'));
      const file = path.join(folder, 'grow.qcow2');
      await done(service.resize(file, 64 * MiB));
      qemuCheck(file);
      expect(qemuInfo(file)['virtual-size']).toBe(64 * MiB);
      const raw = await rawWithPattern('disk.raw');
      vms = [{ id: 'r', name: 'R', running: false, disk: { path: raw, format: 'raw' } }];
      await done(service.resize(raw, 16 * MiB));
      expect((await fs.stat(raw)).size).toBe(16 * MiB);
    });

    it('refuses to shrink, to resize a base with overlays, an image with snapshots or in use', async () => {
      const { base, overlay } = await baseAndOverlay();
      await expect(service.resize(overlay, 4 * MiB)).rejects.toThrow('Shrinking would cut off everything past the new end of overlay.qcow2; Vivarium only grows images.');
      await expect(service.resize(overlay, 8 * MiB)).rejects.toThrow('overlay.qcow2 is already that size.');
      await expect(service.resize(base, 16 * MiB)).rejects.toThrow('overlay.qcow2 is built on base.qcow2: a base must not change underneath its overlays.');
      vms = [{ id: 'x', name: 'X', running: true, disk: { path: overlay, format: 'qcow2' } }];
      await expect(service.resize(overlay, 16 * MiB)).rejects.toThrow('X is running on overlay.qcow2: stop it first.');
      vms = [];
      await snapshotOf(overlay, 's');
      await expect(service.resize(overlay, 16 * MiB)).rejects.toThrow(/an image with snapshots cannot be resized/);
    });
  });

  describe('check', () => {
    it('reports a clean image, a leaking one, and a raw one in words', async () => {
      await done(service.import(await rawWithPattern('k.raw'), 'k'));
      const file = path.join(folder, 'k.qcow2');
      const clean = (await done(service.check(file))).report!;
      expect(clean).toMatchObject({ clean: true, summary: 'No errors were found on the image.', corruptions: 0, leaks: 0 });
      expect(clean.lines.at(-1)).toMatch(/^Image end offset: \d+$/);
      // Leak a cluster: one more cluster at the end of the file, counted as used, used by nothing.
      const leaky = path.join(folder, 'leaky.qcow2');
      await createQcow2(leaky, { size: 8 * MiB });
      execFileSync(qemuImg, ['check', leaky]);
      const h = await fs.open(leaky, 'r+');
      const leaked = Math.ceil((await h.stat()).size / 65536);
      await h.truncate((leaked + 1) * 65536);
      const head = Buffer.alloc(64);
      await h.read(head, 0, 64, 0);
      const reftable = Number(head.readBigUInt64BE(48));
      const refblockEntry = Buffer.alloc(8);
      await h.read(refblockEntry, 0, 8, reftable);
      const refblock = Number(refblockEntry.readBigUInt64BE(0));
      await h.write(Buffer.from([0, 1]), 0, 2, refblock + 2 * leaked); // 16-bit refcounts, big-endian
      await h.close();
      const leakyReport = (await done(service.check(leaky))).report!;
      expect(leakyReport.clean).toBe(false);
      expect(leakyReport.leaks).toBe(1);
      expect(leakyReport.summary).toBe('1 leaked clusters were found on the image. This means waste of disk space, but no harm to data.');
      expect(leakyReport.lines).toContain(`Leaked cluster ${leaked} refcount=1 reference=0`);
      const raw = await rawWithPattern('plain.raw');
      vms = [{ id: 'p', name: 'P', running: false, disk: { path: raw, format: 'raw' } }];
      expect((await done(service.check(raw))).report!.summary).toMatch(/^A raw image has no metadata to check/);
    });

    it('refuses to check an image a running VM writes, but not the base below it', async () => {
      const { base, overlay } = await baseAndOverlay();
      vms = [{ id: 'x', name: 'X', running: true, disk: { path: overlay, format: 'qcow2' } }];
      await expect(service.check(overlay)).rejects.toThrow('X is running and writing to overlay.qcow2: a check now would see half-written metadata. Stop it first.');
      expect((await done(service.check(base))).report!.clean).toBe(true);
    });
  });

  describe('delete', () => {
    it('deletes an unused image the app holds', async () => {
      await done(service.import(await rawWithPattern('d.raw'), 'gone'));
      const file = path.join(folder, 'gone.qcow2');
      const end = await done(service.delete(file));
      expect(end.note).toBe('gone.qcow2 was deleted.');
      expect(existsSync(file)).toBe(false);
      expect((await service.nodes()).has(file)).toBe(false);
    });

    it('refuses a base with overlays, an image a VM uses, and a file outside the images folder', async () => {
      const { base, overlay } = await baseAndOverlay();
      await expect(service.delete(base)).rejects.toThrow('overlay.qcow2 is built on base.qcow2: deleting it would destroy that overlay.');
      vms = [{ id: 'v', name: 'Vee', running: false, disk: { path: overlay, format: 'qcow2' } }];
      await expect(service.delete(overlay)).rejects.toThrow('Vee uses overlay.qcow2 as its disk: delete or change the VM first.');
      const outside = await rawWithPattern('elsewhere.raw');
      const over = path.join(dir, 'over-elsewhere.qcow2');
      execFileSync(qemuImg, ['create', '-q', '-f', 'qcow2', '-b', outside, '-F', 'raw', over]);
      vms = [{ id: 'w', name: 'W', running: false, disk: { path: over, format: 'qcow2' } }];
      expect((await node(outside)).origin).toBe('backing');
      await expect(service.delete(outside)).rejects.toThrow(/over-elsewhere\.qcow2 is built on elsewhere\.raw/);
      vms = [];
      expect(existsSync(base) && existsSync(overlay)).toBe(true);
    });
  });

  it('holds the images a job works on: operations on them and on their chain wait their turn', async () => {
    await done(service.import(await rawWithPattern('big.raw', 256 * MiB), 'big'));
    const base = path.join(folder, 'big.qcow2');
    await done(service.createOverlay(base, 'top'));
    const top = path.join(folder, 'top.qcow2');
    const flattening = await service.flatten(top);
    await expect(service.check(base)).rejects.toThrow(/^Wait: Flattening top\.qcow2\.$/);
    await expect(service.delete(top)).rejects.toThrow(/^Wait: Flattening top\.qcow2\.$/);
    expect((await node(base)).refusals.check).toBe('Wait: Flattening top.qcow2.');
    service.cancel(flattening.id);
    const end = await finished(flattening);
    expect(end.state).toBe('cancelled');
    expect(end.note).toBe('Cancelled: nothing changed in what the image shows; it keeps its old base.');
    qemuCheck(top);
    expect(qemuInfo(top)['backing-filename']).toBe(base);
    expect(sameContent(top, base)).toBe(true);
  });
});
