// The main process's services behind the API contract (src/shared/api.ts). Both transports call
// `invoke(channel, rawArgs)`: arguments are validated here, once, with the contract's schemas,
// so neither the Electron shell nor the web server can forget to.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import {
  api,
  type ApiReply,
  type AppEvent,
  type Channel,
  isChannel,
  type VmEntry,
} from '../../shared/api';
import type { CreateVmRequest, DiskConfig, VmConfig } from '../../shared/vm-config';
import { UserError } from './errors';
import { hostInfo } from './host-info';
import type { VmDiskUse } from './image-graph';
import { ImageService } from './image-service';
import { checkFile, ImageStore } from './image-store';
import type { CoreHostLauncher } from './launcher';
import { LibraryLock } from './library-lock';
import { libraryPaths } from './paths';
import { SettingsStore } from './settings-store';
import { SnapshotService } from './snapshot-service';
import { Supervisor } from './supervisor';
import { type LibraryItem, VmLibrary } from './vm-library';

export interface AppServicesOptions {
  /** <data>/vivarium (paths.ts: dataRoot()). */
  dataDir: string;
  launcher: CoreHostLauncher;
  hostEntry: string;
  hostArgsPrefix: string[];
  qmp: boolean;
  /** A qemu-img-compatible command instead of the built-in block engine (ImageStore). */
  imgCommand?: string[];
  imgEnv?: NodeJS.ProcessEnv;
  /** The shared demo guest's folder, offered as the wizard's default kernel + initrd. */
  guestDir?: string;
  version: string;
}

type Handlers = { [C in Channel]: (...args: z.output<(typeof api)[C]['args']>) => Promise<unknown> };

export class AppServices {
  readonly library: VmLibrary;
  readonly settings: SettingsStore;
  readonly images: ImageStore;
  readonly supervisor: Supervisor;
  /** The Images view: every image as a graph, and the operations on it. */
  readonly imageService: ImageService;
  /** Each VM's snapshot timeline. */
  readonly snapshots: SnapshotService;
  private readonly listeners = new Set<(event: AppEvent) => void>();
  private readonly handlers: Handlers;
  /** VMs with an operation in flight (create/delete), so two clicks cannot interleave. */
  private readonly busy = new Set<string>();
  /** The pages that may open a display WebSocket (web mode; see allowDisplayPages). */
  private displayOrigins: string[] | undefined;

  private constructor(
    private readonly options: AppServicesOptions,
    private readonly lock: LibraryLock,
  ) {
    const paths = libraryPaths(options.dataDir);
    this.library = new VmLibrary(paths.vms);
    this.settings = new SettingsStore(paths.settings);
    this.images = new ImageStore({ imgCommand: options.imgCommand, env: options.imgEnv });
    this.supervisor = new Supervisor({
      launcher: options.launcher,
      hostEntry: options.hostEntry,
      hostArgsPrefix: options.hostArgsPrefix,
      qmp: options.qmp,
      displayOrigins: () => this.displayOrigins,
      onChange: (id) => this.runtimeChanged(id),
    });
    this.imageService = new ImageService({
      folder: paths.images,
      vms: () => this.vmDiskUses(),
      onJob: (job) => this.emit({ type: 'job', job }),
      onChanged: () => this.emit({ type: 'images.changed' }),
    });
    this.snapshots = new SnapshotService({
      library: this.library,
      supervisor: this.supervisor,
      onChanged: (vmId) => this.emit({ type: 'snapshots.changed', vmId }),
      busyImages: () => this.imageService.busyPaths(),
    });
    this.handlers = this.makeHandlers();
  }

  /** Opens the library (taking its lock: a second instance gets a clear UserError). */
  static async open(options: AppServicesOptions): Promise<AppServices> {
    await fs.mkdir(options.dataDir, { recursive: true });
    const lock = await LibraryLock.acquire(libraryPaths(options.dataDir).lock);
    return new AppServices(options, lock);
  }

  async close(): Promise<void> {
    for (const job of this.imageService.jobs.list()) if (job.state === 'running') this.imageService.cancel(job.id);
    await this.imageService.jobs.drain();
    await this.supervisor.stopAll();
    await this.lock.release();
  }

