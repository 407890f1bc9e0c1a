// What the Images view refuses, and why: the rules that keep an operation from losing data.
// - A base image that an overlay or a VM uses is never deleted or changed underneath it (virt-
//   manager lost users' data by deleting a base). Commit is the exception the person chooses:
//   it writes into the base, so it names every other overlay of that base it will invalidate.
// - Nothing that a running VM has open is changed, and nothing a running VM writes is read.
// - A missing or broken image can only be forgotten (or checked, when it is there to check).
// - Internal snapshots of an overlay store only what differs from its base; an operation that
//   changes what the base shows (commit, rebase, flatten) would change them, so it is refused
//   while they exist. Resizing an image with snapshots is refused as QEMU refuses it.
// Each rule returns a sentence for the person, or undefined when the operation may go ahead.
import path from 'node:path';
import type { ImageNode, ImageOp } from '../../shared/images';

export type NodeOp = Exclude<ImageOp, 'import'>;
export const nodeOps: NodeOp[] = ['overlay', 'commit', 'rebase', 'flatten', 'resize', 'check', 'delete'];

export type Graph = ReadonlyMap<string, ImageNode>;

const nameOf = (p: string) => path.basename(p);

/** "a", "a and b", "a, b and c". */
export function listWords(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

const plural = (n: number, one: string, many: string) => (n === 1 ? one : many);

/** The VMs that write this image while running (it is their disk, not a base below it). */
function runningWriters(node: ImageNode): string[] {
  return node.vms.filter((v) => v.running).map((v) => v.name);
}

function notUsable(node: ImageNode): string | undefined {
  if (node.status === 'missing') return `${node.name} is missing: ${node.reason ?? 'the file is gone'}`;
  if (node.status === 'broken') return `${node.name} is broken: ${node.reason ?? 'it cannot be read'}`;
  return undefined;
}

function inRunningVm(node: ImageNode): string | undefined {
  if (!node.usedByRunning.length) return undefined;
  const who = listWords(node.usedByRunning);
  return `${who} ${plural(node.usedByRunning.length, 'is', 'are')} running on ${node.name}: stop ${plural(node.usedByRunning.length, 'it', 'them')} first`;
}

function snapshotsRecordDifferences(node: ImageNode, doing: string): string | undefined {
  if (!node.snapshots) return undefined;
  return `${node.name} has ${node.snapshots} ${plural(node.snapshots, 'snapshot', 'snapshots')}, which ${plural(node.snapshots, 'records', 'record')} only what differs from its base; ${doing} would change ${plural(node.snapshots, 'it', 'them')}. Delete ${plural(node.snapshots, 'it', 'them')} first`;
}

/** Other overlays of this image's base: what a commit of this image would invalidate. */
export function commitInvalidates(node: ImageNode, graph: Graph): string[] {
  const base = node.backing ? graph.get(node.backing) : undefined;
  return base ? base.overlays.filter((o) => o !== node.path) : [];
}

export function refuseOverlay(node: ImageNode): string | undefined {
  const writers = node.vms.filter((v) => v.role === 'disk').map((v) => v.name);
  return (
    notUsable(node) ??
    (writers.length
      ? `${listWords(writers)} ${plural(writers.length, 'uses', 'use')} ${node.name} as ${plural(writers.length, 'its', 'their')} own disk and writes to it: an overlay on it would be invalidated the next time ${plural(writers.length, 'it runs', 'they run')}`
      : undefined) ??
    (node.vms.some((v) => v.role === 'state') ? `${node.name} holds a VM's snapshots; it is not a base image` : undefined)
  );
}

export function refuseCommit(node: ImageNode, graph: Graph): string | undefined {
  if (!node.backing) return `${node.name} is not an overlay: it has no base to commit into`;
  const base = graph.get(node.backing);
  if (!base) return `The base of ${node.name} is unknown`;
  const baseWriters = base.vms.filter((v) => v.role === 'disk').map((v) => v.name);
  return (
    notUsable(node) ??
    notUsable(base) ??
    inRunningVm(node) ??
    // A VM running on another overlay of the base runs on the base too.
    inRunningVm(base) ??
    (baseWriters.length
      ? `${listWords(baseWriters)} ${plural(baseWriters.length, 'uses', 'use')} ${base.name} as ${plural(baseWriters.length, 'its', 'their')} own disk: committing would change it underneath ${plural(baseWriters.length, 'it', 'them')}`
      : undefined) ??
    snapshotsRecordDifferences(node, 'emptying it into the base') ??
    (base.virtualSize !== undefined && node.virtualSize !== undefined && base.virtualSize < node.virtualSize
      ? `${node.name} is larger than its base ${base.name}; resize the base first`
      : undefined)
  );
}

export function refuseRebase(node: ImageNode): string | undefined {
  return notUsable(node) ?? inRunningVm(node) ?? snapshotsRecordDifferences(node, 'rebasing');
}

/** The rules about the new base of a rebase, once it is chosen. */
export function refuseRebaseOnto(node: ImageNode, target: ImageNode | undefined, graph: Graph): string | undefined {
  const own = refuseRebase(node);
  if (own) return own;
  if (!target) return 'Choose an image the app knows as the new base';
  if (target.path === node.path) return `${node.name} cannot be its own base`;
  if (target.path === node.backing) return `${target.name} is already the base of ${node.name}`;
  if (target.chain.includes(node.path)) return `${target.name} is built on ${node.name}: that would make a loop`;
  const writers = target.vms.filter((v) => v.role === 'disk').map((v) => v.name);
  return (
    notUsable(target) ??
    (writers.length
      ? `${listWords(writers)} ${plural(writers.length, 'writes', 'write')} to ${target.name}: a base must not change underneath its overlays`
      : undefined) ??
    (target.vms.some((v) => v.role === 'state') ? `${target.name} holds a VM's snapshots; it is not a base image` : undefined) ??
    (graph.get(target.path) ? undefined : `${target.name} is unknown`)
  );
}

export function refuseFlatten(node: ImageNode): string | undefined {
  if (!node.backing) return `${node.name} is already standalone: it has no base`;
  return notUsable(node) ?? inRunningVm(node) ?? snapshotsRecordDifferences(node, 'flattening it');
}

export function refuseResize(node: ImageNode): string | undefined {
  const overlays = node.overlays.map(nameOf);
  return (
    notUsable(node) ??
    inRunningVm(node) ??
    (overlays.length
      ? `${listWords(overlays)} ${plural(overlays.length, 'is', 'are')} built on ${node.name}: a base must not change underneath its overlays`
      : undefined) ??
    (node.snapshots
      ? `${node.name} has ${node.snapshots} ${plural(node.snapshots, 'snapshot', 'snapshots')}; an image with snapshots cannot be resized (as in QEMU): delete them first`
      : undefined)
  );
}

/** The size rules once a new size is given. */
export function refuseResizeTo(node: ImageNode, size: number): string | undefined {
  const own = refuseResize(node);
  if (own) return own;
  const current = node.virtualSize ?? 0;
  if (size === current) return `${node.name} is already that size`;
  if (size < current) return `Shrinking would cut off everything past the new end of ${node.name}; Vivarium only grows images`;
  if (size % 512 !== 0) return 'The new size must be a multiple of 512 bytes';
  return undefined;
}

export function refuseCheck(node: ImageNode): string | undefined {
  if (node.status === 'missing') return notUsable(node);
  const writers = runningWriters(node);
  if (writers.length) return `${listWords(writers)} ${plural(writers.length, 'is', 'are')} running and writing to ${node.name}: a check now would see half-written metadata. Stop ${plural(writers.length, 'it', 'them')} first`;
  return undefined;
}

export function refuseDelete(node: ImageNode): string | undefined {
  const overlays = node.overlays.map(nameOf);
  const vms = node.vms.map((v) => v.name);
  if (overlays.length) {
    return `${listWords(overlays)} ${plural(overlays.length, 'is', 'are')} built on ${node.name}: deleting it would destroy ${plural(overlays.length, 'that overlay', 'those overlays')}`;
  }
  if (vms.length) {
    return `${listWords(vms)} ${plural(vms.length, 'uses', 'use')} ${node.name} as ${plural(vms.length, 'its', 'their')} disk: delete or change the VM first`;
  }
  if (!node.managed) return `${node.name} is not in Vivarium's images folder; the app deletes only images it holds`;
  return undefined;
}

/** An operation holds this image, an image below it or an overlay on it. */
export function refuseBusy(node: ImageNode, busy: ReadonlyMap<string, string>): string | undefined {
  const busyWith = [node.path, ...node.chain, ...node.overlays].map((p) => busy.get(p)).find(Boolean);
  return busyWith ? `Wait: ${busyWith}` : undefined;
}

export function refusalsOf(node: ImageNode, graph: Graph, busy: ReadonlyMap<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  const busyWith = refuseBusy(node, busy);
  const rules: Record<NodeOp, () => string | undefined> = {
    overlay: () => refuseOverlay(node),
    commit: () => refuseCommit(node, graph),
    rebase: () => refuseRebase(node),
    flatten: () => refuseFlatten(node),
    resize: () => refuseResize(node),
    check: () => refuseCheck(node),
    delete: () => refuseDelete(node),
  };
  for (const op of nodeOps) {
    const reason = busyWith ?? rules[op]();
    if (reason) out[op] = reason.endsWith('.') ? reason : `${reason}.`;
  }
  return out;
}
