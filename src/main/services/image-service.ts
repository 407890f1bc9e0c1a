// The Images view's service: the graph of every image (image-graph.ts), and the operations on it,
// each checked against the rules (image-rules.ts) on the graph as it is at the moment of the
// request, then run as a background job (image-jobs.ts) over the block engine (image-ops.ts).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ImageGraph, ImageJob, ImageNode } from '../../shared/images';
import { UserError } from './errors';
import { ImageCatalog } from './image-catalog';
import { buildImageGraph, type VmDiskUse } from './image-graph';
import { checkFile, ImageStore } from './image-store';
import { JobRunner } from './image-jobs';
import { checkImage, commitIntoBase, convertToQcow2, growImage, rebaseImage } from './image-ops';
import {
  listWords,
  refuseCheck,
  refuseCommit,
  refuseDelete,
  refuseFlatten,
  refuseOverlay,
  refuseRebaseOnto,
  refuseBusy,
  refuseResizeTo,
} from './image-rules';

export interface ImageServiceOptions {
  /** <data>/vivarium/images */
  folder: string;
  /** The library's VMs and which of them run. */
  vms: () => Promise<VmDiskUse[]>;
  onJob: (job: ImageJob) => void;
  onChanged: () => void;
}

const refused = (reason: string) => new UserError(reason.endsWith('.') ? reason : `${reason}.`, 'refused');

export class ImageService {
  readonly catalog: ImageCatalog;
  readonly jobs: JobRunner;
  private readonly store = new ImageStore();

  constructor(private readonly options: ImageServiceOptions) {
    this.catalog = new ImageCatalog(path.resolve(options.folder));
    this.jobs = new JobRunner((job) => options.onJob(job));
  }

  async nodes(): Promise<Map<string, ImageNode>> {
    const nodes = await buildImageGraph({
      folder: this.catalog.folder,
      catalog: await this.catalog.list(),
      vms: await this.options.vms(),
      busy: this.jobs.busy(),
    });
    return new Map(nodes.map((n) => [n.path, n]));
  }

  async graph(): Promise<ImageGraph> {
    const nodes = [...(await this.nodes()).values()];
    return { folder: this.catalog.folder, images: nodes, jobs: this.jobs.list() };
  }

  /** Images an operation on them holds; a VM whose disk chain meets one must not start. */
  busyPaths(): Map<string, string> {
    return this.jobs.busy();
  }

  private async node(file: string): Promise<{ node: ImageNode; nodes: Map<string, ImageNode> }> {
    const nodes = await this.nodes();
    const node = nodes.get(path.resolve(file));
    if (!node) throw new UserError(`Vivarium does not know the image ${file}`, 'not-found');
    const busy = refuseBusy(node, this.jobs.busy());
    if (busy) throw new UserError(`${busy}.`, 'image-busy');
    return { node, nodes };
  }

  private async freeTarget(name: string): Promise<string> {
    const target = this.catalog.pathFor(name);
    if ((await checkFile(target)).kind !== 'missing') throw refused(`An image named ${path.basename(target)} already exists`);
    return target;
  }

  private finish = () => this.options.onChanged();

  async import(source: string, name: string): Promise<ImageJob> {
    const check = await checkFile(source);
    if (check.kind === 'missing') throw new UserError(`No file at ${source}`, 'missing-file', 'source');
    if (check.kind !== 'file') throw new UserError(`${source} is not a readable file`, 'not-a-file', 'source');
    const target = await this.freeTarget(name);
    await fs.mkdir(this.catalog.folder, { recursive: true });
    const format = check.format ?? 'raw';
    return this.jobs.start('import', target, `Importing ${path.basename(source)} (${format} → qcow2)`, [target], async (ctx) => {
      await convertToQcow2(source, format, target, ctx);
      await this.catalog.add({ path: target, format: 'qcow2', origin: 'imported', addedAt: new Date().toISOString(), source });
      return { note: `Imported as ${path.basename(target)}.` };
    }, this.finish);
  }