  onEvent(listener: (event: AppEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: AppEvent): void {
    for (const l of this.listeners) l(event);
  }

  /** The single entry point of both transports: validate, run, wrap the answer. */
  async invoke(channel: unknown, rawArgs: unknown): Promise<ApiReply> {
    if (!isChannel(channel)) return { ok: false, error: { code: 'bad-channel', message: 'Unknown API call' } };
    const parsed = api[channel].args.safeParse(rawArgs);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      // The path's first element is the argument index; the next names the field (for the form).
      const field = issue?.path.slice(1).map(String)[0];
      return {
        ok: false,
        error: { code: 'bad-arguments', message: issue?.message ?? 'Invalid arguments', ...(field ? { field } : {}) },
      };
    }
    try {
      const handler = this.handlers[channel] as (...args: unknown[]) => Promise<unknown>;
      const value = await handler(...(parsed.data as unknown[]));
      return { ok: true, value: value ?? null };
    } catch (err) {
      if (err instanceof UserError) return { ok: false, error: err.toApiError() };
      console.error(`vivarium: ${channel} failed:`, err);
      return { ok: false, error: { code: 'internal', message: `Internal error: ${(err as Error).message}` } };
    }
  }

  private entryOf(item: LibraryItem): VmEntry {
    const runtime = this.supervisor.status(item.id);
    if ('broken' in item) return { id: item.id, name: item.id, broken: item.broken, ...runtime };
    return { id: item.id, name: item.config.name, config: item.config, ...runtime };
  }

  async entry(id: string): Promise<VmEntry> {
    const item = await this.library.load(path.basename(this.library.dirOf(id)));
    if ('broken' in item && !(await fs.stat(item.dir).then(() => true, () => false))) {
      throw new UserError(`No VM with the id '${id}'`, 'not-found');
    }
    return this.entryOf(item);
  }

  /**
   * A VM started, ran, paused or stopped: its entry, its timeline (it ran since the last save) and
   * the Images view (what runs on which image decides what is refused) all change.
   */
  private runtimeChanged(id: string): void {
    void this.publishVm(id);
    void this.snapshots
      .noteState(id)
      .catch(() => undefined)
      .then(() => this.emit({ type: 'snapshots.changed', vmId: id }));
    this.emit({ type: 'images.changed' });
  }

  private async vmDiskUses(): Promise<VmDiskUse[]> {
    const uses: VmDiskUse[] = [];
    for (const item of await this.library.list()) {
      if (!('config' in item)) continue;
      const c = item.config;
      uses.push({
        id: c.id,
        name: c.name,
        running: this.supervisor.isActive(c.id),
        ...(c.disk.kind === 'image' ? { disk: { path: c.disk.path, format: c.disk.format } } : {}),
        ...(c.stateDisk ? { stateDisk: c.stateDisk.path } : {}),
      });
    }
    return uses;
  }

  /** A VM must not start on an image an operation is changing (a commit, a rebase, a snapshot). */
  private async assertImagesFree(config: VmConfig): Promise<void> {
    if (this.snapshots.isBusy(config.id)) throw new UserError('Wait: a snapshot operation on this VM is running', 'busy');
    const busy = this.imageService.busyPaths();
    if (!busy.size || config.disk.kind !== 'image') return;
    const nodes = await this.imageService.nodes();
    const disk = path.resolve(config.disk.path);
    for (const p of nodes.get(disk)?.chain ?? [disk]) {
      const what = busy.get(p);
      if (what) throw new UserError(`Wait: ${what}`, 'image-busy');
    }
  }

  private async publishVm(id: string): Promise<void> {
    try {
      this.emit({ type: 'vm.changed', vm: await this.entry(id) });
    } catch {
      /* deleted meanwhile: vm.removed was sent */
    }
  }

  private progress(id: string, label: string, done: boolean, fraction?: number): void {
    this.emit({ type: 'progress', id, label, done, ...(fraction !== undefined ? { fraction } : {}) });
  }

  private async assertFile(file: string, field: string, what: string): Promise<void> {
    const check = await checkFile(file);
    if (check.kind === 'missing') throw new UserError(`${what} not found: ${file}`, 'missing-file', field);
    if (check.kind !== 'file') throw new UserError(`${what} is not a readable file: ${file}`, 'not-a-file', field);
  }

