// `viv img create [-q] [-f fmt] [-b backing_file [-F backing_fmt]] [-u] [-o options] filename [size]`
// (qemu-img create / bdrv_img_create).
import { BlockError, createQcow2, openImage, resolveBackingPath } from '../../emulator-core/block';
import { HostFile } from '../../emulator-core/block/host-file';
import { checkOptionList, CommandError, cvtnum, out, runCommand, UsageError } from './common';
import { formatOptionsLine, parseCreateOptions, qcow2Options } from './create-options';
import { getopt } from './getopt';
import { printCreateOptionsHelp } from './help';
import { refuseUnsupported } from './unsupported';

export function createCommand(argv: string[]): Promise<number> {
  return runCommand(async () => {
    const { options, operands } = getopt(argv, ':F:b:f:ho:qu', [
      { name: 'help', hasArg: false, key: 'h' },
      { name: 'object', hasArg: true, key: 'object' },
    ]);
    let fmt = 'raw';
    let baseFmt: string | undefined;
    let baseFile: string | undefined;
    let opts: string | undefined;
    let quiet = false;
    let unsafe = false;
    for (const o of options) {
      switch (o.key) {
        case 'h': return (await import('./help')).printHelp();
        case 'F': baseFmt = o.value; break;
        case 'b': baseFile = o.value; break;
        case 'f': fmt = o.value!; break;
        case 'o':
          checkOptionList(o.value!);
          opts = opts ? `${opts},${o.value}` : o.value;
          break;
        case 'q': quiet = true; break;
        case 'u': unsafe = true; break;
        case 'object': refuseUnsupported('--object');
      }
    }
    const filename = operands[0];
    if (opts && /(^|,)(help|\?)(,|$)/.test(opts)) return printCreateOptionsHelp(fmt);
    if (filename === undefined) throw new UsageError('Expecting image file name');
    let size: number | undefined;
    if (operands.length > 1) size = cvtnum('image size', operands[1]!);
    if (operands.length > 2) throw new UsageError(`Unexpected argument: ${operands[2]}`);
    try {
      await createImage({ filename, fmt, baseFile, baseFmt, opts, size, quiet, unsafe });
    } catch (err) {
      if (err instanceof CommandError) throw new CommandError(`${filename}: ${err.message}`, err.exitCode, err.newline);
      if (err instanceof BlockError) throw new CommandError(`${filename}: ${err.message}`);
      throw err;
    }
    return 0;
  });
}

export interface CreateRequest {
  filename: string;
  fmt: string;
  baseFile?: string;
  baseFmt?: string;
  opts?: string;
  size?: number;
  quiet: boolean;
  unsafe: boolean;
  /** The new image is a convert target with -t unsafe: created without fdatasync (see Qcow2CreateOptions). */
  noSync?: boolean;
}

/** bdrv_img_create: option checks, the backing file opened for its size, the "Formatting" line, create. */
export async function createImage(req: CreateRequest): Promise<void> {
  const { filename, fmt } = req;
  if (fmt !== 'raw' && fmt !== 'qcow2') throw new CommandError(`Unknown file format '${fmt}'`);
  const given = parseCreateOptions(fmt, req.opts);
  let size = req.size;
  if (given.has('size')) {
    if (size !== undefined) throw new CommandError('The image size must be specified only once');
    size = cvtnum('image size', given.get('size')!);
    given.delete('size');
  }
  if (req.baseFile !== undefined) {
    if (fmt !== 'qcow2') throw new CommandError(`Backing file not supported for file format '${fmt}'`);
    given.set('backing_file', req.baseFile);
  }
  if (req.baseFmt !== undefined) {
    if (fmt !== 'qcow2') throw new CommandError(`Backing file format not supported for file format '${fmt}'`);
    given.set('backing_fmt', req.baseFmt);
  }
  const backing = given.get('backing_file');
  if (backing !== undefined) {
    if (backing === filename) throw new CommandError('Error: Trying to create an image with the same filename as the backing file');
    if (backing === '') throw new CommandError('Expected backing file name, got empty string');
  }
  const backingFmt = given.get('backing_fmt');
  if (backing !== undefined && !req.unsafe) {
    const full = resolveBackingPath(filename, backing);
    let drv;
    try {
      drv = await openImage(full, { format: backingFmt, readOnly: true });
    } catch (err) {
      const msg = err instanceof BlockError ? err.message : String(err);
      const text = msg.startsWith('Could not open') ? msg : `Could not open '${full}': ${msg}`;
      throw new CommandError(`${text}\nCould not open backing image.`);
    }
    try {
      if (!backingFmt) {
        throw new CommandError(`Backing file specified without backing format\nDetected format of ${drv.format}.`, 1, false);
      }
      if (size === undefined) size = drv.length();
    } finally {
      await drv.close();
    }
  } else if (backing !== undefined && !backingFmt) {
    throw new CommandError('Backing file specified without backing format');
  }
  if (size === undefined) throw new CommandError('Image creation needs a size parameter');
  if (!req.quiet) out(`Formatting '${filename}', fmt=${fmt} ${formatOptionsLine(fmt, given, size)}\n`);
  if (fmt === 'qcow2') {
    // qcow2 sizes are whole sectors (QEMU rounds up after printing the requested size).
    const o = { ...qcow2Options(given, Math.ceil(size / 512) * 512), unsafe: req.noSync };
    if (o.backingFormat && !o.backingFile) throw new CommandError('Backing format cannot be used without backing file');
    try {
      await createQcow2(filename, o);
    } catch (err) {
      if (err instanceof BlockError && err.code === 'EFBIG') {
        throw new CommandError(`The image size is too large for file format 'qcow2'${given.has('cluster_size') ? ' (try using a larger cluster size)' : ''}`);
      }
      throw err;
    }
  } else {
    await createRaw(filename, size, given.get('preallocation'));
  }
}

/** A raw image: the file at the size; falloc and full preallocation write the zeros. */
export async function createRaw(filename: string, size: number, prealloc = 'off'): Promise<void> {
  if (!['off', 'falloc', 'full'].includes(prealloc)) {
    throw new CommandError(`Parameter 'preallocation' does not accept value '${prealloc}'`);
  }
  const file = await HostFile.open(filename, { readOnly: false, create: true, truncate: true });
  try {
    await file.truncate(size);
    // QEMU's file driver allocates the first block of a new image (so alignment probing works
    // later): qemu-img's "disk size" of a new raw image is 4 KiB, and ours is the same.
    if (size > 0) await file.write(new Uint8Array(Math.min(size, 4096)), 0);
    if (prealloc !== 'off') {
      const chunk = new Uint8Array(Math.min(size, 8 << 20));
      for (let p = 0; p < size; p += chunk.length) await file.write(chunk.subarray(0, Math.min(chunk.length, size - p)), p);
      await file.datasync();
    }
  } finally {
    await file.close();
  }
}

export { UsageError };
