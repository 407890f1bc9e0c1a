// The supervisor: one core host per running VM. It starts `viv run` with the VM's argv plus a
// serial socket (and a QMP socket), connects to both, relays the console, drives pause/resume/
// reset/shutdown over QMP, and watches the process. A core host that dies unasked marks its VM
// crashed with its last console lines; main itself never goes down with it.
// The display never passes through main (DESIGN.md): in web mode the core host serves RFB on its
// own WebSocket (127.0.0.1, a free port, a VNC password set over QMP, only our page's Origin) and
// main only tells the renderer where; in Electron main hands the core host one end of a
// MessageChannel per display window.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { VmEntry, VmState } from '../../shared/api';
import { vmArgv } from '../../shared/vm-argv';
import type { VmConfig } from '../../shared/vm-config';
import { ConsoleBuffer } from './console-buffer';
import { UserError } from './errors';
import type { CoreHostLauncher, CoreHostProcess } from './launcher';
import { QmpClient } from './qmp-client';
import { connectUnix } from './socket-connect';

export interface SupervisorOptions {
  launcher: CoreHostLauncher;
  /** The module the launcher runs, and the arguments before the VM's own (['run'] for viv). */
  hostEntry: string;
  hostArgsPrefix: string[];
  /** Pass `-qmp` to the host and control it over QMP; false: signals only (a host without QMP). */
  qmp: boolean;
  /** How long a starting host has to open its sockets. */
  connectTimeoutMs?: number;
  /** How long Force off waits for QMP `quit` before SIGKILL. */
  quitGraceMs?: number;
  /**
   * Pages allowed to open a core host's display WebSocket (web mode: the web server's own
   * origins). Absent: no WebSocket (Electron reaches the display over a MessagePort).
   */
  displayOrigins?: () => string[] | undefined;
  onChange: (id: string) => void;
}

export type RuntimeStatus = Pick<VmEntry, 'state' | 'stateReason' | 'lastConsole' | 'control'>;

type ConsoleListener = { onData: (bytes: Uint8Array) => void; onClose?: () => void };

interface Run {
  id: string;
  process: CoreHostProcess;
  state: VmState;
  reason?: string;
  serial?: net.Socket;
  qmp?: QmpClient;
  /** The core host's `-vnc unix:` socket when the VM has a display. */
  displayPath?: string;
  /** Web mode: the VNC password main set over QMP for the display WebSocket. */
  displayPassword?: string;
  /** Where the renderer's noVNC connects (ws://127.0.0.1:PORT/), once QMP has named the port. */
  displayWebSocket?: string;
  /** Why the display cannot be reached, when setting it up failed. */
  displayProblem?: string;
  console: ConsoleBuffer;
  hostOutput: string;
  listeners: Set<ConsoleListener>;
  stopRequested: boolean;
  exited: Promise<void>;
}

/** What stays of a run after its host exited: the state, why, and its console. */
interface Past {
  state: 'stopped' | 'crashed';
  reason?: string;
  lastConsole?: string[];
  console: ConsoleBuffer;
}

/** Names the core host's WebSocket origins (emulator-core/host/display-devices.ts, same string). */
const websocketOriginsEnv = 'VIVARIUM_VNC_WEBSOCKET_ORIGINS';
/** The message that carries a display port to the core host (display-devices.ts, same string). */
const displayPortMessage = 'vivarium:display-port';

/** VNC Authentication uses 8 characters (DES key); 48 random bits, new for each run. */
function newVncPassword(): string {
  return randomBytes(6).toString('base64url');
}

export class Supervisor {
  private readonly runs = new Map<string, Run>();
  private readonly past = new Map<string, Past>();
  private runtimeDir: string | undefined;

  constructor(private readonly options: SupervisorOptions) {}

  status(id: string): RuntimeStatus {
    const run = this.runs.get(id);
    if (run) {
      return {
        state: run.state,
        ...(run.reason ? { stateReason: run.reason } : {}),
        control: run.qmp ? 'qmp' : 'signals',
      };
    }
    const past = this.past.get(id);
    if (!past) return { state: 'stopped' };
    return {
      state: past.state,
      ...(past.reason ? { stateReason: past.reason } : {}),
      ...(past.lastConsole ? { lastConsole: past.lastConsole } : {}),
    };
  }

