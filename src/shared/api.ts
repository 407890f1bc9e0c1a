// The API contract between the renderer and the main process: the single source of channel
// names, argument schemas and result schemas. Both transports (Electron IPC via the preload, and
// HTTP + WebSocket in web mode) carry exactly these channels, and main validates every argument
// list with `api[channel].args` before a service sees it.
import { z } from 'zod';
import { CreateVmRequest, DiskFormat, VmConfig, VmConfigPatch, VmId } from './vm-config';
import { ImageGraph, ImageJob, ImageRequests } from './images';
import { AppSettings, AppSettingsPatch } from './settings';
import { RestoreOptions, SnapshotEntry, SnapshotKey, SnapshotTitle, Timeline } from './snapshots';

export const VmState = z.enum(['stopped', 'starting', 'running', 'paused', 'stopping', 'crashed']);
export type VmState = z.infer<typeof VmState>;

/** One VM as the library shows it. A broken VM (unreadable config) has `broken` and no config. */
export const VmEntry = z.object({
  id: VmId,
  name: z.string(),
  config: VmConfig.optional(),
  broken: z.string().optional(),
  state: VmState,
  /** Why the VM is in its state (a crash's exit status, "paused by signal", ...). */
  stateReason: z.string().optional(),
  /** A crashed VM's last console lines. */
  lastConsole: z.array(z.string()).optional(),
  /** Whether pause/reset/shutdown go over QMP (true) or fall back to signals (false). */
  control: z.enum(['qmp', 'signals']).optional(),
});
export type VmEntry = z.infer<typeof VmEntry>;

export const HostInfo = z.object({
  /** The most memory one VM may have on this host (MiB): the host's RAM less a reserve. */
  maxMemoryMiB: z.number().int(),
  maxCpus: z.number().int(),
  /** The shared demo guest's files, when present, offered as the wizard's defaults. */
  demoGuest: z.object({ kernel: z.string(), initrd: z.string() }).optional(),
  dataDir: z.string(),
  version: z.string(),
});
export type HostInfo = z.infer<typeof HostInfo>;

export const FileCheck = z.object({
  path: z.string(),
  kind: z.enum(['file', 'directory', 'missing', 'unreadable']),
  size: z.number().optional(),
  /** For disk images: what the header says (qcow2 magic, else raw). */
  format: DiskFormat.optional(),
});
export type FileCheck = z.infer<typeof FileCheck>;

/**
 * Where a display window's noVNC reaches a VM's screen in web mode: the core host's own WebSocket
 * (never main) and the VNC password of this run.
 */
export const DisplayEndpoint = z.object({ url: z.string(), password: z.string() });
export type DisplayEndpoint = z.infer<typeof DisplayEndpoint>;

const none = z.tuple([]);
const byId = z.tuple([VmId]);

export const api = {
  'host.info': { args: none, result: HostInfo },
  'vms.list': { args: none, result: z.array(VmEntry) },
  'vms.create': { args: z.tuple([CreateVmRequest]), result: VmEntry },
  'vms.update': { args: z.tuple([VmId, VmConfigPatch]), result: VmEntry },
  'vms.delete': { args: z.tuple([VmId, z.object({ deleteDisks: z.boolean() }).strict()]), result: z.null() },
  'vms.start': { args: byId, result: VmEntry },
  'vms.pause': { args: byId, result: VmEntry },
  'vms.resume': { args: byId, result: VmEntry },
  'vms.reset': { args: byId, result: VmEntry },
  'vms.shutdown': { args: byId, result: VmEntry },
  'vms.forceOff': { args: byId, result: VmEntry },
  'vms.display': { args: byId, result: DisplayEndpoint },
  'files.check': { args: z.tuple([z.string().max(4096)]), result: FileCheck },
  'settings.get': { args: none, result: AppSettings },
  'settings.set': { args: z.tuple([AppSettingsPatch]), result: AppSettings },
  // The Images view: the graph, and operations that answer with the job they started (or refuse).
  'images.list': { args: none, result: ImageGraph },
  'images.import': { args: z.tuple([ImageRequests.import]), result: ImageJob },
  'images.createOverlay': { args: z.tuple([ImageRequests.overlay]), result: ImageJob },
  'images.commit': { args: z.tuple([ImageRequests.commit]), result: ImageJob },
  'images.rebase': { args: z.tuple([ImageRequests.rebase]), result: ImageJob },
  'images.flatten': { args: z.tuple([ImageRequests.flatten]), result: ImageJob },
  'images.resize': { args: z.tuple([ImageRequests.resize]), result: ImageJob },
  'images.check': { args: z.tuple([ImageRequests.check]), result: ImageJob },
  'images.delete': { args: z.tuple([ImageRequests.delete]), result: ImageJob },
  'jobs.cancel': { args: z.tuple([z.string().max(100)]), result: z.null() },
  // A VM's snapshot timeline.
  'snapshots.list': { args: byId, result: Timeline },
  'snapshots.save': { args: z.tuple([VmId]), result: SnapshotEntry },
  'snapshots.restore': { args: z.tuple([VmId, SnapshotKey, RestoreOptions]), result: Timeline },
  'snapshots.rename': { args: z.tuple([VmId, SnapshotKey, SnapshotTitle]), result: Timeline },
  'snapshots.delete': { args: z.tuple([VmId, SnapshotKey]), result: Timeline },
  /** The screen at save time as a data: URL (PNG), or null when there is none. */
  'snapshots.thumbnail': { args: z.tuple([VmId, SnapshotKey]), result: z.string().nullable() },
} as const;

