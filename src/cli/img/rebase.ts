// `viv img rebase [-U] [-q] [-f fmt] [-t cache] [-T src_cache] [-p] [-u] -b backing_file
// [-F backing_fmt] filename` (qemu-img rebase). Safe mode copies into the image every cluster it
// does not define whose content differs between the old and the new backing file; -u only
// rewrites the header.
import { BlockError, openImage, Qcow2Driver, resolveBackingPath, type BlockDriver } from '../../emulator-core/block';
import { CommandError, openForCli, runCommand, UsageError } from './common';
import { getopt } from './getopt';
import { Progress } from './progress';
import { refuseUnsupported } from './unsupported';

const IO_BUF_SIZE = 2 * 1024 * 1024;
const CACHE_MODES = ['none', 'writeback', 'writethrough', 'directsync', 'unsafe'];

export function rebaseCommand(argv: string[]): Promise<number> {
  return runCommand(async () => {
    const { options, operands } = getopt(argv, ':hf:F:b:upt:T:qU', [
      { name: 'help', hasArg: false, key: 'h' },
      { name: 'object', hasArg: true, key: 'object' },
      { name: 'image-opts', hasArg: false, key: 'image-opts' },
      { name: 'force-share', hasArg: false, key: 'U' },
    ]);
    let fmt: string | undefined;
    let newBase: string | undefined;
    let newFmt: string | undefined;
    let unsafe = false;
    let progress = false;
    let quiet = false;
    for (const o of options) {
      switch (o.key) {
        case 'h': return (await import('./help')).printHelp();
        case 'f': fmt = o.value; break;
        case 'F': newFmt = o.value; break;
        case 'b': newBase = o.value; break;
        case 'u': unsafe = true; break;
        case 'p': progress = true; break;
        case 'q': quiet = true; break;
        case 't':
          if (!CACHE_MODES.includes(o.value!)) throw new CommandError(`Invalid cache option: ${o.value}`);
          break;
        case 'T':
          if (!CACHE_MODES.includes(o.value!)) throw new CommandError(`Invalid source cache option: ${o.value}`);
          break;
        case 'object': case 'image-opts': refuseUnsupported(`--${o.key}`);
      }
    }
    if (quiet) progress = false;
    if (operands.length !== 1) throw new UsageError('Expecting one image file name');
    if (!unsafe && newBase === undefined) throw new UsageError('Must specify backing file (-b) or use unsafe mode (-u)');
    const filename = operands[0]!;
    const prog = progress ? new Progress(2) : null;
    prog?.start();
    const drv = await openForCli(filename, { format: fmt, readOnly: false, noBacking: unsafe });
    let newBacking: BlockDriver | null = null;
    try {
      if (newFmt !== undefined && newFmt !== 'raw' && newFmt !== 'qcow2') throw new CommandError(`Invalid format name: '${newFmt}'`);
      if (!unsafe) {
        if (newBase) {
          const real = resolveBackingPath(filename, newBase);
          try {
            newBacking = await openImage(real, { format: newFmt, readOnly: true });
          } catch (err) {
            throw new CommandError(`Could not open new backing file '${newBase}': ${err instanceof BlockError ? err.message : String(err)}`);
          }
        }
        await copyDifferences(drv, drv.backing, newBacking, prog);
      }
      if (!(drv instanceof Qcow2Driver)) throw new CommandError(`Could not change the backing file to '${newBase}': Operation not supported`);
      if (newBase && !newFmt) throw new CommandError(`Could not change the backing file to '${newBase}': backing format must be specified`);
      try {
        await drv.changeBackingFile(newBase ? newBase : null, newBase ? newFmt ?? null : null);
      } catch (err) {
        if (err instanceof BlockError) throw new CommandError(`Could not change the backing file to '${newBase}': ${err.message}`);
        throw err;
      }
      prog?.update(100, true);
    } finally {
      prog?.finish();
      await newBacking?.close();
      await drv.close();
    }
    return 0;
  });
}

async function readOrZero(drv: BlockDriver | null, offset: number, buf: Uint8Array): Promise<number> {
  if (!drv || offset >= drv.length()) {
    buf.fill(0);
    return buf.length;
  }
  const n = Math.min(buf.length, drv.length() - offset);
  await drv.read(offset, buf.subarray(0, n));
  return n;
}

async function copyDifferences(img: BlockDriver, oldB: BlockDriver | null, newB: BlockDriver | null, prog: Progress | null): Promise<void> {
  const size = img.length();
  let n: number;
  for (let offset = 0; offset < size; offset += n) {
    n = Math.min(IO_BUF_SIZE, size - offset);
    const st = await img.blockStatus(offset, n);
    n = st.length;
    if (st.allocated) continue;
    const oldZero = !oldB || offset >= oldB.length();
    if (oldB && offset < oldB.length()) n = Math.min(n, oldB.length() - offset);
    if (newB && offset < newB.length()) n = Math.min(n, newB.length() - offset);
    const bufOld = new Uint8Array(n);
    const bufNew = new Uint8Array(n);
    try {
      await readOrZero(oldB, offset, bufOld);
    } catch {
      throw new CommandError('error while reading from old backing file');
    }
    try {
      await readOrZero(newB, offset, bufNew);
    } catch {
      throw new CommandError('error while reading from new backing file');
    }
    // Write the differing runs of 512-byte sectors (qemu's compare_buffers).
    for (let w = 0; w < n;) {
      const differ = !sectorEqual(bufOld, bufNew, w);
      let end = w + Math.min(512, n - w);
      while (end < n && !sectorEqual(bufOld, bufNew, end) === differ) end += Math.min(512, n - end);
      if (differ) {
        try {
          if (oldZero) await img.writeZeroes(offset + w, end - w);
          else await img.write(offset + w, bufOld.subarray(w, end));
        } catch (err) {
          throw new CommandError(`Error while writing to COW image: ${err instanceof BlockError ? err.message : String(err)}`);
        }
      }
      w = end;
    }
    prog?.update(((offset + n) * 100) / size);
  }
}

function sectorEqual(a: Uint8Array, b: Uint8Array, at: number): boolean {
  const len = Math.min(512, a.length - at);
  return Buffer.from(a.buffer, a.byteOffset + at, len).equals(Buffer.from(b.buffer, b.byteOffset + at, len));
}