  isActive(id: string): boolean {
    return this.runs.has(id);
  }

  private async socketDir(): Promise<string> {
    // Unix socket paths are limited to ~107 bytes, so they live in a short temp folder, not the library.
    this.runtimeDir ??= await fs.mkdtemp(path.join(os.tmpdir(), 'viv-'));
    return this.runtimeDir;
  }

  async start(config: VmConfig): Promise<void> {
    if (this.runs.has(config.id)) throw new UserError(`'${config.name}' is already running`, 'already-running');
    const dir = await this.socketDir();
    const serialPath = path.join(dir, `${config.id}.serial`);
    const qmpPath = path.join(dir, `${config.id}.qmp`);
    const displayPath = config.display?.enabled ? path.join(dir, `${config.id}.vnc`) : undefined;
    const origins = displayPath && this.options.qmp ? this.options.displayOrigins?.() : undefined;
    const displayPassword = origins?.length ? newVncPassword() : undefined;
    await Promise.all([fs.rm(serialPath, { force: true }), fs.rm(qmpPath, { force: true }), ...(displayPath ? [fs.rm(displayPath, { force: true })] : [])]);
    const args = [
      ...this.options.hostArgsPrefix,
      ...vmArgv(config),
      '-serial',
      `unix:${serialPath},server=on,wait=off`,
      ...(this.options.qmp ? ['-qmp', `unix:${qmpPath},server=on,wait=off`] : []),
      // The screen: RFB on a unix socket (QEMU needs a display for the WebSocket), plus in web mode
      // a WebSocket on any free loopback port, locked until QMP set_password.
      ...(displayPath ? ['-vnc', `unix:${displayPath}${displayPassword ? ',websocket=127.0.0.1:0,password=on' : ''}`] : []),
    ];
    const env = displayPassword ? { ...process.env, [websocketOriginsEnv]: origins!.join(',') } : undefined;
    const child = this.options.launcher.launch({ entry: this.options.hostEntry, args, ...(env ? { env } : {}) });
    let exitedResolve!: () => void;
    const run: Run = {
      id: config.id,
      process: child,
      state: 'starting',
      console: new ConsoleBuffer(),
      hostOutput: '',
      listeners: new Set(),
      stopRequested: false,
      exited: new Promise((r) => (exitedResolve = r)),
      displayPath,
      displayPassword,
    };
    this.runs.set(config.id, run);
    this.past.delete(config.id);
    child.onOutput((text) => {
      run.hostOutput = (run.hostOutput + text).slice(-4096);
    });
    child.onExit((code, signal) => {
      this.finish(run, code, signal);
      exitedResolve();
    });
    this.options.onChange(config.id);

    const stillWanted = () => this.runs.get(config.id) === run;
    const timeoutMs = this.options.connectTimeoutMs ?? 15_000;
    try {
      run.serial = await connectUnix(serialPath, { timeoutMs, stillWanted });
      run.serial.on('data', (bytes: Buffer) => {
        run.console.push(bytes);
        for (const l of run.listeners) l.onData(bytes);
      });
      run.serial.on('error', () => undefined); // the exit handler reports what happened
      if (this.options.qmp) {
        run.qmp = await QmpClient.open(await connectUnix(qmpPath, { timeoutMs, stillWanted }));
        run.qmp.on('event', (e) => this.onQmpEvent(run, e.event));
        const status = (await run.qmp.execute('query-status')) as { status?: string };
        if (run.state === 'starting') run.state = status.status === 'paused' ? 'paused' : 'running';
        if (run.displayPassword) await this.openDisplayWebSocket(run, run.qmp);
      } else if (run.state === 'starting') {
        run.state = 'running';
      }
    } catch (err) {
      if (stillWanted()) {
        // The host is up but unreachable: it is of no use, and must not linger.
        run.reason = `could not connect to the core host (${(err as Error).message})`;
        child.kill('SIGKILL');
      }
      await run.exited;
      const past = this.past.get(config.id);
      throw new UserError(`${config.name}: ${past?.reason ?? run.reason}`, 'start-failed');
    }
    this.options.onChange(config.id);
  }

