// How core hosts are started. The supervisor sees only this interface: under Node (viv serve,
// tests) a child_process.fork; in the Electron app a utilityProcess (src/main/electron).
import { fork } from 'node:child_process';

export interface CoreHostProcess {
  readonly pid: number | undefined;
  /** Called once, when the process has exited (code, or the signal that ended it). */
  onExit(listener: (code: number | null, signal: string | null) => void): void;
  /** Lines the host wrote to stdout/stderr (its own diagnostics, not the guest's console). */
  onOutput(listener: (text: string) => void): void;
  kill(signal?: NodeJS.Signals): boolean;
  /** Electron's utility process only: a message with transferred MessagePorts (the display's). */
  postMessage?(message: unknown, transfer: unknown[]): void;
}

export interface LaunchSpec {
  /** The module to run: out/cli/viv.mjs (whose first argument is `run`), or a stand-in. */
  entry: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

export interface CoreHostLauncher {
  launch(spec: LaunchSpec): CoreHostProcess;
}

export class NodeForkLauncher implements CoreHostLauncher {
  launch(spec: LaunchSpec): CoreHostProcess {
    const child = fork(spec.entry, spec.args, {
      env: spec.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: [],
    });
    const outputListeners: ((text: string) => void)[] = [];
    const forward = (chunk: Buffer) => outputListeners.forEach((l) => l(chunk.toString('utf8')));
    child.stdout?.on('data', forward);
    child.stderr?.on('data', forward);
    // A spawn failure arrives as 'error' and may never produce 'exit'.
    let exited = false;
    const exitListeners: ((code: number | null, signal: string | null) => void)[] = [];
    const finish = (code: number | null, signal: string | null) => {
      if (exited) return;
      exited = true;
      exitListeners.forEach((l) => l(code, signal));
    };
    child.on('exit', finish);
    child.on('error', (err) => {
      forward(Buffer.from(`launch failed: ${err.message}\n`));
      if (child.pid === undefined) finish(null, null);
    });
    return {
      pid: child.pid,
      onExit: (l) => void exitListeners.push(l),
      onOutput: (l) => void outputListeners.push(l),
      kill: (signal) => child.kill(signal),
    };
  }
}