  async createOverlay(base: string, name: string): Promise<ImageJob> {
    const { node } = await this.node(base);
    const reason = refuseOverlay(node);
    if (reason) throw refused(reason);
    const target = await this.freeTarget(name);
    return this.jobs.start('overlay', target, `Creating ${path.basename(target)} on ${node.name}`, [target, node.path], async () => {
      await this.store.createOverlay(target, node.path, node.format ?? 'raw');
      await this.catalog.add({ path: target, format: 'qcow2', origin: 'created', addedAt: new Date().toISOString() });
      return { note: `${path.basename(target)} is an overlay on ${node.name}.` };
    }, this.finish);
  }

  async commit(file: string, acceptInvalidated: string[]): Promise<ImageJob> {
    const { node, nodes } = await this.node(file);
    const reason = refuseCommit(node, nodes);
    if (reason) throw refused(reason);
    const invalidated = node.commitInvalidates;
    const accepted = new Set(acceptInvalidated.map((p) => path.resolve(p)));
    const unaccepted = invalidated.filter((p) => !accepted.has(p));
    if (unaccepted.length) {
      throw new UserError(
        `Committing ${node.name} changes its base underneath ${listWords(unaccepted.map((p) => path.basename(p)))}: confirm that ${unaccepted.length === 1 ? 'it' : 'they'} may be invalidated.`,
        'confirm-invalidate',
      );
    }
    const base = nodes.get(node.backing!)!;
    return this.jobs.start('commit', node.path, `Committing ${node.name} into ${base.name}`, [node.path, base.path, ...invalidated], async (ctx) => {
      await commitIntoBase(node.path, ctx);
      const lost = invalidated.length ? ` ${listWords(invalidated.map((p) => path.basename(p)))} no longer show${invalidated.length === 1 ? 's' : ''} what ${invalidated.length === 1 ? 'it' : 'they'} showed.` : '';
      return { note: `${base.name} now holds the changes of ${node.name}, which is empty again.${lost}` };
    }, this.finish);
  }

  async rebase(file: string, newBase: string): Promise<ImageJob> {
    const { node, nodes } = await this.node(file);
    const target = nodes.get(path.resolve(newBase));
    const reason = node.format === 'raw' ? `${node.name} is a raw image, which cannot have a base` : refuseRebaseOnto(node, target, nodes);
    if (reason) throw refused(reason);
    const to = target!;
    return this.jobs.start('rebase', node.path, `Rebasing ${node.name} onto ${to.name}`, [node.path, to.path], async (ctx) => {
      await rebaseImage(node.path, { path: to.path, format: to.format ?? 'raw' }, ctx);
      return { note: `${node.name} is now an overlay on ${to.name}, showing the same content as before.` };
    }, this.finish);
  }

  async flatten(file: string): Promise<ImageJob> {
    const { node } = await this.node(file);
    const reason = refuseFlatten(node);
    if (reason) throw refused(reason);
    return this.jobs.start('flatten', node.path, `Flattening ${node.name}`, [node.path], async (ctx) => {
      await rebaseImage(node.path, null, ctx);
      return { note: `${node.name} is standalone now: it no longer needs a base.` };
    }, this.finish);
  }

  async resize(file: string, size: number): Promise<ImageJob> {
    const { node } = await this.node(file);
    const reason = refuseResizeTo(node, size);
    if (reason) throw refused(reason);
    return this.jobs.start('resize', node.path, `Growing ${node.name}`, [node.path], async () => {
      await growImage(node.path, node.format ?? 'raw', size);
      return { note: `${node.name} has grown; the guest sees the new space after a restart (its partitions and file systems are unchanged).` };
    }, this.finish);
  }

  async check(file: string): Promise<ImageJob> {
    const { node } = await this.node(file);
    const reason = refuseCheck(node);
    if (reason) throw refused(reason);
    return this.jobs.start('check', node.path, `Checking ${node.name}`, [node.path], async () => {
      return { report: await checkImage(node.path, node.format ?? 'raw') };
    });
  }

  async delete(file: string): Promise<ImageJob> {
    const { node } = await this.node(file);
    const reason = refuseDelete(node);
    if (reason) throw refused(reason);
    return this.jobs.start('delete', node.path, `Deleting ${node.name}`, [node.path], async () => {
      const gone = node.status === 'missing';
      await fs.rm(node.path, { force: true });
      await this.catalog.remove(node.path);
      return { note: gone ? `${node.name} was already gone; the app forgot it.` : `${node.name} was deleted.` };
    }, this.finish);
  }

  cancel(id: string): void {
    this.jobs.cancel(id);
  }
}