  /**
   * Unlocks the core host's display WebSocket with this run's password and learns its port, as
   * a client of QEMU would: set_password, then query-vnc-servers (the listener with
   * "websocket": true). A failure leaves the VM running without a display window.
   */
  private async openDisplayWebSocket(run: Run, qmp: QmpClient): Promise<void> {
    try {
      await qmp.execute('set_password', { protocol: 'vnc', password: run.displayPassword });
      const servers = (await qmp.execute('query-vnc-servers')) as { server?: { host?: string; service?: string; websocket?: boolean }[] }[];
      const ws = servers.flatMap((s) => s.server ?? []).find((l) => l.websocket && l.host === '127.0.0.1');
      const port = Number(ws?.service);
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error('the core host opened no display WebSocket');
      run.displayWebSocket = `ws://127.0.0.1:${port}/`;
    } catch (err) {
      run.displayProblem = `The display could not be opened: ${(err as Error).message}`;
    }
  }

  private onQmpEvent(run: Run, event: string): void {
    if (event === 'STOP') run.state = 'paused';
    else if (event === 'RESUME') run.state = 'running';
    else if (event === 'SHUTDOWN') run.state = 'stopping';
    else return;
    this.options.onChange(run.id);
  }

  private finish(run: Run, code: number | null, signal: string | null): void {
    if (this.runs.get(run.id) !== run) return;
    this.runs.delete(run.id);
    run.serial?.destroy();
    run.qmp?.close();
    for (const l of run.listeners) l.onClose?.();
    // QEMU exits 0 when the guest powers off or on `quit`; anything else, unasked, is a crash.
    const clean = code === 0 || run.stopRequested;
    if (clean) {
      this.past.set(run.id, { state: 'stopped', console: run.console });
    } else {
      const how = signal ? `killed by ${signal}` : `exited with status ${code}`;
      const hostLines = run.hostOutput.split('\n').map((l) => l.trim()).filter(Boolean).slice(-5);
      const what = run.state === 'starting' ? `The VM did not start: the core host ${how}` : `The core host ${how}`;
      this.past.set(run.id, {
        state: 'crashed',
        reason: `${what}${run.reason ? ` (${run.reason})` : ''}`,
        lastConsole: [...run.console.lastLines(20), ...hostLines.map((l) => `[host] ${l}`)],
        console: run.console,
      });
    }
    this.options.onChange(run.id);
  }

  private active(id: string): Run {
    const run = this.runs.get(id);
    if (!run || run.state === 'starting') throw new UserError('The VM is not running', 'not-running');
    return run;
  }

  async pause(id: string): Promise<void> {
    const run = this.active(id);
    if (run.qmp) await run.qmp.execute('stop');
    else if (!run.process.kill('SIGSTOP')) throw new UserError('Could not pause the core host', 'signal-failed');
    run.state = 'paused';
    if (!run.qmp) run.reason = 'paused by signal (SIGSTOP): the guest clock jumps on resume';
    this.options.onChange(id);
  }

  async resume(id: string): Promise<void> {
    const run = this.active(id);
    if (run.qmp) await run.qmp.execute('cont');
    else run.process.kill('SIGCONT');
    run.state = 'running';
    run.reason = undefined;
    this.options.onChange(id);
  }

  async reset(id: string): Promise<void> {
    const run = this.active(id);
    if (!run.qmp) throw new UserError('Reset needs the core host\'s QMP monitor, which this host lacks', 'no-qmp');
    await run.qmp.execute('system_reset');
  }

  /** Asks the guest to power off (like pressing the power button); the guest may ignore it. */
  async shutdown(id: string): Promise<void> {
    const run = this.active(id);
    if (run.qmp) {
      await run.qmp.execute('system_powerdown');
      // QEMU's riscv virt has no power button device, so a Linux guest never hears this; say so.
      run.reason = 'Shutdown requested. If the guest does not power off, run `poweroff` in its console or use Force off.';
    } else {
      // No monitor: SIGTERM ends the host as QEMU does on SIGTERM; the guest is not asked.
      run.stopRequested = true;
      run.process.kill('SIGCONT');
      run.process.kill('SIGTERM');
      run.reason = 'terminated by signal (no QMP monitor to ask the guest)';
    }
    this.options.onChange(id);
  }

