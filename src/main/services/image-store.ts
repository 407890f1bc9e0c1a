// Disk images for the wizard: a new QCOW2 disk, or a QCOW2 overlay on a base image. By default
// the project's own block engine (src/emulator-core/block, the engine of `viv img`) writes them in
// main's process: creating an image is a few metadata writes, quick enough not to need a worker.
// A qemu-img-compatible command can stand in (`imgCommand`), run as a child process.
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { createQcow2, openImage } from '../../emulator-core/block';
import type { FileCheck } from '../../shared/api';
import type { DiskFormat } from '../../shared/vm-config';
import { UserError } from './errors';

/** The four bytes every QCOW2 header starts with ("QFI\xfb", QCOW2 spec: magic). */
const qcow2Magic = 0x514649fb;
const GiB = 1024 ** 3;

export interface ImageStoreOptions {
  /** argv prefix of a qemu-img-compatible tool; absent: the built-in block engine. */
  imgCommand?: string[];
  /** Environment of the tool (Electron runs node scripts with ELECTRON_RUN_AS_NODE=1). */
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

function failure(err: unknown): UserError {
  const detail = err instanceof Error ? err.message : String(err);
  return new UserError(`Creating the disk image failed: ${detail}`, 'image-tool', 'disk');
}

export class ImageStore {
  constructor(private readonly options: ImageStoreOptions = {}) {}

  private run(args: string[]): Promise<string> {
    const [cmd, ...prefix] = this.options.imgCommand!;
    return new Promise((resolve, reject) => {
      execFile(cmd!, [...prefix, ...args], { timeout: this.options.timeoutMs ?? 120_000, env: this.options.env ?? process.env }, (err, stdout, stderr) => {
        if (err) reject(failure(new Error((stderr || err.message).trim().split('\n').slice(-3).join(' '))));
        else resolve(stdout);
      });
    });
  }

  async createQcow2(file: string, sizeGiB: number): Promise<void> {
    if (this.options.imgCommand) await this.run(['create', '-f', 'qcow2', file, `${sizeGiB}G`]);
    else await createQcow2(file, { size: sizeGiB * GiB }).catch((err) => Promise.reject(failure(err)));
    await this.assertFormat(file, 'qcow2');
  }

  /** A copy-on-write overlay: reads fall through to `base`, writes land in `file` (QCOW2 backing file). */
  async createOverlay(file: string, base: string, baseFormat: DiskFormat): Promise<void> {
    if (this.options.imgCommand) {
      await this.run(['create', '-f', 'qcow2', '-b', base, '-F', baseFormat, file]);
    } else {
      try {
        // As qemu-img does without a size: the overlay is as large as its base.
        const backing = await openImage(base, { format: baseFormat, readOnly: true, noBacking: true });
        let size: number;
        try {
          size = backing.length();
        } finally {
          await backing.close();
        }
        await createQcow2(file, { size, backingFile: base, backingFormat: baseFormat });
      } catch (err) {
        throw failure(err);
      }
    }
    await this.assertFormat(file, 'qcow2');
  }

  private async assertFormat(file: string, format: DiskFormat): Promise<void> {
    const check = await checkFile(file);
    if (check.kind !== 'file' || check.format !== format) {
      throw new UserError(`No ${format} image was made at ${file}`, 'image-tool', 'disk');
    }
  }
}

/** What is at `file`: for the wizard's "missing file" messages and the disk format guess. */
export async function checkFile(file: string): Promise<FileCheck> {
  let stat;
  try {
    stat = await fs.stat(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { path: file, kind: code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : 'unreadable' };
  }
  if (stat.isDirectory()) return { path: file, kind: 'directory' };
  try {
    const handle = await fs.open(file, 'r');
    try {
      const head = Buffer.alloc(4);
      const { bytesRead } = await handle.read(head, 0, 4, 0);
      const format: DiskFormat = bytesRead === 4 && head.readUInt32BE(0) === qcow2Magic ? 'qcow2' : 'raw';
      return { path: file, kind: 'file', size: stat.size, format };
    } finally {
      await handle.close();
    }
  } catch {
    return { path: file, kind: 'unreadable', size: stat.size };
  }
}
