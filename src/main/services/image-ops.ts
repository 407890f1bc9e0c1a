// The Images view's operations on image files, over the project's block engine (the engine of
// `viv img`), each with the same meaning as its qemu-img counterpart: convert (import), commit,
// rebase (safe mode), rebase onto nothing (flatten), resize (grow), check. They report progress
// and stop at the next chunk when cancelled. The rules of image-rules.ts run before any of them.
import { promises as fs } from 'node:fs';
import { BlockError, createQcow2, openImage, Qcow2Driver, type BlockDriver } from '../../emulator-core/block';
import { checkQcow2 } from '../../emulator-core/block/qcow2/check';
import type { CheckReport } from '../../shared/images';
import type { DiskFormat } from '../../shared/vm-config';
import { checkCancelled, type JobContext } from './image-jobs';

/** qemu-img convert's and commit's request size. */
const chunk = 2 * 1024 * 1024;
/** The granularity zero runs are skipped at when importing (QCOW2's default cluster). */
const zeroGrain = 64 * 1024;
const zeros = Buffer.alloc(chunk);

function isZero(buf: Uint8Array): boolean {
  return Buffer.from(buf.buffer, buf.byteOffset, buf.length).equals(zeros.subarray(0, buf.length));
}

function message(err: unknown): string {
  return err instanceof BlockError ? err.message : err instanceof Error ? err.message : String(err);
}

/**
 * `qemu-img convert -O qcow2 SOURCE TARGET`: the source's whole content (through its backing
 * chain) into a new standalone QCOW2 image; runs of zeros stay unallocated. A failed or cancelled
 * import leaves no file behind.
 */
export async function convertToQcow2(source: string, sourceFormat: DiskFormat | undefined, target: string, ctx: JobContext): Promise<void> {
  let src: BlockDriver | undefined;
  let dst: BlockDriver | undefined;
  try {
    src = await openImage(source, { format: sourceFormat, readOnly: true });
    const size = src.length();
    await createQcow2(target, { size });
    dst = await openImage(target, { format: 'qcow2' });
    const buf = new Uint8Array(chunk);
    for (let off = 0; off < size; ) {
      checkCancelled(ctx.signal);
      const n = Math.min(chunk, size - off);
      const status = await src.blockStatus(off, n);
      const len = Math.min(n, status.length);
      // Unallocated in an image with no backing file, or known zero: nothing to copy.
      if (status.zero || (!status.allocated && !src.backing)) {
        off += len;
      } else {
        const part = buf.subarray(0, len);
        await src.read(off, part);
        for (let at = 0; at < len; ) {
          const step = Math.min(zeroGrain - ((off + at) % zeroGrain), len - at);
          const piece = part.subarray(at, at + step);
          if (!isZero(piece)) await dst.write(off + at, piece);
          at += step;
        }
        off += len;
      }
      ctx.progress(off / size);
    }
    await dst.flush();
    await dst.close();
    dst = undefined;
  } catch (err) {
    await dst?.close().catch(() => undefined);
    await fs.rm(target, { force: true });
    throw err;
  } finally {
    await src?.close().catch(() => undefined);
  }
}

/**
 * `qemu-img commit OVERLAY`: what the overlay defines is written into its base, then the overlay
 * is emptied (it shows the same content, now from the base). Cancelled before the end, the base
 * holds part of the changes and the overlay still all of them: what the overlay shows is intact.
 */
export async function commitIntoBase(overlay: string, ctx: JobContext): Promise<string> {
  const top = await openImage(overlay, { format: 'qcow2' });
  try {
    const base = top.backing;
    if (!base) throw new Error('The image has no base');
    if (!(top instanceof Qcow2Driver)) throw new Error('Only a QCOW2 overlay can be emptied after a commit');
    // A second, writable handle on the base, with its own backing chain for copy-on-write.
    const target = await openImage(base.filename, { format: base.format });
    try {
      const size = top.length();
      if (target.length() < size) throw new Error('The overlay is larger than its base');
      const buf = new Uint8Array(chunk);
      for (let off = 0; off < size; ) {
        checkCancelled(ctx.signal, 'Cancelled: the base holds part of the overlay’s changes; the overlay still shows all of them.');
        const status = await top.blockStatus(off, Math.min(chunk, size - off));
        if (status.allocated) {
          if (status.zero) await target.writeZeroes(off, status.length);
          else {
            const part = buf.subarray(0, status.length);
            await top.read(off, part);
            await target.write(off, part);
          }
        }
        off += status.length;
        ctx.progress((off / size) * 0.95);
      }
      await target.flush();
    } finally {
      await target.close();
    }
    ctx.progress(0.97, 'Emptying the overlay');
    await top.makeEmpty();
    return base.filename;
  } finally {
    await top.close();
  }
}

/**
 * `qemu-img rebase -b NEW -F FMT FILE` (safe mode), or with `newBase` null `qemu-img rebase -b ''`:
 * every cluster the image does not define, whose content differs between the old and the new
 * base, is copied into it first, so what it shows does not change; then its header names the new
 * base. Cancelled before the header changes, the image shows the same content on its old base.
 */
