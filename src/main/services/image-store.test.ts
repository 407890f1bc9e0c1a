// The image store with our block engine (checked by Debian's qemu-img, the interop peer), and
// with a qemu-img-compatible command standing in for it.
import { execFileSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkFile, ImageStore } from './image-store';

const qemuImg = '/usr/bin/qemu-img';
let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'viv-img-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe.skipIf(!existsSync(qemuImg)).each([
  ['the built-in block engine', new ImageStore()],
  ['a qemu-img-compatible command', new ImageStore({ imgCommand: [qemuImg] })],
])('ImageStore with %s', (_name, store) => {

  it('creates a QCOW2 disk of the asked size', async () => {
    const file = path.join(dir, `disk-${_name.length}.qcow2`);
    await store.createQcow2(file, 2);
    execFileSync(qemuImg, ['check', file]); // exits non-zero on any inconsistency
    const info = JSON.parse(execFileSync(qemuImg, ['info', '--output=json', file], { encoding: 'utf8' }));
    expect(info.format).toBe('qcow2');
    expect(info['virtual-size']).toBe(2 * 1024 ** 3);
    expect(await checkFile(file)).toMatchObject({ kind: 'file', format: 'qcow2' });
  });

  it('creates an overlay whose backing file is the base', async () => {
    const base = path.join(dir, 'base.raw');
    await fs.writeFile(base, Buffer.alloc(1024 * 1024));
    const file = path.join(dir, `overlay-${_name.length}.qcow2`);
    await store.createOverlay(file, base, 'raw');
    const info = JSON.parse(execFileSync(qemuImg, ['info', '--output=json', file], { encoding: 'utf8' }));
    expect(info['backing-filename']).toBe(base);
    expect(info['backing-filename-format']).toBe('raw');
    expect(info['virtual-size']).toBe(1024 * 1024);
    execFileSync(qemuImg, ['check', file]);
  });

  it('reports the tool\'s failure as a disk error', async () => {
    await expect(store.createOverlay(path.join(dir, 'o2.qcow2'), path.join(dir, 'nope.raw'), 'raw')).rejects.toMatchObject({
      code: 'image-tool',
      field: 'disk',
    });
  });
});

describe('checkFile', () => {
  it('tells missing files, folders and raw files apart', async () => {
    expect((await checkFile(path.join(os.tmpdir(), 'surely-not-here-42'))).kind).toBe('missing');
    expect((await checkFile(os.tmpdir())).kind).toBe('directory');
    const raw = path.join(dir, 'r.img');
    await fs.writeFile(raw, 'hello');
    expect(await checkFile(raw)).toMatchObject({ kind: 'file', format: 'raw', size: 5 });
  });
});
