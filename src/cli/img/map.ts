// `viv img map [-f fmt] [--start-offset=offset] [--max-length=len] [--output=ofmt] [-U] filename`
// (qemu-img map): the allocation map of the whole chain, merged as qemu-img merges it.
import { CommandError, cvtnum, ioErrorText, openForCli, out, parseOutputFormat, runCommand, UsageError } from './common';
import { chainStatus, type ChainStatus } from './block-status';
import { getopt } from './getopt';
import { refuseUnsupported } from './unsupported';

export function mapCommand(argv: string[]): Promise<number> {
  return runCommand(async () => {
    const { options, operands } = getopt(argv, ':f:s:l:hU', [
      { name: 'help', hasArg: false, key: 'h' },
      { name: 'format', hasArg: true, key: 'f' },
      { name: 'output', hasArg: true, key: 'output' },
      { name: 'object', hasArg: true, key: 'object' },
      { name: 'image-opts', hasArg: false, key: 'image-opts' },
      { name: 'force-share', hasArg: false, key: 'U' },
      { name: 'start-offset', hasArg: true, key: 's' },
      { name: 'max-length', hasArg: true, key: 'l' },
    ]);
    let fmt: string | undefined;
    let output: 'human' | 'json' = 'human';
    let start = 0;
    let maxLength = -1;
    for (const o of options) {
      switch (o.key) {
        case 'h': return (await import('./help')).printHelp();
        case 'f': fmt = o.value; break;
        case 'output': output = parseOutputFormat(o.value!); break;
        case 's': start = cvtnum('start offset', o.value!); break;
        case 'l': maxLength = cvtnum('max length', o.value!); break;
        case 'object': case 'image-opts': refuseUnsupported(`--${o.key}`);
      }
    }
    if (operands.length !== 1) throw new UsageError('Expecting one image file name');
    const drv = await openForCli(operands[0]!, { format: fmt, readOnly: true });
    const lines: string[] = [];
    const flush = () => {
      out(lines.join(''));
      lines.length = 0;
    };
    let failed: CommandError | undefined;
    try {
      if (output === 'human') lines.push(`${'Offset'.padEnd(16)}${'Length'.padEnd(16)}${'Mapped to'.padEnd(16)}File\n`);
      else lines.push('[');
      let length = drv.length();
      if (maxLength !== -1) length = Math.min(start + maxLength, length);
      let curr: ChainStatus = { start, length: 0, depth: 0, present: false, zero: false, data: false };
      while (curr.start + curr.length < length) {
        const offset = curr.start + curr.length;
        let next: ChainStatus;
        try {
          next = await chainStatus(drv, offset, length - offset);
        } catch (err) {
          throw new CommandError(`Could not read file metadata: ${ioErrorText(err)}`);
        }
        if (mergeable(curr, next)) {
          next.start = curr.start;
          next.length += curr.length;
          next.offset = curr.offset;
        } else if (curr.length > 0) {
          dumpEntry(output, curr, next, lines);
          if (lines.length > 4096 && output === 'json') flush();
        }
        curr = next;
      }
      dumpEntry(output, curr, undefined, lines);
      if (output === 'json') lines.push(']\n');
    } catch (err) {
      if (!(err instanceof CommandError)) throw err;
      failed = err;
    } finally {
      // qemu-img's stdout is buffered: an error (stderr) shows before the lines printed so far.
      if (failed) process.stderr.write(`viv img: ${failed.message}\n`);
      flush();
      await drv.close();
    }
    return failed ? 1 : 0;
  });
}

function mergeable(a: ChainStatus, b: ChainStatus): boolean {
  if (a.length === 0) return false;
  if (a.zero !== b.zero || a.data !== b.data || a.depth !== b.depth || a.present !== b.present) return false;
  if ((a.filename === undefined) !== (b.filename === undefined) || (a.offset === undefined) !== (b.offset === undefined)) return false;
  if (a.filename !== undefined && a.filename !== b.filename) return false;
  if (a.offset !== undefined && a.offset + a.length !== b.offset) return false;
  return true;
}

/** C's "%#-16" PRIx64: 0x-prefixed hex (plain "0" for zero), left-aligned in 16 columns. */
const hex16 = (n: number) => (n === 0 ? '0' : '0x' + n.toString(16)).padEnd(16);

function dumpEntry(output: 'human' | 'json', e: ChainStatus, next: ChainStatus | undefined, lines: string[]): void {
  if (output === 'human') {
    if (e.data && e.offset === undefined) throw new CommandError('File contains external, encrypted or compressed clusters.');
    if (e.data && !e.zero) lines.push(`${hex16(e.start)}${hex16(e.length)}${hex16(e.offset ?? 0)}${e.filename ?? ''}\n`);
    // The human format does not tell zero from unallocated: let those merge.
    if (next && (!next.data || next.zero)) {
      next.data = false;
      next.zero = true;
    }
    return;
  }
  let s = `{ "start": ${e.start}, "length": ${e.length}, "depth": ${e.depth}, "present": ${e.present}, "zero": ${e.zero}, "data": ${e.data}`;
  if (e.offset !== undefined) s += `, "offset": ${e.offset}`;
  s += '}';
  if (next) s += ',\n';
  lines.push(s);
}
