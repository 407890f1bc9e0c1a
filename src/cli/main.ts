// `viv`: one command, four subcommands, as qemu-system-*, qemu-img and qemu-<arch> are for QEMU.
// Each subcommand lives in its own file and returns the process exit code.

const usage = `usage: viv <command> [options]

commands:
  run     run a virtual machine (qemu-system-riscv64's options)
  img     create, inspect and convert disk images (qemu-img's subcommands)
  serve   the app in web mode: prints a URL to open in a browser
  help    this text`;

type Command = (argv: string[]) => Promise<number>;

const commands: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./run')).runCommand,
  img: async () => (await import('./img')).imgCommand,
  serve: async () => (await import('./serve')).serveCommand,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    console.log(usage);
    return name === undefined ? 1 : 0;
  }
  const load = commands[name];
  if (!load) {
    console.error(`viv: unknown command '${name}'\n${usage}`);
    return 1;
  }
  return (await load())(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`viv: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
