// Core hosts in the Electron app: utilityProcess.fork, Electron's way to run a Node child that
// does not share main's event loop, with the same options and sockets as child_process.fork.
import { type MessagePortMain, utilityProcess } from 'electron';
import type { CoreHostLauncher, CoreHostProcess, LaunchSpec } from '../services/launcher';

export class UtilityProcessLauncher implements CoreHostLauncher {
  launch(spec: LaunchSpec): CoreHostProcess {
    const child = utilityProcess.fork(spec.entry, spec.args, {
      env: spec.env ?? process.env,
      stdio: 'pipe',
      serviceName: 'Vivarium core host',
    });
    const output: ((text: string) => void)[] = [];
    const forward = (chunk: Buffer) => output.forEach((l) => l(chunk.toString('utf8')));
    child.stdout?.on('data', forward);
    child.stderr?.on('data', forward);
    return {
      get pid() {
        return child.pid;
      },
      onExit: (l) => void child.once('exit', (code) => l(code, null)),
      onOutput: (l) => void output.push(l),
      // The display window's MessagePort (supervisor.connectDisplayPort); the core host serves RFB on it.
      postMessage: (message, transfer) => child.postMessage(message, transfer as MessagePortMain[]),
      // utilityProcess has no signals of its own: kill() ends it; others go to its pid.
      kill: (signal) => {
        if (!signal || signal === 'SIGKILL' || signal === 'SIGTERM') return child.kill();
        if (child.pid === undefined) return false;
        try {
          process.kill(child.pid, signal);
          return true;
        } catch {
          return false;
        }
      },
    };
  }
}
