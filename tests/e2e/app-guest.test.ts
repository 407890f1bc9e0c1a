// The app suite booting the shared guest for real. Until `viv run` boots it, the core host is
// Debian's qemu-system-riscv64 given the same argv (VIVARIUM_E2E_HOST=real runs our emulator).
import { appSuite } from './app-suite';
import type { HostKind } from './harness';

appSuite((process.env.VIVARIUM_E2E_HOST ?? 'qemu') as HostKind);
