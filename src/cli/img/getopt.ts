// GNU getopt_long, as qemu-img uses it: options and operands may be mixed (operands are kept in
// order), "--" ends options, long options take "--name=value" or "--name value" and may be
// abbreviated to a unique prefix. Errors are reported in qemu-img's words.
import { UsageError } from './common';

export interface LongOption {
  name: string;
  hasArg: boolean;
  /** What the option is reported as (a short option letter, or a name for long-only options). */
  key: string;
}

export interface ParsedOption {
  key: string;
  value?: string;
}

export interface ParsedArgs {
  options: ParsedOption[];
  operands: string[];
}

/**
 * Parses `argv` with a getopt optstring ("f:hq": letters, ':' after one that takes an argument)
 * and long options. Throws UsageError with qemu-img's texts for unknown options and missing
 * arguments.
 */
export function getopt(argv: string[], optstring: string, longs: LongOption[] = []): ParsedArgs {
  const takesArg = new Map<string, boolean>();
  const spec = optstring.replace(/^[:+]/, '');
  for (let i = 0; i < spec.length; i++) {
    const c = spec[i]!;
    if (c === ':') continue;
    takesArg.set(c, spec[i + 1] === ':');
  }
  const options: ParsedOption[] = [];
  const operands: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      operands.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      const exact = longs.find((l) => l.name === name);
      const prefixed = exact ? [exact] : longs.filter((l) => l.name.startsWith(name));
      if (prefixed.length === 0) throw new UsageError(`unrecognized option '${arg}'`);
      if (prefixed.length > 1 && !prefixed.every((p) => p.key === prefixed[0]!.key)) {
        throw new UsageError(`unrecognized option '${arg}'`);
      }
      const opt = prefixed[0]!;
      if (opt.hasArg) {
        if (eq >= 0) options.push({ key: opt.key, value: arg.slice(eq + 1) });
        else if (i + 1 < argv.length) options.push({ key: opt.key, value: argv[++i]! });
        else throw new UsageError(`missing argument for option '${arg}'`);
      } else {
        if (eq >= 0) throw new UsageError(`unrecognized option '${arg}'`);
        options.push({ key: opt.key });
      }
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      for (let j = 1; j < arg.length; j++) {
        const c = arg[j]!;
        const has = takesArg.get(c);
        if (has === undefined) throw new UsageError(`unrecognized option '${arg}'`);
        if (!has) {
          options.push({ key: c });
          continue;
        }
        if (j + 1 < arg.length) options.push({ key: c, value: arg.slice(j + 1) });
        else if (i + 1 < argv.length) options.push({ key: c, value: argv[++i]! });
        else throw new UsageError(`missing argument for option '${arg}'`);
        break;
      }
      continue;
    }
    operands.push(arg);
  }
  return { options, operands };
}
