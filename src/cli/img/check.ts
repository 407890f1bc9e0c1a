// `viv img check [-q] [-f fmt] [--output=ofmt] [-r leaks|all] [-T src_cache] [-U] filename`
// (qemu-img check): exit 0 clean, 1 check failed, 2 corruptions, 3 leaks only; 63 unsupported.
import { Qcow2Driver } from '../../emulator-core/block';
import { strerror } from '../../emulator-core/block/errors';
import { cFixed } from './progress';
import { checkQcow2, type CheckResult } from '../../emulator-core/block/qcow2/check';
import { CommandError, out, openForCli, parseOutputFormat, runCommand, UsageError } from './common';
import { getopt } from './getopt';
import { toQemuJson } from './qjson';
import { refuseUnsupported } from './unsupported';

export function checkCommand(argv: string[]): Promise<number> {
  return runCommand(async () => {
    const { options, operands } = getopt(argv, ':hf:r:T:qU', [
      { name: 'help', hasArg: false, key: 'h' },
      { name: 'format', hasArg: true, key: 'f' },
      { name: 'repair', hasArg: true, key: 'r' },
      { name: 'output', hasArg: true, key: 'output' },
      { name: 'object', hasArg: true, key: 'object' },
      { name: 'image-opts', hasArg: false, key: 'image-opts' },
      { name: 'force-share', hasArg: false, key: 'U' },
    ]);
    let fmt: string | undefined;
    let output: 'human' | 'json' = 'human';
    let fix = { leaks: false, errors: false };
    let quiet = false;
    for (const o of options) {
      switch (o.key) {
        case 'h': return (await import('./help')).printHelp();
        case 'T':
          if (!['none', 'writeback', 'writethrough', 'directsync', 'unsafe'].includes(o.value!)) throw new CommandError(`Invalid source cache option: ${o.value}`);
          break;
        case 'f': fmt = o.value; break;
        case 'r':
          if (o.value === 'leaks') fix = { leaks: true, errors: false };
          else if (o.value === 'all') fix = { leaks: true, errors: true };
          else throw new UsageError(`Unknown option value for -r (expecting 'leaks' or 'all'): ${o.value}`);
          break;
        case 'output': output = parseOutputFormat(o.value!); break;
        case 'q': quiet = true; break;
        case 'object': case 'image-opts': refuseUnsupported(`--${o.key}`);
      }
    }
    if (operands.length !== 1) throw new UsageError('Expecting one image file name');
    const filename = operands[0]!;
    const repair = fix.leaks || fix.errors;
    const drv = await openForCli(filename, { format: fmt, readOnly: !repair, forCheck: true });
    try {
      if (!(drv instanceof Qcow2Driver)) {
        throw new CommandError('This image format does not support checks', 63);
      }
      const report = (line: string) => process.stderr.write(line + '\n');
      let res = await drv.exclusive((img) => checkQcow2(img, fix, report));
      if (res.corruptionsFixed || res.leaksFixed) {
        if (output === 'human' && !quiet) {
          out(`The following inconsistencies were found and repaired:\n\n    ${res.leaksFixed} leaked clusters\n    ${res.corruptionsFixed} corruptions\n\nDouble checking the fixed image now...\n`);
        }
        const fixed = res;
        res = await drv.exclusive((img) => checkQcow2(img, { leaks: false, errors: false }, report));
        res.leaksFixed = fixed.leaksFixed;
        res.corruptionsFixed = fixed.corruptionsFixed;
      }
      if (res.failed) throw new CommandError(`Check failed: ${strerror(res.failed)}`);
      if (!quiet) out(output === 'json' ? toQemuJson(checkJson(res, filename, drv.format)) + '\n' : checkHuman(res));
      if (res.checkErrors) throw new CommandError('Check failed');
      return res.corruptions ? 2 : res.leaks ? 3 : 0;
    } finally {
      await drv.close();
    }
  });
}

function checkJson(r: CheckResult, filename: string, format: string) {
  const o: Record<string, string | number | undefined> = {
    filename,
    format,
    'check-errors': r.checkErrors,
    'image-end-offset': r.imageEndOffset || undefined,
    corruptions: r.corruptions || undefined,
    leaks: r.leaks || undefined,
    'corruptions-fixed': r.corruptionsFixed || undefined,
    'leaks-fixed': r.leaksFixed || undefined,
    'total-clusters': r.totalClusters || undefined,
    'allocated-clusters': r.allocatedClusters || undefined,
    'fragmented-clusters': r.fragmentedClusters || undefined,
    'compressed-clusters': r.compressedClusters || undefined,
  };
  return o;
}

const pct = (a: number, b: number) => cFixed((a * 100) / b, 2);

/** qemu-img's dump_human_image_check. */
function checkHuman(r: CheckResult): string {
  let s = '';
  if (!(r.corruptions || r.leaks || r.checkErrors)) s += 'No errors were found on the image.\n';
  else {
    if (r.corruptions) s += `\n${r.corruptions} errors were found on the image.\nData may be corrupted, or further writes to the image may corrupt it.\n`;
    if (r.leaks) s += `\n${r.leaks} leaked clusters were found on the image.\nThis means waste of disk space, but no harm to data.\n`;
    if (r.checkErrors) s += `\n${r.checkErrors} internal errors have occurred during the check.\n`;
  }
  if (r.totalClusters !== 0 && r.allocatedClusters !== 0) {
    s += `${r.allocatedClusters}/${r.totalClusters} = ${pct(r.allocatedClusters, r.totalClusters)}% allocated, ${pct(r.fragmentedClusters, r.allocatedClusters)}% fragmented, ${pct(r.compressedClusters, r.allocatedClusters)}% compressed clusters\n`;
  }
  if (r.imageEndOffset) s += `Image end offset: ${r.imageEndOffset}\n`;
  return s;
}
