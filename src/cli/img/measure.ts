// `viv img measure [--output=ofmt] [-O output_fmt] [-o options] [--size N | [-f fmt] filename]`
// (qemu-img measure; qcow2_measure and raw_measure's arithmetic).
import { Qcow2Driver } from '../../emulator-core/block';
import { statusAbove } from './block-status';
import { checkOptionList, CommandError, cvtnum, openForCli, out, parseOutputFormat, runCommand, strtosz } from './common';
import { parseCreateOptions, qcow2Options } from './create-options';
import { getopt } from './getopt';
import { toQemuJson } from './qjson';
import { refuseUnsupported } from './unsupported';

const roundUp = (x: number, a: number) => Math.ceil(x / a) * a;

/** qcow2_refcount_metadata_size: the fixed point of refcount blocks + table covering everything. */
export function refcountMetadataSize(clusters: number, clusterSize: number, refcountOrder: number): number {
  const perTableCluster = clusterSize / 8;
  const perBlock = (clusterSize * 8) / 2 ** refcountOrder;
  let table = 0;
  let blocks = 0;
  let n = 0;
  let last: number;
  do {
    last = n;
    blocks = Math.ceil((clusters + table + blocks) / perBlock);
    table = Math.ceil(blocks / perTableCluster);
    n = clusters + blocks + table;
  } while (n !== last);
  return (blocks + table) * clusterSize;
}

/** qcow2_calc_prealloc_size: header, L1, L2, refcounts and every data cluster. */
export function qcow2PreallocSize(totalSize: number, clusterSize: number, refcountOrder: number): number {
  const aligned = roundUp(totalSize, clusterSize);
  let meta = clusterSize;
  const nl2e = roundUp(aligned / clusterSize, clusterSize / 8);
  meta += nl2e * 8;
  const nl1e = roundUp((nl2e * 8) / clusterSize, clusterSize / 8);
  meta += nl1e * 8;
  meta += refcountMetadataSize((meta + aligned) / clusterSize, clusterSize, refcountOrder);
  return meta + aligned;
}

export function measureCommand(argv: string[]): Promise<number> {
  return runCommand(async () => {
    const { options, operands } = getopt(argv, ':hf:O:o:l:U', [
      { name: 'help', hasArg: false, key: 'h' },
      { name: 'image-opts', hasArg: false, key: 'image-opts' },
      { name: 'object', hasArg: true, key: 'object' },
      { name: 'output', hasArg: true, key: 'output' },
      { name: 'size', hasArg: true, key: 'size' },
      { name: 'force-share', hasArg: false, key: 'U' },
    ]);
    let fmt: string | undefined;
    let outFmt = 'raw';
    let opts: string | undefined;
    let output: 'human' | 'json' = 'human';
    let size: number | undefined;
    for (const o of options) {
      switch (o.key) {
        case 'h': return (await import('./help')).printHelp();
        case 'f': fmt = o.value; break;
        case 'O': outFmt = o.value!; break;
        case 'o':
          checkOptionList(o.value!);
          opts = opts ? `${opts},${o.value}` : o.value;
          break;
        case 'l': refuseUnsupported('-l (snapshot_param)'); break;
        case 'output': output = parseOutputFormat(o.value!); break;
        case 'size': size = cvtnum('image size', o.value!); break;
        case 'object': case 'image-opts': refuseUnsupported(`--${o.key}`);
      }
    }
    if (operands.length > 1) throw new CommandError('At most one filename argument is allowed.');
    const filename = operands[0];
    if (!filename && fmt) throw new CommandError('--image-opts, -f, and -l require a filename argument.');
    if (filename && size !== undefined) throw new CommandError('--size N cannot be used together with a filename.');
    if (!filename && size === undefined) throw new CommandError('Either --size N or one filename must be specified.');
    if (outFmt !== 'raw' && outFmt !== 'qcow2') throw new CommandError(`Unknown file format '${outFmt}'`);
    let given: Map<string, string>;
    try {
      given = parseCreateOptions(outFmt, opts);
    } catch (err) {
      if (err instanceof CommandError) throw new CommandError(`${err.message}\nviv img: Invalid options for file format '${outFmt}'`);
      throw err;
    }
    const drv = filename ? await openForCli(filename, { format: fmt, readOnly: true }) : null;
    try {
      const virtual = drv ? drv.length() : size ?? (given.has('size') ? Number(strtosz(given.get('size')!) ?? 0) : 0);
      let required: number;
      let fully: number;
      let bitmaps: number | undefined;
      if (outFmt === 'raw') {
        required = fully = virtual;
      } else {
        const o = qcow2Options(given, virtual);
        const cs = o.clusterSize ?? 65536;
        if (!Number.isInteger(Math.log2(cs)) || cs < 512 || cs > 2 << 20) {
          throw new CommandError('Cluster size must be a power of two between 512 and 2048k');
        }
        const order = Math.log2(o.refcountBits ?? 16);
        const vsize = roundUp(virtual, cs);
        if (Math.ceil(vsize / cs / (cs / 8)) * 8 > 32 * 1024 * 1024) {
          throw new CommandError('The image size is too large (try using a larger cluster size)');
        }
        let data = 0;
        if (drv) {
          if (o.backingFile) data = vsize;
          else {
            for (let off = 0; off < virtual;) {
              const st = await statusAbove(drv, off, virtual - off);
              let pnum = st.length;
              if (!st.zero && st.data && st.present) {
                pnum = roundUp(off + pnum, cs) - off;
                data += (off % cs) + pnum;
              }
              off += pnum;
            }
          }
        }
        if (o.preallocation === 'full' || o.preallocation === 'falloc') data = vsize;
        fully = qcow2PreallocSize(vsize, cs, order);
        required = fully - vsize + data;
        if ((o.version ?? 3) >= 3 && drv instanceof Qcow2Driver) bitmaps = 0;
      }
      if (output === 'human') {
        out(`required size: ${required}\nfully allocated size: ${fully}\n`);
        if (bitmaps !== undefined) out(`bitmaps size: ${bitmaps}\n`);
      } else {
        out(toQemuJson({ required, 'fully-allocated': fully, bitmaps: bitmaps ?? undefined }) + '\n');
      }
    } finally {
      await drv?.close();
    }
    return 0;
  });
}
