// `viv img`: qemu-img's subcommands, options, text and JSON output, on our block engine
// (src/emulator-core/block). Each subcommand lives in src/cli/img/<name>.ts.
import { printHelp } from './img/help';

type Subcommand = (argv: string[]) => Promise<number>;

const subcommands: Record<string, () => Promise<Subcommand>> = {
  check: async () => (await import('./img/check')).checkCommand,
  commit: async () => (await import('./img/commit')).commitCommand,
  compare: async () => (await import('./img/compare')).compareCommand,
  convert: async () => (await import('./img/convert')).convertCommand,
  create: async () => (await import('./img/create')).createCommand,
  info: async () => (await import('./img/info')).infoCommand,
  map: async () => (await import('./img/map')).mapCommand,
  measure: async () => (await import('./img/measure')).measureCommand,
  rebase: async () => (await import('./img/rebase')).rebaseCommand,
  resize: async () => (await import('./img/resize')).resizeCommand,
  snapshot: async () => (await import('./img/snapshot')).snapshotCommand,
};

/** qemu-img subcommands we do not implement: refused by name. */
const unsupported = new Set(['amend', 'bench', 'bitmap', 'dd']);

function usageError(message: string): number {
  process.stderr.write(`viv img: ${message}\nTry 'viv img --help' for more information\n`);
  return 1;
}

export async function imgCommand(argv: string[]): Promise<number> {
  // libuv reads this when the thread pool first starts (no async I/O has happened yet): convert
  // keeps several 2 MiB reads and writes in flight, and 4 threads were measured to be the limit
  // (1 GiB qcow2 -> raw: 0.7-1.2 s with 4 threads, 0.6 s with 8).
  process.env.UV_THREADPOOL_SIZE ??= '8';
  let i = 0;
  // Standard options come before the subcommand (qemu-img's "+:hVT:").
  for (; i < argv.length && argv[i]!.startsWith('-'); i++) {
    const a = argv[i]!;
    if (a === '-h' || a === '--help') return printHelp();
    if (a === '-V' || a === '--version') {
      process.stdout.write('viv img (Vivarium) 0.1.0, qemu-img 7.2 compatible\n');
      return 0;
    }
    if (a === '-T' || a === '--trace') return usageError(`option '${a}' (tracing) is not supported by viv img`);
    return usageError(`unrecognized option '${a}'`);
  }
  const name = argv[i];
  if (name === undefined) return usageError('Not enough arguments');
  if (unsupported.has(name)) {
    process.stderr.write(`viv img: command '${name}' is not supported by viv img\n`);
    return 1;
  }
  const load = subcommands[name];
  if (!load) return usageError(`Command not found: ${name}`);
  return (await load())(argv.slice(i + 1));
}
