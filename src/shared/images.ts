// The Images view's contract: every disk image the library knows as a node of a graph (base
// images, overlays on them, the VMs that use each), the operations on them as background jobs,
// and the readable report of a check. Main computes, for every node, which operations it would
// refuse right now and why, so the view can say it before a click; the services refuse again
// when asked (the state may have changed in between).
import { z } from 'zod';
import { DiskFormat, VmId } from './vm-config';

export const ImageOp = z.enum(['import', 'overlay', 'commit', 'rebase', 'flatten', 'resize', 'check', 'delete']);
export type ImageOp = z.infer<typeof ImageOp>;

/** Absolute host paths only: main never resolves a renderer-supplied relative path. */
export const ImagePath = z
  .string()
  .max(4096)
  .refine((p) => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p), { message: 'Use an absolute path' });

/** The name of an image the app makes (import, overlay): it becomes <name>.qcow2 in the images folder. */
export const ImageName = z
  .string()
  .trim()
  .min(1, 'Give the image a name')
  .max(64, 'A name has at most 64 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]*$/, 'Use letters, digits, spaces, dots, dashes and underscores')
  .transform((n) => n.replace(/\.qcow2$/i, ''));

export const ImageStatus = z.enum(['ok', 'missing', 'broken']);
export type ImageStatus = z.infer<typeof ImageStatus>;

/** A VM that uses an image directly: as its disk, or as the small disk that holds its snapshots. */
export const ImageVmUse = z.object({
  id: VmId,
  name: z.string(),
  role: z.enum(['disk', 'state']),
  running: z.boolean(),
});
export type ImageVmUse = z.infer<typeof ImageVmUse>;

export const ImageNode = z.object({
  /** Absolute path: the node's identity. */
  path: z.string(),
  name: z.string(),
  /** How the app knows it: it imported or created it (in its images folder), or a VM or an overlay names it. */
  origin: z.enum(['imported', 'created', 'found', 'vm', 'backing']),
  /** In the app's images folder: Delete removes the file. */
  managed: z.boolean(),
  status: ImageStatus,
  /** Why the image is missing or broken, in words. */
  reason: z.string().optional(),
  format: DiskFormat.optional(),
  virtualSize: z.number().optional(),
  /** Bytes the file occupies on the host. */
  actualSize: z.number().optional(),
  clusterSize: z.number().optional(),
  /** The backing file as resolved (absolute), and its format. */
  backing: z.string().optional(),
  backingFormat: DiskFormat.optional(),
  /** This image, then each backing file down to the base. */
  chain: z.array(z.string()),
  /** Internal snapshots (qemu-img snapshot -l). */
  snapshots: z.number(),
  /** Images whose backing file this is. */
  overlays: z.array(z.string()),
  vms: z.array(ImageVmUse),
  /** Names of running VMs whose disk is this image or is built on it. */
  usedByRunning: z.array(z.string()),
  /** Operations refused on this image now, with the reason. */
  refusals: z.record(z.string(), z.string()),
  /** Other overlays of this image's base, which a commit of this image would invalidate. */
  commitInvalidates: z.array(z.string()),
});
export type ImageNode = z.infer<typeof ImageNode>;

export const CheckReport = z.object({
  path: z.string(),
  format: DiskFormat,
  /** No corruption and no leak. */
  clean: z.boolean(),
  /** A sentence a person reads first. */
  summary: z.string(),
  /** qemu-img check's report, line by line (our block engine runs the same algorithm). */
  lines: z.array(z.string()),
  corruptions: z.number(),
  leaks: z.number(),
  allocatedClusters: z.number(),
  totalClusters: z.number(),
  fragmentedClusters: z.number(),
  compressedClusters: z.number(),
  imageEndOffset: z.number(),
});
export type CheckReport = z.infer<typeof CheckReport>;

export const ImageJob = z.object({
  id: z.string(),
  op: ImageOp,
  /** The image the job works on (for import and overlay: the image it makes). */
  image: z.string(),
  label: z.string(),
  /** 0..1, absent while unknown. */
  fraction: z.number().min(0).max(1).optional(),
  state: z.enum(['running', 'done', 'failed', 'cancelled']),
  error: z.string().optional(),
  /** What a finished job leaves for the person: a check's report, a note. */
  report: CheckReport.optional(),
  note: z.string().optional(),
  startedAt: z.string(),
});
export type ImageJob = z.infer<typeof ImageJob>;

export const ImageGraph = z.object({
  /** The folder imported and created images live in. */
  folder: z.string(),
  images: z.array(ImageNode),
  jobs: z.array(ImageJob),
});
export type ImageGraph = z.infer<typeof ImageGraph>;

const byPath = z.object({ path: ImagePath }).strict();

export const ImageRequests = {
  import: z.object({ source: ImagePath, name: ImageName }).strict(),
  overlay: z.object({ base: ImagePath, name: ImageName }).strict(),
  /** `acceptInvalidated` lists the other overlays of the base the person agreed to invalidate. */
  commit: z.object({ path: ImagePath, acceptInvalidated: z.array(z.string()).max(1000) }).strict(),
  rebase: z.object({ path: ImagePath, newBase: ImagePath }).strict(),
  flatten: byPath,
  resize: z.object({ path: ImagePath, size: z.number().int().positive().max(2 ** 50) }).strict(),
  check: byPath,
  delete: byPath,
} as const;