  private async validateBoot(boot: VmConfig['boot']): Promise<void> {
    if (boot.kind === 'kernel') {
      await this.assertFile(boot.kernel, 'kernel', 'Kernel');
      if (boot.initrd) await this.assertFile(boot.initrd, 'initrd', 'Initrd');
    } else if (boot.firmware) {
      await this.assertFile(boot.firmware, 'firmware', 'Firmware');
    }
  }

  private assertMemory(memoryMiB: number, cpus: number): void {
    const host = this.hostInfo();
    if (memoryMiB > host.maxMemoryMiB) {
      throw new UserError(`This host can give a VM at most ${host.maxMemoryMiB} MiB`, 'memory-range', 'memoryMiB');
    }
    if (cpus > host.maxCpus) throw new UserError(`This host can give a VM at most ${host.maxCpus} CPUs`, 'cpu-range', 'cpus');
  }

  private hostInfo() {
    return hostInfo(this.options.dataDir, this.options.guestDir, this.options.version);
  }

  private async createDisk(request: CreateVmRequest['disk'], dir: string, id: string): Promise<DiskConfig> {
    switch (request.kind) {
      case 'none':
        return { kind: 'none' };
      case 'existing':
        await this.assertFile(request.path, 'diskPath', 'Disk image');
        return { kind: 'image', path: request.path, format: request.format, owned: false };
      case 'new': {
        const file = path.join(dir, 'disk.qcow2');
        this.progress(`create-${id}`, `Creating a ${request.sizeGiB} GiB disk`, false);
        await this.images.createQcow2(file, request.sizeGiB);
        return { kind: 'image', path: file, format: 'qcow2', owned: true };
      }
      case 'overlay': {
        await this.assertFile(request.base, 'diskBase', 'Base image');
        const file = path.join(dir, 'overlay.qcow2');
        this.progress(`create-${id}`, 'Creating an overlay on the base image', false);
        await this.images.createOverlay(file, request.base, request.baseFormat);
        return { kind: 'image', path: file, format: 'qcow2', owned: true, base: request.base };
      }
    }
  }

  private async create(request: CreateVmRequest): Promise<VmEntry> {
    await this.library.assertNameFree(request.name);
    this.assertMemory(request.memoryMiB, request.cpus);
    await this.validateBoot(request.boot);
    const { id, dir } = await this.library.allocate(request.name);
    this.busy.add(id);
    try {
      const disk = await this.createDisk(request.disk, dir, id);
      const config: VmConfig = {
        version: 1,
        id,
        name: request.name.trim(),
        createdAt: new Date().toISOString(),
        machine: 'virt',
        memoryMiB: request.memoryMiB,
        cpus: request.cpus,
        boot: request.boot,
        disk,
        network: request.network,
        ...(request.display ? { display: request.display } : {}),
      };
      await this.library.save(config);
      const entry = this.entryOf({ id, dir, config });
      this.emit({ type: 'vm.changed', vm: entry });
      this.emit({ type: 'images.changed' });
      return entry;
    } catch (err) {
      await this.library.remove(id); // no half-made VM folder is left behind
      throw err;
    } finally {
      this.busy.delete(id);
      this.progress(`create-${id}`, 'Done', true, 1);
    }
  }

  private assertStopped(id: string, doing: string): void {
    if (this.supervisor.isActive(id) || this.busy.has(id)) {
      throw new UserError(`Stop the VM before you ${doing}`, 'vm-running');
    }
  }

  private async remove(id: string, deleteDisks: boolean): Promise<null> {
    this.assertStopped(id, 'delete it');
    const entry = await this.entry(id);
    const disk = entry.config?.disk;
    // Images the library made live in the VM's folder and go with it; an image the person chose
    // ("existing") is deleted only when they asked, and never the base of an overlay.
    if (deleteDisks && disk?.kind === 'image' && !disk.owned) await fs.rm(disk.path, { force: true });
    if (!deleteDisks && disk?.kind === 'image' && disk.owned) {
      const keep = path.join(path.dirname(this.library.vmsDir), 'kept-disks');
      await fs.mkdir(keep, { recursive: true });
      await fs.rename(disk.path, path.join(keep, `${id}-${path.basename(disk.path)}`));
    }
    await this.library.remove(id);
    this.supervisor.forget(id);
    this.emit({ type: 'vm.removed', id });
    this.emit({ type: 'images.changed' });
    return null;
  }

