// `viv img convert [-U] [-c] [-p] [-q] [-n] [-f fmt] [-t cache] [-T src_cache] [-O output_fmt]
//   [-B backing_file [-F backing_fmt]] [-o options] [-S sparse_size] [-m num] [-W]
//   filename [filename2 [...]] output_filename` (qemu-img convert).
import { checkOptionList, CommandError, cvtnum, ioErrorText, openForCli, runCommand, withImage } from './common';
import { copyImage, type Source } from './convert-copy';
import { createImage } from './create';
import { parseCreateOptions } from './create-options';
import { rawDataExtents } from './raw-extents';
import { getopt } from './getopt';
import { Progress } from './progress';
import { refuseUnsupported } from './unsupported';

const CACHE_MODES = ['none', 'writeback', 'writethrough', 'directsync', 'unsafe'];

export function convertCommand(argv: string[]): Promise<number> {
  return runCommand(async () => {
    const { options, operands } = getopt(argv, ':hf:O:B:CcF:o:l:S:pt:T:qnm:WUr:', [
      { name: 'help', hasArg: false, key: 'h' },
      { name: 'object', hasArg: true, key: 'object' },
      { name: 'image-opts', hasArg: false, key: 'image-opts' },
      { name: 'target-image-opts', hasArg: false, key: 'target-image-opts' },
      { name: 'salvage', hasArg: false, key: 'salvage' },
      { name: 'target-is-zero', hasArg: false, key: 'target-is-zero' },
      { name: 'bitmaps', hasArg: false, key: 'bitmaps' },
      { name: 'skip-broken-bitmaps', hasArg: false, key: 'skip-broken-bitmaps' },
      { name: 'force-share', hasArg: false, key: 'U' },
    ]);
    let fmt: string | undefined;
    let outFmt = 'raw';
    let baseImg: string | undefined;
    let baseFmt: string | undefined;
    let opts: string | undefined;
    let compress = false;
    let progress = false;
    let quiet = false;
    let noCreate = false;
    let targetIsZero = false;
    let minSparse = 4096;
    let parallel = 8;
    let cache = 'unsafe';
    for (const o of options) {
      switch (o.key) {
        case 'h': return (await import('./help')).printHelp();
        case 'f': fmt = o.value; break;
        case 'O': outFmt = o.value!; break;
        case 'B': baseImg = o.value; break;
        case 'F': baseFmt = o.value; break;
        case 'c': compress = true; break;
        case 'o':
          checkOptionList(o.value!);
          opts = opts ? `${opts},${o.value}` : o.value;
          break;
        case 'S': {
          const v = cvtnum('buffer size for sparse output', o.value!);
          if (v % 512 !== 0 || v > 16 << 20) {
            throw new CommandError(`Invalid buffer size for sparse output specified. Valid sizes are multiples of 512 up to ${16 << 20}. Select 0 to disable sparse detection (fully allocates output).`);
          }
          minSparse = v;
          break;
        }
        case 'p': progress = true; break;
        case 't': cache = o.value!; break;
        case 'T':
          if (!CACHE_MODES.includes(o.value!)) throw new CommandError(`Invalid source cache option: ${o.value}`);
          break;
        case 'q': quiet = true; break;
        case 'n': noCreate = true; break;
        case 'm': {
          const n = Number(o.value);
          if (!Number.isInteger(n) || n < 1 || n > 16) throw new CommandError('Invalid number of coroutines. Allowed number of coroutines is between 1 and 16');
          parallel = n;
          break;
        }
        case 'W': case 'U': break;
        case 'target-is-zero': targetIsZero = true; break;
        case 'C': refuseUnsupported('-C (copy offloading)'); break;
        case 'l': refuseUnsupported('-l (convert from an internal snapshot)'); break;
        case 'r': refuseUnsupported('-r (rate limit)'); break;
        default: refuseUnsupported(`--${o.key}`);
      }
    }
    if (quiet) progress = false;
    if (operands.length < 2) throw new CommandError('Must specify image file name');
    const outFile = operands[operands.length - 1]!;
    const inputs = operands.slice(0, -1);
    if (outFmt !== 'raw' && outFmt !== 'qcow2') throw new CommandError(`Unknown file format '${outFmt}'`);
    const given = parseCreateOptions(outFmt, opts);
    if (baseImg !== undefined) {
      if (given.has('backing_file')) throw new CommandError('-B and -o backing_file cannot be used at the same time');
      given.set('backing_file', baseImg);
    }
    if (baseFmt !== undefined) given.set('backing_fmt', baseFmt);
    if (given.has('backing_file') && outFmt !== 'qcow2') throw new CommandError(`Backing file not supported for file format '${outFmt}'`);
    if (given.has('backing_file') && !given.has('backing_fmt')) throw new CommandError('Use of backing file requires explicit backing format');
    if (compress && outFmt !== 'qcow2') throw new CommandError('Compression not supported for this file format');
    if (targetIsZero && !noCreate) throw new CommandError('--target-is-zero requires use of -n flag');

    const sources: Source[] = [];
    try {
      let total = 0;
      const hasBacking = given.has('backing_file');
      for (const name of inputs) {
        const drv = await openForCli(name, { format: fmt, readOnly: true });
        // A raw source's holes are looked up now, while the target is created.
        const dataExtents = drv.format === 'raw' && !hasBacking && !compress ? rawDataExtents(name, drv.length()) : undefined;
        sources.push({ drv, base: total, dataExtents });
        total += drv.length();
      }
      if (!noCreate) {
        const optText = [...given.entries()].map(([k, v]) => `${k}=${v.replace(/,/g, ',,')}`).join(',');
        try {
          // With -t unsafe nothing of the target is synced, so neither is its creation (qemu-img
          // syncs four times there, 1-15 ms on a busy disk, for an image whose data it never syncs).
          await createImage({ filename: outFile, fmt: outFmt, opts: optText || undefined, size: total, quiet: true, unsafe: false, noSync: cache === 'unsafe' });
        } catch (err) {
          if (err instanceof CommandError) throw new CommandError(`${outFile}: ${err.message}`, err.exitCode, err.newline);
          throw err;
        }
      }
      // qemu-img checks the target's cache mode only when it opens the target (after creating it).
      if (!CACHE_MODES.includes(cache)) throw new CommandError(`Invalid cache option: ${cache}`);
      const target = await openForCli(outFile, { format: outFmt, readOnly: false, noBacking: true, unsafe: cache === 'unsafe' });
      await withImage(target, async () => {
        if (noCreate && target.length() < total) throw new CommandError('output file is smaller than input file');
        // A freshly created image reads as zeros (unless it has a backing file): zeros need no write.
        const zeroInit = (!noCreate && !hasBacking) || targetIsZero;
        await copyImage({
          sources, target, total, zeroInit, compress, minSparse, parallel, topOnly: hasBacking,
          progress: progress ? new Progress() : null,
        });
      }).catch((err) => {
        if (err instanceof CommandError) throw err;
        throw new CommandError(`error while writing at byte ${total}: ${ioErrorText(err, true)}`);
      });
    } finally {
      for (const s of sources) await s.drv.close();
    }
    return 0;
  });
}
