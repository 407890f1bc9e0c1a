// Options and subcommands of qemu-img that `viv img` does not implement are refused by name,
// exit 1, rather than ignored.
import { CommandError } from './common';

export function refuseUnsupported(what: string): never {
  throw new CommandError(`${what} is not supported by viv img`);
}
