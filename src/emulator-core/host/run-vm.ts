// `viv run` and the core host: parse QEMU-style options, build the virt machine, bind its serial
// line, run it, and return the process exit status QEMU would: 0 on guest poweroff (and on
// Ctrl-A x, a signal, or a reboot under -no-reboot), the code of a sifive_test FAIL or an HTIF
// exit, 1 for a bad command line, an unloadable image or a firmware panic.
import { writeFileSync } from 'node:fs';
import { createRiscvCpu } from '../cpu/riscv/wasm-cpu';
import { RunLoop } from '../machine/run-loop';
import type { CpuFactory } from '../machine/virt';
import { buildMachine, MachineSetupError } from './build-machine';
import { OptionError, parseRunArgs } from './options';
import { openSerial, type SerialBackend } from './serial';
import { startQmp, type HostQmp } from './qmp';
import { closeNetworks } from './networks';
import { closeDrives } from './drives';
import { startDisplay, type RunningDisplay } from './display-devices';
import { VmMonitor } from './vm-monitor';
import { HmpConsole, openStdioMonitor } from './monitor-stdio';
import { withAccel } from './accel';

export interface RunVmEnv {
  /** One-line diagnostics (defaults to stderr, prefixed `viv run: `). */
  error(message: string): void;
  info(message: string): void;
  makeCpu: CpuFactory;
}

const defaultEnv: RunVmEnv = {
  error: (m) => process.stderr.write(`viv run: ${m}\n`),
  info: (m) => process.stderr.write(`viv run: info: ${m}\n`),
  makeCpu: createRiscvCpu,
};

export async function runVm(argv: readonly string[], env: RunVmEnv = defaultEnv): Promise<number> {
  let config;
  try {
    config = parseRunArgs(argv);
  } catch (e) {
    if (e instanceof OptionError) {
      env.error(e.message);
      return 1;
    }
    throw e;
  }

  // The machine exists before its serial backend; nothing is printed before run() anyway.
  const line: { serial?: SerialBackend } = {};
  const accel = withAccel(config.accel, config.log, env.makeCpu);
  let machine;
  try {
    machine = await buildMachine(config, accel.makeCpu, (bytes) => line.serial?.write(bytes));
  } catch (e) {
    if (e instanceof MachineSetupError) {
      env.error(e.message);
      return 1;
    }
    throw e;
  }

  if (config.dumpDtb) {
    writeFileSync(config.dumpDtb, machine.fdt);
    env.info(`dtb dumped to ${config.dumpDtb}. Exiting.`);
    await closeNetworks(machine.virtio.map((slot) => slot.device));
    await closeDrives(machine.virtio.map((slot) => slot.device));
    return 0;
  }

  const loop = new RunLoop(machine);
  const quit = () => loop.stop({ kind: 'quit', code: 0 });
  // On a muxed stdio line (-nographic, -serial mon:stdio) Ctrl-A c reaches the human monitor.
  const muxMonitor: { console?: HmpConsole } = {};
  const serial = openSerial(config.serial, {
    input: (bytes) => {
      machine.serialIn(bytes);
      loop.wake();
    },
    quit,
    monitor: config.serial.kind === 'stdio' && config.serial.mux
      ? { feed: (text) => muxMonitor.console?.feed(text), focus: (on) => muxMonitor.console?.focus(on) }
      : undefined,
  });
  line.serial = serial;
  // Snapshots (savevm/loadvm, QMP jobs, HMP): -loadvm starts the machine from one.
  const vmMonitor = new VmMonitor(machine, loop, quit);
  muxMonitor.console = new HmpConsole(vmMonitor.hmp, (text) => serial.write(new TextEncoder().encode(text)));
  if (config.loadvm !== undefined) {
    try {
      await vmMonitor.snapshots.load(config.loadvm);
    } catch (e) {
      env.error(`-loadvm ${config.loadvm}: ${(e as Error).message}`);
      serial.close();
      await closeNetworks(machine.virtio.map((slot) => slot.device));
      await closeDrives(machine.virtio.map((slot) => slot.device));
      return 1;
    }
  }
  // -vnc: the display devices' screen and input, served while the machine runs.
  let display: RunningDisplay;
  try {
    display = await startDisplay(config.graphics, machine.virtio.map((slot) => slot.device), () => loop.wake());
  } catch (e) {
    env.error(`-vnc: ${(e as Error).message}`);
    serial.close();
    await closeDrives(machine.virtio.map((slot) => slot.device));
    return 1;
  }
  let qmp: HostQmp | undefined;
  if (config.qmp) {
    try {
      qmp = await startQmp(config.qmp, machine, loop, quit, display.control, vmMonitor);
    } catch (e) {
      env.error((e as Error).message);
      serial.close();
      await display.close();
      await closeDrives(machine.virtio.map((slot) => slot.device));
      return 1;
    }
  }
  const stdioMonitor = config.monitor === 'stdio' ? openStdioMonitor(vmMonitor.hmp) : undefined;
  const onSignal = () => quit();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  try {
    await serial.ready();
    const exit = await loop.run();
    if (exit.kind === 'firmware-panic') env.error(exit.message);
    if (config.log.has('tcg-stats')) env.info(accel.stats());
    qmp?.exited(exit);
    return exit.code;
  } catch (e) {
    env.error((e as Error).message);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    serial.close();
    stdioMonitor?.close();
    vmMonitor.snapshots.close();
    await qmp?.close();
    await display.close();
    await closeNetworks(machine.virtio.map((slot) => slot.device));
    await closeDrives(machine.virtio.map((slot) => slot.device));
  }
}
