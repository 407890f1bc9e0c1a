// The app suite booting the shared guest for real: on our own emulator (`viv run`), or with
// VIVARIUM_E2E_HOST=qemu on Debian's qemu-system-riscv64 given the same argv (the reference).
import { appSuite } from './app-suite';
import type { HostKind } from './harness';

appSuite((process.env.VIVARIUM_E2E_HOST ?? 'real') as HostKind);
