// The core host's QMP monitor (`-qmp unix:PATH,server=on,wait=off`): the machine-control
// commands of monitor/qmp/commands.ts bound to this host's run loop and board, and the SHUTDOWN
// event when the machine ends. The app's supervisor drives VMs through it, as libvirt does QEMU.
import { rmSync } from 'node:fs';
import type net from 'node:net';
import type { RunLoop } from '../machine/run-loop';
import type { MachineExit, VirtMachine } from '../machine/virt';
import { emitShutdown, registerMachineCommands } from '../monitor/qmp/commands';
import { registerDisplayCommands, type DisplayControl } from '../monitor/qmp/display-commands';
import { listenQmp } from '../monitor/qmp/listen';
import { QmpServer } from '../monitor/qmp/server';
import { registerSnapshotCommands } from '../monitor/qmp/snapshot-commands';
import type { QmpSpec } from './options';
import type { VmMonitor } from './vm-monitor';

export interface HostQmp {
  /** The run ended: tell the clients why (QEMU sends SHUTDOWN before it exits). */
  exited(exit: MachineExit): void;
  close(): Promise<void>;
}

export async function startQmp(spec: QmpSpec, machine: VirtMachine, loop: RunLoop, quit: () => void, display?: DisplayControl, monitor?: VmMonitor): Promise<HostQmp> {
  const qmp = new QmpServer();
  let ended = false;
  let quitByQmp = false;
  registerMachineCommands(qmp, {
    state: () => (ended ? 'shutdown' : loop.paused ? 'paused' : 'running'),
    pause: () => loop.pause(),
    // A save or load in progress holds the machine; a `cont` then takes effect when it is done.
    resume: () => (monitor?.snapshots.inProgress ? monitor.snapshots.resumeAfterwards() : loop.resume()),
    // The loop resets the board between slices, as it does for a guest reboot.
    reset: () => {
      machine.pendingReset = true;
      loop.wake();
    },
    // QEMU 7.2's riscv virt has no power button device: POWERDOWN is all that happens.
    powerdown: () => undefined,
    quit: () => {
      quitByQmp = true;
      quit();
    },
  });
  if (display) registerDisplayCommands(qmp, display);
  // savevm/loadvm/delvm, snapshot-* jobs, human-monitor-command, query-block (vm-monitor.ts).
  if (monitor) {
    registerSnapshotCommands(qmp, monitor.control, monitor.hmp, () => monitor.blockViews());
    monitor.emit = (event, data) => qmp.emit(event, data);
  }
  const server = await listenQmp(qmp, spec);
  const clients = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    clients.add(socket);
    socket.on('close', () => clients.delete(socket));
  });
  return {
    exited(exit) {
      ended = true;
      if (quitByQmp) return; // `quit` already sent SHUTDOWN (host-qmp-quit)
      if (exit.kind === 'poweroff') emitShutdown(qmp, 'guest-shutdown');
      else if (exit.kind === 'reboot-refused') emitShutdown(qmp, 'guest-reset');
      else if (exit.kind === 'firmware-panic') emitShutdown(qmp, 'guest-panic');
      else emitShutdown(qmp, 'host-signal');
    },
    async close() {
      // end() flushes what was written (the SHUTDOWN event) before the socket closes.
      for (const c of clients) c.end();
      await new Promise<void>((r) => server.close(() => r()));
      if (spec.kind === 'unix') rmSync(spec.path, { force: true });
    },
  };
}
