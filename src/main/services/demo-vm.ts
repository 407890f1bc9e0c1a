// The demo VM `npm start` offers: the shared RISC-V guest (kernel + initramfs), created once.
// A person who deleted it gets it back only by asking again (npm start), never behind their back.
import path from 'node:path';
import type { VmEntry } from '../../shared/api';
import type { AppServices } from './app-services';

export const demoVmName = 'Demo Linux (RISC-V)';

export async function ensureDemoVm(services: AppServices, guestDir: string): Promise<VmEntry | undefined> {
  const list = await services.invoke('vms.list', []);
  if (list.ok && (list.value as VmEntry[]).some((v) => v.name === demoVmName)) return undefined;
  const reply = await services.invoke('vms.create', [
    {
      name: demoVmName,
      memoryMiB: 512,
      cpus: 1,
      boot: {
        kind: 'kernel',
        kernel: path.join(guestDir, 'Image'),
        initrd: path.join(guestDir, 'initramfs.cpio.gz'),
        append: 'console=ttyS0',
      },
      disk: { kind: 'none' },
      network: { enabled: true },
    },
  ]);
  if (!reply.ok) throw new Error(`could not create the demo VM: ${reply.error.message}`);
  return reply.value as VmEntry;
}
