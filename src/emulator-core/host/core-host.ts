// The core host: one VM per process, started by the app's supervisor (a utility process in
// Electron, child_process.fork under Node) with the VM's `viv run` argument list, so the app and
// the CLI run the same machine. Its serial line is whatever -serial says (the supervisor passes
// -serial unix:PATH,server=on,wait=off); stdout/stderr carry its own diagnostics.
import { runVm } from './run-vm';

const argv = process.argv.slice(2);
// The supervisor may start us as it starts the CLI (`run` first); both spellings work.
if (argv[0] === 'run') argv.shift();
runVm(argv).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`core host: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
