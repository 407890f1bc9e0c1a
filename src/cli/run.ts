// `viv run`: qemu-system-riscv64's command line for the virt machine (see
// src/emulator-core/host/options.ts for what is implemented); the guest's serial line is on stdio.
import { runVm } from '../emulator-core/host/run-vm';

export async function runCommand(argv: string[]): Promise<number> {
  const code = await runVm(argv);
  // Nothing of the machine may keep the process alive after the guest is gone.
  process.exit(code);
}
