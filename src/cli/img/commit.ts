// `viv img commit [-q] [-f fmt] [-t cache] [-b base] [-d] [-p] filename` (qemu-img commit): copy
// what the image (and the images between it and `base`) define into `base` (default: its
// backing file), then empty the image unless -d (or -b, which implies -d).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BlockError, openImage, Qcow2Driver, resolveBackingPath, type BlockDriver } from '../../emulator-core/block';
import { allocatedAbove, chainStatus } from './block-status';
import { CommandError, openForCli, out, runCommand, UsageError } from './common';
import { getopt } from './getopt';
import { Progress } from './progress';
import { refuseUnsupported } from './unsupported';

const CHUNK = 2 * 1024 * 1024;
const CACHE_MODES = ['none', 'writeback', 'writethrough', 'directsync', 'unsafe'];

export function commitCommand(argv: string[]): Promise<number> {
  return runCommand(async () => {
    const { options, operands } = getopt(argv, ':f:ht:b:dpqr:', [
      { name: 'help', hasArg: false, key: 'h' },
      { name: 'object', hasArg: true, key: 'object' },
      { name: 'image-opts', hasArg: false, key: 'image-opts' },
    ]);
    let fmt: string | undefined;
    let baseName: string | undefined;
    let drop = false;
    let progress = false;
    let quiet = false;
    for (const o of options) {
      switch (o.key) {
        case 'h': return (await import('./help')).printHelp();
        case 'f': fmt = o.value; break;
        case 't':
          if (!CACHE_MODES.includes(o.value!)) throw new CommandError(`Invalid cache option: ${o.value}`);
          break;
        case 'b': baseName = o.value; drop = true; break;
        case 'd': drop = true; break;
        case 'p': progress = true; break;
        case 'q': quiet = true; break;
        case 'r': refuseUnsupported('-r (rate limit)'); break;
        case 'object': case 'image-opts': refuseUnsupported(`--${o.key}`);
      }
    }
    if (quiet) progress = false;
    if (operands.length !== 1) throw new UsageError('Expecting one image file name');
    const filename = operands[0]!;
    const top = await openForCli(filename, { format: fmt, readOnly: false });
    const prog = progress ? new Progress() : null;
    prog?.start();
    try {
      let base: BlockDriver | null;
      if (baseName !== undefined) {
        base = await findInChain(top, filename, baseName);
        if (!base) throw new CommandError(`Did not find '${baseName}' in the backing chain of '${filename}'`);
      } else {
        base = top.backing;
        if (!base) throw new CommandError('Image does not have a backing file');
      }
      // The base is open read-only inside the chain; write through a second, read-write handle.
      let target: BlockDriver;
      try {
        target = await openImage(base.filename, { format: base.format, readOnly: false, noBacking: true });
      } catch (err) {
        throw new CommandError(err instanceof BlockError ? err.message : String(err));
      }
      try {
        await commitInto(top, base, target, prog);
        await target.flush();
      } finally {
        await target.close();
      }
      if (!drop) {
        if (!(top instanceof Qcow2Driver)) throw new CommandError('Image format does not support emptying the image');
        await top.makeEmpty();
      }
    } catch (err) {
      if (err instanceof BlockError) throw new CommandError(err.message);
      throw err;
    } finally {
      prog?.finish();
      await top.close();
    }
    if (!quiet) out('Image committed.\n');
    return 0;
  });
}

/** bdrv_find_backing_image: `name` (relative to the top image's directory) among the backing files. */
async function findInChain(top: BlockDriver, topName: string, name: string): Promise<BlockDriver | null> {
  const wanted = await identity(path.isAbsolute(name) ? name : resolveBackingPath(topName, name));
  const wantedAsGiven = await identity(name);
  for (let b = top.backing; b; b = b.backing) {
    const id = await identity(b.filename);
    if (id === wanted || id === wantedAsGiven || b.filename === name) return b;
  }
  return null;
}

async function identity(f: string): Promise<string> {
  try {
    const st = await fs.stat(f);
    return `${st.dev}:${st.ino}`;
  } catch {
    return path.resolve(f);
  }
}

async function commitInto(top: BlockDriver, base: BlockDriver, target: BlockDriver, prog: Progress | null): Promise<void> {
  const size = top.length();
  if (target.length() < size) {
    throw new CommandError(`Top image '${top.filename}' is larger than base image '${base.filename}', and resize of base image failed: not supported by viv img`);
  }
  for (let off = 0; off < size;) {
    const above = await allocatedAbove(top, base, off, Math.min(CHUNK, size - off));
    const n = above.length;
    if (above.allocated) {
      const st = await chainStatus(top, off, n);
      const len = Math.min(n, st.length);
      if (st.zero) await target.writeZeroes(off, len);
      else {
        const buf = new Uint8Array(len);
        await top.read(off, buf);
        await target.write(off, buf);
      }
      off += len;
    } else off += n;
    prog?.update((off * 100) / size);
  }
}
