// `viv img compare [-f fmt] [-F fmt] [-T src_cache] [-p] [-q] [-s] [-U] filename1 filename2`
// (qemu-img compare): exit 0 identical, 1 different, 2 open error, 3 allocation test failed,
// 4 read error.
import type { BlockDriver } from '../../emulator-core/block';
import { zeroPrefix } from '../../emulator-core/block/raw';
import { statusAbove, type ChainStatus } from './block-status';
import { CommandError, ioErrorText, openForCli, out, runCommand, UsageError } from './common';
import { getopt } from './getopt';
import { Progress } from './progress';
import { refuseUnsupported } from './unsupported';

const IO_BUF_SIZE = 2 * 1024 * 1024;

export function compareCommand(argv: string[]): Promise<number> {
  return runCommand(async () => {
    const { options, operands } = getopt(argv, ':hf:F:T:pqsU', [
      { name: 'help', hasArg: false, key: 'h' },
      { name: 'object', hasArg: true, key: 'object' },
      { name: 'image-opts', hasArg: false, key: 'image-opts' },
      { name: 'force-share', hasArg: false, key: 'U' },
    ]);
    let fmt1: string | undefined;
    let fmt2: string | undefined;
    let progress = false;
    let quiet = false;
    let strict = false;
    for (const o of options) {
      switch (o.key) {
        case 'h': return (await import('./help')).printHelp();
        case 'T':
          if (!['none', 'writeback', 'writethrough', 'directsync', 'unsafe'].includes(o.value!)) throw new CommandError(`Invalid source cache option: ${o.value}`);
          break;
        case 'f': fmt1 = o.value; break;
        case 'F': fmt2 = o.value; break;
        case 'p': progress = true; break;
        case 'q': quiet = true; break;
        case 's': strict = true; break;
        case 'object': case 'image-opts': refuseUnsupported(`--${o.key}`);
      }
    }
    if (quiet) progress = false;
    if (operands.length !== 2) throw new UsageError('Expecting two image file names');
    const [f1, f2] = operands as [string, string];
    const say = (s: string) => !quiet && out(s);
    const prog = progress ? new Progress(2) : null;
    const open = async (f: string, fmt?: string) => {
      try {
        return await openForCli(f, { format: fmt, readOnly: true });
      } catch (err) {
        if (err instanceof CommandError) throw new CommandError(err.message, 2);
        throw err;
      }
    };
    const b1 = await open(f1, fmt1);
    let b2: BlockDriver | undefined;
    try {
      b2 = await open(f2, fmt2);
      prog?.start();
      const code = await compare(b1, b2, f1, f2, strict, say, prog);
      prog?.finish();
      return code;
    } finally {
      await b2?.close();
      await b1.close();
    }
  });
}

async function read(drv: BlockDriver, offset: number, n: number, name: string): Promise<Uint8Array> {
  const buf = new Uint8Array(n);
  try {
    await drv.read(offset, buf);
  } catch (err) {
    throw new CommandError(`Error while reading offset ${offset} of ${name}: ${ioErrorText(err)}`, 4);
  }
  return buf;
}

async function status(drv: BlockDriver, offset: number, n: number, name: string): Promise<ChainStatus> {
  try {
    return await statusAbove(drv, offset, n);
  } catch (err) {
    ioErrorText(err);
    throw new CommandError(`Sector allocation test failed for ${name}`, 3);
  }
}

/** qemu-img's compare_buffers: first differing 512-byte sector, or -1. */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = a.length;
  if (Buffer.from(a.buffer, a.byteOffset, n).equals(Buffer.from(b.buffer, b.byteOffset, n))) return -1;
  for (let i = 0; i < n; i += 512) {
    const len = Math.min(512, n - i);
    if (!Buffer.from(a.buffer, a.byteOffset + i, len).equals(Buffer.from(b.buffer, b.byteOffset + i, len))) return i;
  }
  return -1;
}

async function checkEmpty(drv: BlockDriver, offset: number, n: number, name: string, say: (s: string) => void): Promise<number> {
  const buf = await read(drv, offset, n, name);
  const z = zeroPrefix(buf);
  if (z < buf.length) {
    say(`Content mismatch at offset ${offset + z}!\n`);
    return 1;
  }
  return 0;
}

async function compare(
  b1: BlockDriver, b2: BlockDriver, f1: string, f2: string, strict: boolean, say: (s: string) => void, prog: Progress | null,
): Promise<number> {
  const size1 = b1.length();
  const size2 = b2.length();
  const total = Math.min(size1, size2);
  const base = Math.max(size1, size2);
  let done = 0;
  const tick = (n: number) => {
    done += n;
    prog?.update(base ? (done * 100) / base : 100);
  };
  if (strict && size1 !== size2) {
    say('Strict mode: Image size mismatch!\n');
    return 1;
  }
  let offset = 0;
  while (offset < total) {
    const s1 = await status(b1, offset, size1 - offset, f1);
    const s2 = await status(b2, offset, size2 - offset, f2);
    let chunk = Math.min(s1.length, s2.length, total - offset);
    if (strict && (s1.zero !== s2.zero || s1.data !== s2.data || s1.present !== s2.present || s1.eof !== s2.eof || (s1.offset === undefined) !== (s2.offset === undefined))) {
      say(`Strict mode: Offset ${offset} block status mismatch!\n`);
      return 1;
    }
    if (s1.zero && s2.zero) {
      // both read as zeros
    } else if (s1.present === s2.present) {
      if (s1.present) {
        chunk = Math.min(chunk, IO_BUF_SIZE);
        const d = firstDifference(await read(b1, offset, chunk, f1), await read(b2, offset, chunk, f2));
        if (d >= 0) {
          say(`Content mismatch at offset ${offset + d}!\n`);
          return 1;
        }
      }
    } else {
      chunk = Math.min(chunk, IO_BUF_SIZE);
      const r = s1.present ? await checkEmpty(b1, offset, chunk, f1, say) : await checkEmpty(b2, offset, chunk, f2, say);
      if (r) return r;
    }
    offset += chunk;
    tick(chunk);
  }
  if (size1 !== size2) {
    say('Warning: Image size mismatch!\n');
    const [over, name] = size1 > size2 ? [b1, f1] : [b2, f2];
    while (offset < base) {
      const st = await status(over, offset, base - offset, name);
      let chunk = st.length;
      if (st.present && !st.zero) {
        chunk = Math.min(chunk, IO_BUF_SIZE);
        const r = await checkEmpty(over, offset, chunk, name, say);
        if (r) return r;
      }
      offset += chunk;
      tick(chunk);
    }
  }
  say('Images are identical.\n');
  return 0;
}
