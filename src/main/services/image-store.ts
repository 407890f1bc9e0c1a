// Disk images for the wizard: a new QCOW2 disk, or a QCOW2 overlay on a base image. The work is
// done by the image tool (`viv img`, which takes qemu-img's subcommands), run as a child process
// so a slow or failing tool never blocks main; any qemu-img-compatible tool can stand in.
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import type { FileCheck } from '../../shared/api';
import type { DiskFormat } from '../../shared/vm-config';
import { UserError } from './errors';

/** The four bytes every QCOW2 header starts with ("QFI\xfb", QCOW2 spec: magic). */
const qcow2Magic = 0x514649fb;

export interface ImageStoreOptions {
  /** argv prefix of the image tool, e.g. [process.execPath, 'out/cli/viv.mjs', 'img']. */
  imgCommand: string[];
  /** Environment of the tool (Electron runs it with ELECTRON_RUN_AS_NODE=1). */
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

export class ImageStore {
  constructor(private readonly options: ImageStoreOptions) {}

  private run(args: string[]): Promise<string> {
    const [cmd, ...prefix] = this.options.imgCommand;
    return new Promise((resolve, reject) => {
      execFile(cmd!, [...prefix, ...args], { timeout: this.options.timeoutMs ?? 120_000, env: this.options.env ?? process.env }, (err, stdout, stderr) => {
        if (err) {
          const detail = (stderr || err.message).trim().split('\n').slice(-3).join(' ');
          reject(new UserError(`Creating the disk image failed: ${detail}`, 'image-tool', 'disk'));
        } else resolve(stdout);
      });
    });
  }

  async createQcow2(file: string, sizeGiB: number): Promise<void> {
    await this.run(['create', '-f', 'qcow2', file, `${sizeGiB}G`]);
    await this.assertFormat(file, 'qcow2');
  }

  /** A copy-on-write overlay: reads fall through to `base`, writes land in `file` (QCOW2 backing file). */
  async createOverlay(file: string, base: string, baseFormat: DiskFormat): Promise<void> {
    await this.run(['create', '-f', 'qcow2', '-b', base, '-F', baseFormat, file]);
    await this.assertFormat(file, 'qcow2');
  }

  private async assertFormat(file: string, format: DiskFormat): Promise<void> {
    const check = await checkFile(file);
    if (check.kind !== 'file' || check.format !== format) {
      throw new UserError(`The image tool did not produce a ${format} image at ${file}`, 'image-tool', 'disk');
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