export async function rebaseImage(file: string, newBase: { path: string; format: DiskFormat } | null, ctx: JobContext): Promise<void> {
  const img = await openImage(file, { format: 'qcow2' });
  let next: BlockDriver | null = null;
  try {
    if (!(img instanceof Qcow2Driver)) throw new Error('Only a QCOW2 image can have a base');
    if (newBase) next = await openImage(newBase.path, { format: newBase.format, readOnly: true });
    const old = img.backing;
    const size = img.length();
    const a = new Uint8Array(chunk);
    const b = new Uint8Array(chunk);
    for (let off = 0; off < size; ) {
      checkCancelled(ctx.signal, 'Cancelled: nothing changed in what the image shows; it keeps its old base.');
      let n = Math.min(chunk, size - off);
      const status = await img.blockStatus(off, n);
      n = status.length;
      if (!status.allocated) {
        const before = a.subarray(0, n);
        const after = b.subarray(0, n);
        await readOrZero(old, off, before);
        await readOrZero(next, off, after);
        // Copy runs of 512-byte sectors that differ (qemu-img's compare_buffers).
        for (let at = 0; at < n; ) {
          const end = Math.min(n, at + 512);
          const differ = !Buffer.from(before.buffer, at, end - at).equals(Buffer.from(after.buffer, at, end - at));
          let runEnd = end;
          while (runEnd < n) {
            const e = Math.min(n, runEnd + 512);
            const d = !Buffer.from(before.buffer, runEnd, e - runEnd).equals(Buffer.from(after.buffer, runEnd, e - runEnd));
            if (d !== differ) break;
            runEnd = e;
          }
          if (differ) {
            const run = before.subarray(at, runEnd);
            if (isZero(run)) await img.writeZeroes(off + at, run.length);
            else await img.write(off + at, run);
          }
          at = runEnd;
        }
      }
      off += n;
      ctx.progress((off / size) * 0.98);
    }
    await img.flush();
    await img.changeBackingFile(newBase?.path ?? null, newBase?.format ?? null);
  } finally {
    await next?.close();
    await img.close();
  }
}

async function readOrZero(drv: BlockDriver | null, offset: number, buf: Uint8Array): Promise<void> {
  buf.fill(0);
  if (!drv || offset >= drv.length()) return;
  await drv.read(offset, buf.subarray(0, Math.min(buf.length, drv.length() - offset)));
}

/** `qemu-img resize FILE SIZE` for growing: a QCOW2 image's tables, or a raw file's length. */
export async function growImage(file: string, format: DiskFormat, size: number): Promise<void> {
  if (format === 'raw') {
    const stat = await fs.stat(file);
    if (size < stat.size) throw new Error('Refusing to shrink');
    await fs.truncate(file, size);
    return;
  }
  const drv = await openImage(file, { format: 'qcow2', noBacking: true });
  try {
    if (!(drv instanceof Qcow2Driver)) throw new Error('not a QCOW2 image');
    if (size < drv.length()) throw new Error('Refusing to shrink');
    await drv.resize(size);
  } finally {
    await drv.close();
  }
}

const pct = (a: number, b: number) => ((a * 100) / b).toFixed(2);

/** `qemu-img check FILE` as a report a person can read. */
export async function checkImage(file: string, format: DiskFormat): Promise<CheckReport> {
  const report: CheckReport = {
    path: file, format, clean: true, summary: '', lines: [], corruptions: 0, leaks: 0,
    allocatedClusters: 0, totalClusters: 0, fragmentedClusters: 0, compressedClusters: 0, imageEndOffset: 0,
  };
  if (format === 'raw') {
    return { ...report, summary: 'A raw image has no metadata to check: its bytes are the disk, as they are.' };
  }
  let drv: BlockDriver;
  try {
    drv = await openImage(file, { format: 'qcow2', readOnly: true, forCheck: true, noBacking: true });
  } catch (err) {
    return { ...report, clean: false, summary: `The image cannot be opened: ${message(err)}` };
  }
  try {
    if (!(drv instanceof Qcow2Driver)) return { ...report, summary: 'Not a QCOW2 image.' };
    const lines: string[] = [];
    const res = await drv.exclusive((img) => checkQcow2(img, { leaks: false, errors: false }, (l) => lines.push(l)));
    const clean = !res.corruptions && !res.leaks && !res.checkErrors && !res.failed;
    const parts: string[] = [];
    if (res.failed) parts.push(`The check itself failed (${res.failed}).`);
    if (clean) parts.push('No errors were found on the image.');
    if (res.corruptions) parts.push(`${res.corruptions} errors were found on the image. Data may be corrupted, or further writes to the image may corrupt it.`);
    if (res.leaks) parts.push(`${res.leaks} leaked clusters were found on the image. This means waste of disk space, but no harm to data.`);
    if (res.checkErrors) parts.push(`${res.checkErrors} internal errors have occurred during the check.`);
    if (res.totalClusters && res.allocatedClusters) {
      lines.push(`${res.allocatedClusters}/${res.totalClusters} = ${pct(res.allocatedClusters, res.totalClusters)}% allocated, ${pct(res.fragmentedClusters, res.allocatedClusters)}% fragmented, ${pct(res.compressedClusters, res.allocatedClusters)}% compressed clusters`);
    }
    if (res.imageEndOffset) lines.push(`Image end offset: ${res.imageEndOffset}`);
    return {
      ...report,
      clean,
      summary: parts.join(' '),
      lines,
      corruptions: res.corruptions,
      leaks: res.leaks,
      allocatedClusters: res.allocatedClusters,
      totalClusters: res.totalClusters,
      fragmentedClusters: res.fragmentedClusters,
      compressedClusters: res.compressedClusters,
      imageEndOffset: res.imageEndOffset,
    };
  } finally {
    await drv.close();
  }
}
