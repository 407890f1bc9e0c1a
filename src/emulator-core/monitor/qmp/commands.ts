// The machine-control commands of QMP, as QEMU 7.2 answers them (qapi/run-state.json,
// qapi/misc.json): query-status, stop, cont, system_reset, system_powerdown, quit, and the run
// state events STOP, RESUME, RESET, POWERDOWN, SHUTDOWN. The host binds them to its machine
// through `MachineControl`; this file knows nothing of boards or CPUs.
import type { QmpServer } from './server';

/** QEMU's RunState names that a running core host can be in. */
export type RunState = 'running' | 'paused' | 'shutdown';

export interface MachineControl {
  state(): RunState;
  /** Stops the vCPUs at the next slice boundary; guest time stands still until resume. */
  pause(): void;
  resume(): void;
  /** A hard reset of the board, as the reset button (QEMU: qemu_system_reset_request). */
  reset(): void;
  /**
   * The ACPI-style power button. QEMU's riscv virt board has no device for it, so QEMU 7.2 only
   * emits POWERDOWN and the guest never learns of it; a board that grows one wires it here.
   */
  powerdown(): void;
  /** Ends the process after the reply is sent (exit status 0). */
  quit(): void;
}

/** SHUTDOWN's `reason` values (qapi ShutdownCause) that a core host reports. */
export type ShutdownCause = 'host-qmp-quit' | 'guest-shutdown' | 'guest-reset' | 'host-signal' | 'guest-panic';

export function emitShutdown(qmp: QmpServer, cause: ShutdownCause): void {
  qmp.emit('SHUTDOWN', { guest: cause.startsWith('guest-'), reason: cause });
}

export function registerMachineCommands(qmp: QmpServer, machine: MachineControl): void {
  qmp.register('query-status', {
    run: () => {
      const status = machine.state();
      return { status, singlestep: false, running: status === 'running' };
    },
  });
  qmp.register('stop', {
    run: () => {
      // QEMU sends STOP only on a change of state; stopping a stopped VM is a silent success.
      if (machine.state() !== 'running') return {};
      machine.pause();
      qmp.emit('STOP');
      return {};
    },
  });
  qmp.register('cont', {
    run: () => {
      if (machine.state() !== 'paused') return {};
      machine.resume();
      qmp.emit('RESUME');
      return {};
    },
  });
  // QEMU 7.2 sends each of these events before the command's reply (observed over its socket:
  // its main loop serves the reset/powerdown/shutdown request before the reply is flushed).
  qmp.register('system_reset', {
    run: () => {
      machine.reset();
      qmp.emit('RESET', { guest: false, reason: 'host-qmp-system-reset' });
      return {};
    },
  });
  qmp.register('system_powerdown', {
    run: () => {
      machine.powerdown();
      qmp.emit('POWERDOWN');
      return {};
    },
  });
  qmp.register('quit', {
    run: () => {
      emitShutdown(qmp, 'host-qmp-quit');
      // The process ends after the reply has been written.
      setImmediate(() => machine.quit());
      return {};
    },
  });
}