  /** Pulls the plug: QMP `quit`, then SIGKILL if the host has not exited after a grace period. */
  async forceOff(id: string): Promise<void> {
    const run = this.runs.get(id);
    if (!run) throw new UserError('The VM is not running', 'not-running');
    run.stopRequested = true;
    run.state = 'stopping';
    this.options.onChange(id);
    if (run.qmp) void run.qmp.execute('quit').catch(() => undefined);
    else run.process.kill('SIGKILL');
    const grace = new Promise<'late'>((r) => setTimeout(() => r('late'), this.options.quitGraceMs ?? 3000).unref());
    if ((await Promise.race([run.exited, grace])) === 'late') {
      run.process.kill('SIGCONT');
      run.process.kill('SIGKILL');
      await run.exited;
    }
  }

  private displayRun(id: string): Run {
    const run = this.runs.get(id);
    if (!run?.displayPath) throw new UserError(run ? 'This VM has no display' : 'The VM is not running', 'no-display');
    return run;
  }

  /** Web mode: where the display window's noVNC connects, and the password it logs in with. */
  displayEndpoint(id: string): { url: string; password: string } {
    const run = this.displayRun(id);
    if (run.displayProblem) throw new UserError(run.displayProblem, 'no-display');
    if (!run.displayPassword) {
      throw new UserError(this.options.qmp ? 'This shell shows the display over its own channel' : 'The display needs the core host\'s QMP monitor', 'no-display');
    }
    if (!run.displayWebSocket) throw new UserError('The display is still starting', 'no-display');
    return { url: run.displayWebSocket, password: run.displayPassword };
  }

  /**
   * Electron: hands the core host one end of a MessageChannel for a display window (the other end
   * goes to the window); RFB then flows between the two without main.
   */
  connectDisplayPort(id: string, port: unknown): void {
    const run = this.displayRun(id);
    if (!run.process.postMessage) throw new UserError('This core host takes no display port', 'no-display');
    run.process.postMessage({ type: displayPortMessage }, [port]);
  }

  /** Attaches a console: the scrollback so far, then live bytes. Works on a stopped VM's last run too. */
  attachConsole(id: string, onData: (bytes: Uint8Array) => void, onClose?: () => void) {
    const run = this.runs.get(id);
    const buffer = run?.console ?? this.past.get(id)?.console;
    const scrollback = buffer?.snapshot();
    if (scrollback?.length) onData(scrollback);
    if (!run) {
      onClose?.();
      return { write: () => undefined, close: () => undefined };
    }
    const listener: ConsoleListener = { onData, onClose };
    run.listeners.add(listener);
    return {
      write: (data: string | Uint8Array) => {
        if (this.runs.get(id) === run && run.serial && !run.serial.destroyed) run.serial.write(data);
      },
      close: () => void run.listeners.delete(listener),
    };
  }

  /** Stops every host (app quit): each gets QMP quit, then SIGKILL. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.runs.keys()].map((id) => this.forceOff(id).catch(() => undefined)));
    if (this.runtimeDir) await fs.rm(this.runtimeDir, { recursive: true, force: true });
  }

  /** The monitor of a running VM, for live snapshots (snapshot-service.ts). */
  qmpOf(id: string): QmpClient {
    const run = this.runs.get(id);
    if (!run || run.state === 'starting' || run.state === 'stopping') throw new UserError('The VM is not running', 'not-running');
    if (!run.qmp) throw new UserError('Live snapshots need the core host\'s QMP monitor, which this host lacks', 'no-qmp');
    return run.qmp;
  }

  hasDisplay(id: string): boolean {
    return !!this.runs.get(id)?.displayPath;
  }

  /** The console's last lines (this run's, or the last run's), as a snapshot's thumbnail. */
  consoleLines(id: string, count: number): string[] {
    return (this.runs.get(id)?.console ?? this.past.get(id)?.console)?.lastLines(count) ?? [];
  }

  forget(id: string): void {
    this.past.delete(id);
  }
}