  private async control(id: string, action: (id: string) => Promise<void>): Promise<VmEntry> {
    await action(id);
    return this.entry(id);
  }

  private makeHandlers(): Handlers {
    const sv = this.supervisor;
    return {
      'host.info': async () => this.hostInfo(),
      'vms.list': async () => (await this.library.list()).map((item) => this.entryOf(item)),
      'vms.create': (request) => this.create(request),
      'vms.update': async (id, patch) => {
        this.assertStopped(id, 'change its settings');
        const current = await this.library.get(id);
        if (patch.boot) await this.validateBoot(patch.boot);
        this.assertMemory(patch.memoryMiB ?? current.memoryMiB, patch.cpus ?? current.cpus);
        await this.library.update(id, patch);
        const entry = await this.entry(id);
        this.emit({ type: 'vm.changed', vm: entry });
        return entry;
      },
      'vms.delete': (id, { deleteDisks }) => this.remove(id, deleteDisks),
      'vms.start': async (id) => {
        if (this.busy.has(id)) throw new UserError('The VM is being created', 'busy');
        let config = await this.library.get(id);
        await this.validateBoot(config.boot);
        if (config.disk.kind === 'image') await this.assertFile(config.disk.path, 'disk', 'Disk image');
        await this.assertImagesFree(config);
        config = await this.snapshots.ensureStateDisk(config);
        await sv.start(config);
        return this.entry(id);
      },
      'vms.pause': (id) => this.control(id, (i) => sv.pause(i)),
      'vms.resume': (id) => this.control(id, (i) => sv.resume(i)),
      'vms.reset': (id) => this.control(id, (i) => sv.reset(i)),
      'vms.shutdown': (id) => this.control(id, (i) => sv.shutdown(i)),
      'vms.forceOff': (id) => this.control(id, (i) => sv.forceOff(i)),
      'vms.display': async (id) => sv.displayEndpoint(id),
      'files.check': async (file) => checkFile(file),
      'settings.get': () => this.settings.get(),
      'settings.set': (patch) => this.settings.set(patch),
      'images.list': () => this.imageService.graph(),
      'images.import': ({ source, name }) => this.imageService.import(source, name),
      'images.createOverlay': ({ base, name }) => this.imageService.createOverlay(base, name),
      'images.commit': ({ path: file, acceptInvalidated }) => this.imageService.commit(file, acceptInvalidated),
      'images.rebase': ({ path: file, newBase }) => this.imageService.rebase(file, newBase),
      'images.flatten': ({ path: file }) => this.imageService.flatten(file),
      'images.resize': ({ path: file, size }) => this.imageService.resize(file, size),
      'images.check': ({ path: file }) => this.imageService.check(file),
      'images.delete': ({ path: file }) => this.imageService.delete(file),
      'jobs.cancel': async (id) => {
        this.imageService.cancel(id);
        return null;
      },
      'snapshots.list': (id) => this.snapshots.list(id),
      'snapshots.save': (id) => this.snapshots.save(id),
      'snapshots.restore': (id, key, { discardChanges }) => this.snapshots.restore(id, key, discardChanges),
      'snapshots.rename': (id, key, title) => this.snapshots.rename(id, key, title),
      'snapshots.delete': (id, key) => this.snapshots.delete(id, key),
      'snapshots.thumbnail': (id, key) => this.snapshots.thumbnail(id, key),
    };
  }

  /**
   * Web mode: VMs started from now on serve their display on a WebSocket of their own that only
   * these pages may open (the web server's origins); `vms.display` says where.
   */
  allowDisplayPages(origins: string[]): void {
    this.displayOrigins = [...origins];
  }

  /** Electron: one end of a MessageChannel for a display window, handed to the VM's core host. */
  connectDisplayPort(id: string, port: unknown): void {
    this.library.dirOf(id); // validates the id's shape
    this.supervisor.connectDisplayPort(id, port);
  }

  /** Console bytes for one VM (transports stream these over a MessagePort or a WebSocket). */
  attachConsole(id: string, onData: (bytes: Uint8Array) => void, onClose?: () => void) {
    this.library.dirOf(id); // validates the id's shape
    return this.supervisor.attachConsole(id, onData, onClose);
  }
}
