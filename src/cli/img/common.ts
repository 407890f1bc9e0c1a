// What every `viv img` subcommand shares: qemu-img's error reporting (prefixed with the program
// name, usage errors followed by the "Try --help" line), size parsing (qemu_strtosz) and
// printing (size_to_str), -o option lists, and opening images with qemu-img's messages.
import { BlockError, openImage, type BlockDriver, type OpenImageOptions } from '../../emulator-core/block';
import { strerror } from '../../emulator-core/block/errors';

export const PROGRAM = 'viv img';

/** A command-line mistake: printed with the "Try --help" hint, exit 1 (qemu-img's error_exit). */
export class UsageError extends Error {}

/** A failure already phrased for the user: printed after the program name, exit 1 (error_report). */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    /** qemu-img prints some hints without a final newline (error_append_hint). */
    readonly newline = true,
  ) {
    super(message);
  }
}

export function errorLine(message: string): void {
  process.stderr.write(`${PROGRAM}: ${message}\n`);
}

export function out(text: string): void {
  process.stdout.write(text);
}

/** Runs a subcommand body, turning our errors into qemu-img's output and exit codes. */
export async function runCommand(body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${PROGRAM}: ${err.message}\nTry '${PROGRAM} --help' for more information\n`);
      return 1;
    }
    if (err instanceof CommandError) {
      if (err.message) process.stderr.write(`${PROGRAM}: ${err.message}${err.newline ? '\n' : ''}`);
      return err.exitCode;
    }
    if (err instanceof BlockError) {
      errorLine(err.message);
      return 1;
    }
    throw err;
  }
}

const SUFFIXES = 'BKMGTPE';

/**
 * qemu_strtosz: a decimal number (or 0x hex, without fraction or suffix), an optional fraction
 * that needs a suffix, and an optional suffix B/K/M/G/T/P/E (any case, powers of 1024).
 * Returns undefined for anything else.
 */
export function strtosz(text: string, defaultSuffix = 'B'): bigint | undefined {
  const m = /^\s*(\d+)(?:(\.\d*))?([a-zA-Z])?$/.exec(text);
  const hex = /^\s*0[xX]([0-9a-fA-F]+)$/.exec(text);
  if (hex) return BigInt('0x' + hex[1]);
  if (!m) return undefined;
  let mul = 1n;
  const suffix = (m[3] ?? defaultSuffix).toUpperCase();
  const idx = SUFFIXES.indexOf(suffix);
  if (idx < 0) return undefined;
  mul = 1024n ** BigInt(idx);
  const whole = BigInt(m[1]!);
  let value = whole * mul;
  if (m[2] && m[2].length > 1) {
    if (mul === 1n) return undefined; // a fraction needs a scale
    const fracDigits = m[2].slice(1);
    value += (BigInt(fracDigits) * mul) / 10n ** BigInt(fracDigits.length);
  } else if (m[2] && mul === 1n) return undefined;
  return value;
}

const INT64_MAX = (1n << 63n) - 1n;

/** qemu-img's cvtnum: a size in [min, max] or a UsageError-free CommandError with its two lines. */
export function cvtnum(name: string, value: string, min = 0n, max = INT64_MAX): number {
  const v = strtosz(value);
  if (v === undefined) {
    throw new CommandError(
      `Invalid ${name} specified. You may use k, M, G, T, P or E suffixes for\n${PROGRAM}: kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.`,
    );
  }
  if (v > max || v < min) throw new CommandError(`Invalid ${name} specified. Must be between ${min} and ${max}.`);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new CommandError(`Invalid ${name} specified: ${value} is beyond what viv img handles (2^53 bytes)`);
  return Number(v);
}

/** C's printf("%.<p>g"). */
export function formatG(value: number, precision: number): string {
  if (value === 0) return '0';
  let s = value.toPrecision(precision);
  if (s.includes('e')) {
    const parts = s.split('e') as [string, string];
    let mant = parts[0];
    const exp = parts[1];
    if (mant.includes('.')) mant = mant.replace(/0+$/, '').replace(/\.$/, '');
    const sign = exp.startsWith('-') ? '-' : '+';
    const digits = exp.replace(/^[+-]/, '').padStart(2, '0');
    return `${mant}e${sign}${digits}`;
  }
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s;
}

/** QEMU's size_to_str: "196 KiB", "1.27 MiB", "2 GiB". */
export function sizeToStr(val: number): string {
  const suffixes = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
  // frexp(val / (1000/1024)): the unit is chosen so the number shown stays below 1000.
  const x = val / (1000 / 1024);
  let e = x === 0 ? 0 : Math.floor(Math.log2(x)) + 1;
  if (x !== 0 && 2 ** (e - 1) > x) e--;
  if (x !== 0 && 2 ** e <= x) e++;
  const i = Math.max(0, Math.floor((e - 1) / 10));
  const div = 2 ** (i * 10);
  return `${formatG(val / div, 3)} ${suffixes[i]}B`;
}

/** A "-o key=value,key=value" list (",," is a literal comma), as QemuOpts parses it. */
export function parseOptionList(text: string): [string, string | undefined][] {
  const out: [string, string | undefined][] = [];
  let i = 0;
  while (i < text.length) {
    let item = '';
    while (i < text.length) {
      if (text[i] === ',') {
        if (text[i + 1] === ',') {
          item += ',';
          i += 2;
          continue;
        }
        break;
      }
      item += text[i++];
    }
    i++;
    if (item === '') continue;
    const eq = item.indexOf('=');
    out.push(eq < 0 ? [item, undefined] : [item.slice(0, eq), item.slice(eq + 1)]);
  }
  return out;
}

/** qemu-img's is_valid_option_list: no empty list, no trailing single comma. */
export function checkOptionList(text: string): void {
  if (text === '' || (text.endsWith(',') && !text.endsWith(',,'))) {
    throw new CommandError(`Invalid option list: ${text}`);
  }
}

export function parseOutputFormat(value: string): 'human' | 'json' {
  if (value === 'human' || value === 'json') return value;
  throw new CommandError('--output must be used with human or json as argument.');
}

/** Opens an image for a subcommand; failures read "Could not open 'x': <reason>". */
export async function openForCli(filename: string, options: OpenImageOptions): Promise<BlockDriver> {
  try {
    const drv = await openImage(filename, options);
    if (!options.format && drv.format === 'raw' && !options.readOnly) warnProbedRaw(filename);
    return drv;
  } catch (err) {
    if (err instanceof BlockError) throw new CommandError(`Could not open '${filename}': ${err.message}`);
    throw err;
  }
}

/** Parses "on"/"off" like QEMU's bool options. */
export function parseBool(name: string, value: string | undefined): boolean {
  if (value === undefined || value === 'on' || value === 'yes' || value === 'true' || value === 'y') return true;
  if (value === 'off' || value === 'no' || value === 'false' || value === 'n') return false;
  throw new CommandError(`Parameter '${name}' expects 'on' or 'off'`);
}

/** QEMU's warning when a raw image is opened for writing without -f (raw_open). */
export function warnProbedRaw(filename: string): void {
  process.stderr.write(`WARNING: Image format was not specified for '${filename}' and probing guessed raw.
         Automatically detecting the format is dangerous for raw images, write operations on block 0 will be restricted.
         Specify the 'raw' format explicitly to remove the restrictions.
`);
}

/**
 * qemu-img's wording for an I/O failure: a corruption found in the metadata is announced first
 * (qcow2_signal_corruption's line), and the command then names only the errno text.
 */
export function ioErrorText(err: unknown, writable = false): string {
  if (!(err instanceof BlockError)) throw err;
  if (!err.corruption) return err.message;
  process.stderr.write(writable
    ? `qcow2: Marking image as corrupt: ${err.message}; further corruption events will be suppressed\n`
    : `qcow2: Image is corrupt: ${err.message}; further non-fatal corruption events will be suppressed\n`);
  return strerror(err.code);
}

/**
 * Runs `body` with `drv` open and closes it afterwards. A failure while closing (a flush that
 * hits a full disk) is reported only when the body itself succeeded: the first error is the one
 * the user needs to see.
 */
export async function withImage<T>(drv: BlockDriver, body: (drv: BlockDriver) => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await body(drv);
  } catch (err) {
    await drv.close().catch(() => undefined);
    throw err;
  }
  await drv.close();
  return result;
}