export type Api = typeof api;
export type Channel = keyof Api;
export const channels = Object.keys(api) as Channel[];
export type ApiArgs<C extends Channel> = z.input<Api[C]['args']>;
export type ApiResult<C extends Channel> = z.output<Api[C]['result']>;

export function isChannel(name: unknown): name is Channel {
  return typeof name === 'string' && Object.hasOwn(api, name);
}

/** An error a person can act on; `field` names the wizard/settings field it belongs to. */
export const ApiError = z.object({
  message: z.string(),
  code: z.string(),
  field: z.string().optional(),
});
export type ApiError = z.infer<typeof ApiError>;

/** The envelope both transports use for a call's answer. */
export const ApiReply = z.union([
  z.object({ ok: z.literal(true), value: z.unknown() }),
  z.object({ ok: z.literal(false), error: ApiError }),
]);
export type ApiReply = z.infer<typeof ApiReply>;

/** Events main pushes to every window. */
export const AppEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('vm.changed'), vm: VmEntry }),
  z.object({ type: z.literal('vm.removed'), id: VmId }),
  z.object({
    type: z.literal('progress'),
    id: z.string(),
    label: z.string(),
    /** 0..1, or absent while the length of the work is unknown. */
    fraction: z.number().min(0).max(1).optional(),
    done: z.boolean(),
  }),
  /** Images were added, removed or changed: the Images view reloads its graph. */
  z.object({ type: z.literal('images.changed') }),
  /** An image operation started, progressed or ended. */
  z.object({ type: z.literal('job'), job: ImageJob }),
  /** A VM's timeline changed (saved, restored, renamed, deleted, or the VM ran). */
  z.object({ type: z.literal('snapshots.changed'), vmId: VmId }),
]);
export type AppEvent = z.infer<typeof AppEvent>;

/** A console attached to one VM's serial line: bytes out of the guest, keystrokes into it. */
export interface ConsoleSession {
  write(data: string): void;
  close(): void;
}

/** What the renderer sees as `window.vivarium` (Electron) or builds over HTTP (web mode). */
export interface VivariumApi {
  invoke<C extends Channel>(channel: C, ...args: ApiArgs<C>): Promise<ApiResult<C>>;
  onEvent(listener: (event: AppEvent) => void): () => void;
  openConsole(id: VmId, onData: (bytes: Uint8Array) => void, onClose?: () => void): ConsoleSession;
  /**
   * A channel to the VM's screen for noVNC, straight to its core host: a WebSocket URL and password
   * (web mode), or a MessagePort dressed as noVNC's raw channel (Electron).
   */
  openDisplay?(id: VmId): Promise<DisplayChannel>;
}

/** What noVNC's RFB is given: a URL (and credentials), or a WebSocket-like channel already open. */
export type DisplayChannel = { url: string; password: string } | { channel: object; password?: undefined };

/**
 * What the Electron preload exposes as `window.vivarium`: calls answer with the ApiReply envelope
 * (errors do not keep their fields across contextBridge), and the renderer turns it into VivariumApi.
 */
export interface VivariumBridge {
  invoke(channel: Channel, args: unknown[]): Promise<ApiReply>;
  onEvent: VivariumApi['onEvent'];
  openConsole: VivariumApi['openConsole'];
  /**
   * Asks main for a display port to the VM's core host; it arrives as a window 'message' event
   * whose data is { [ipc.displayPort]: session } with the port in `ports` (contextBridge cannot
   * carry a MessagePort). Answers the session number.
   */
  openDisplay?(id: VmId): number;
}
