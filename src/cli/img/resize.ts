// `viv img resize [-f fmt] [--preallocation=prealloc] [-q] [--shrink] filename [+ | -]size`
// (qemu-img resize).
import { BlockError, Qcow2Driver, RawDriver } from '../../emulator-core/block';
import { CommandError, openForCli, out, runCommand, strtosz, UsageError } from './common';
import { getopt } from './getopt';
import { refuseUnsupported } from './unsupported';

export function resizeCommand(argv: string[]): Promise<number> {
  return runCommand(async () => {
    // The size is taken off the end first, so "-1G" is not read as an option (as qemu-img does).
    if (argv.length < 2) throw new UsageError('Not enough arguments');
    let sizeArg = argv[argv.length - 1]!;
    const { options, operands } = getopt(argv.slice(0, -1), ':f:hq', [
      { name: 'help', hasArg: false, key: 'h' },
      { name: 'object', hasArg: true, key: 'object' },
      { name: 'image-opts', hasArg: false, key: 'image-opts' },
      { name: 'preallocation', hasArg: true, key: 'preallocation' },
      { name: 'shrink', hasArg: false, key: 'shrink' },
    ]);
    let fmt: string | undefined;
    let quiet = false;
    let shrink = false;
    let prealloc = 'off';
    for (const o of options) {
      switch (o.key) {
        case 'h': return (await import('./help')).printHelp();
        case 'f': fmt = o.value; break;
        case 'q': quiet = true; break;
        case 'shrink': shrink = true; break;
        case 'preallocation':
          if (!['off', 'metadata', 'falloc', 'full'].includes(o.value!)) throw new CommandError(`Invalid preallocation mode '${o.value}'`);
          prealloc = o.value!;
          break;
        case 'object': case 'image-opts': refuseUnsupported(`--${o.key}`);
      }
    }
    const ops = operands[0] === '--' ? operands.slice(1) : operands;
    if (ops.length !== 1) throw new UsageError('Expecting image file name and size');
    const filename = ops[0]!;
    let relative = 0;
    if (sizeArg.startsWith('+')) [relative, sizeArg] = [1, sizeArg.slice(1)];
    else if (sizeArg.startsWith('-')) [relative, sizeArg] = [-1, sizeArg.slice(1)];
    const n = strtosz(sizeArg);
    if (n === undefined || n >= 1n << 64n) {
      throw new CommandError("Parameter 'size' expects a non-negative number below 2^64\nOptional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\nand exabytes, respectively.");
    }
    const drv = await openForCli(filename, { format: fmt, readOnly: false });
    try {
      const current = drv.length();
      const total = relative ? current + Number(n) * relative : Number(n);
      if (total <= 0) throw new CommandError('New image size must be positive');
      if (total <= current && prealloc !== 'off') throw new CommandError('Preallocation can only be used for growing images');
      if (total < current && !shrink) {
        throw new CommandError("Use the --shrink option to perform a shrink operation.\nviv img: warning: Shrinking an image will delete all data beyond the shrunken image's end. Before performing such an operation, make sure there is no important data there.");
      }
      try {
        if (drv instanceof Qcow2Driver) {
          if (prealloc !== 'off') refuseUnsupported(`--preallocation=${prealloc} on qcow2 images`);
          await drv.resize(total);
        } else if (drv instanceof RawDriver) {
          if (prealloc === 'metadata') throw new CommandError("Unsupported preallocation mode 'metadata'");
          await drv.truncate(total);
          if (prealloc !== 'off' && total > current) await drv.writeZeroes(current, total - current);
        }
      } catch (err) {
        if (err instanceof BlockError) throw new CommandError(err.message);
        throw err;
      }
      if (!quiet) out('Image resized.\n');
    } finally {
      await drv.close();
    }
    return 0;
  });
}
