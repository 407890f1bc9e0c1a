// A VM's configuration: what the library stores in <data>/vivarium/vms/<id>/config.json and what
// maps 1:1 to a `viv run` argument list (vm-argv.ts). Paths are absolute host paths; the schema
// checks shapes and ranges, the main process checks that files exist and fit the host.
import { z } from 'zod';

/** Bounds every VM obeys whatever the host; the host's own limits (memory, cores) are tighter. */
export const Limits = {
  memoryMiB: { min: 16, max: 65536 },
  cpus: { min: 1, max: 8 }, // the virt board's harts (cpu.ts: 1..8)
  nameLength: 64,
  appendLength: 4096,
  diskGiB: { min: 1, max: 2048 },
} as const;

export const VmId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'a VM id is lowercase letters, digits and dashes');
export type VmId = z.infer<typeof VmId>;

// Names appear in window titles and menus: printable, no slashes, no leading/trailing space.
export const VmName = z
  .string()
  .trim()
  .min(1, 'Give the VM a name')
  .max(Limits.nameLength, `A name has at most ${Limits.nameLength} characters`)
  .regex(/^[^/\\\p{Cc}]+$/u, 'A name cannot contain slashes or control characters');

const HostPath = z.string().min(1, 'Choose a file').refine((p) => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p), {
  message: 'Use an absolute path',
});

/** How the machine starts: like QEMU, -kernel/-initrd/-append, a disk, or firmware alone (-bios). */
export const BootSource = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('kernel'),
    kernel: HostPath,
    initrd: HostPath.optional(),
    append: z.string().max(Limits.appendLength).default('console=ttyS0'),
  }),
  // A disk that carries its own bootloader: the firmware (default: built-in) finds it.
  z.object({ kind: z.literal('disk'), firmware: HostPath.optional() }),
  z.object({ kind: z.literal('firmware'), firmware: HostPath }),
]);
export type BootSource = z.infer<typeof BootSource>;

export const DiskFormat = z.enum(['qcow2', 'raw']);
export type DiskFormat = z.infer<typeof DiskFormat>;

/** The VM's disk once it exists: one image (for an overlay, its base is recorded in the image). */
export const DiskConfig = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('none') }),
  z.object({
    kind: z.literal('image'),
    path: HostPath,
    format: DiskFormat,
    /** True when the library created the image (it lives in the VM's folder and may be deleted with it). */
    owned: z.boolean().default(false),
    /** The base image of an overlay, shown in settings; the image header is the truth. */
    base: HostPath.optional(),
  }),
]);
export type DiskConfig = z.infer<typeof DiskConfig>;

export const VmConfig = z.object({
  version: z.literal(1),
  id: VmId,
  name: VmName,
  createdAt: z.string(),
  machine: z.literal('virt'),
  memoryMiB: z.number().int().min(Limits.memoryMiB.min).max(Limits.memoryMiB.max),
  cpus: z.number().int().min(Limits.cpus.min).max(Limits.cpus.max),
  boot: BootSource,
  disk: DiskConfig,
  network: z.object({ enabled: z.boolean() }),
  /** A screen and keyboard/tablet (virtio-gpu, virtio-input), shown in the app's display window over VNC. Absent: none. */
  display: z.object({ enabled: z.boolean() }).optional(),
  /**
   * A small QCOW2 disk in the VM's folder that holds its snapshots when it has no disk of its own
   * (kernel + initrd): QEMU's savevm stores the machine state in the first writable QCOW2 drive.
   * The guest sees it as an empty virtio disk.
   */
  stateDisk: z.object({ path: HostPath }).optional(),
});
export type VmConfig = z.infer<typeof VmConfig>;

/** The fields a person may change in Settings (while the VM is stopped). */
export const VmConfigPatch = z
  .object({
    name: VmName,
    memoryMiB: VmConfig.shape.memoryMiB,
    cpus: VmConfig.shape.cpus,
    boot: BootSource,
    network: VmConfig.shape.network,
    display: z.object({ enabled: z.boolean() }),
  })
  .partial()
  .strict();
export type VmConfigPatch = z.infer<typeof VmConfigPatch>;

/** The wizard's disk choice: it becomes a DiskConfig when the VM is created. */
export const DiskRequest = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('none') }),
  z.object({
    kind: z.literal('new'),
    sizeGiB: z.number().int().min(Limits.diskGiB.min, 'A disk has at least 1 GiB').max(Limits.diskGiB.max),
  }),
  z.object({ kind: z.literal('existing'), path: HostPath, format: DiskFormat }),
  z.object({ kind: z.literal('overlay'), base: HostPath, baseFormat: DiskFormat }),
]);
export type DiskRequest = z.infer<typeof DiskRequest>;

export const CreateVmRequest = z
  .object({
    name: VmName,
    memoryMiB: VmConfig.shape.memoryMiB,
    cpus: VmConfig.shape.cpus,
    boot: BootSource,
    disk: DiskRequest,
    network: VmConfig.shape.network,
    display: VmConfig.shape.display,
  })
  .strict();
export type CreateVmRequest = z.infer<typeof CreateVmRequest>;
