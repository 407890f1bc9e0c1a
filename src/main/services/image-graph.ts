// Every image the library knows, as a graph: the app's own images (image-catalog.ts), each VM's
// disk and state disk, and every backing file down their chains. For each node: who builds on it
// (overlays), who uses it (VMs, and which of them run on it), and what the rules refuse now.
import path from 'node:path';
import type { ImageNode, ImageVmUse } from '../../shared/images';
import type { DiskFormat } from '../../shared/vm-config';
import type { FolderImage } from './image-catalog';
import { type InspectedImage, inspectImage, type InspectOptions } from './image-inspect';
import { commitInvalidates, refusalsOf } from './image-rules';

/** What the graph needs to know of one VM. */
export interface VmDiskUse {
  id: string;
  name: string;
  /** Its core host runs (or starts or stops): its disks are open. */
  running: boolean;
  disk?: { path: string; format: DiskFormat };
  stateDisk?: string;
}

export interface GraphInputs {
  folder: string;
  catalog: FolderImage[];
  vms: VmDiskUse[];
  /** Images an operation is working on, with what it does. */
  busy: ReadonlyMap<string, string>;
}

type Inspect = (file: string, options: InspectOptions) => Promise<InspectedImage>;

/** A bound on the walk down backing chains, whatever the files on disk say. */
const maxNodes = 10_000;

const originRank = { imported: 0, created: 0, found: 1, vm: 2, backing: 3 } as const;

export async function buildImageGraph(inputs: GraphInputs, inspect: Inspect = inspectImage): Promise<ImageNode[]> {
  const seeds: { path: string; format?: DiskFormat; origin: ImageNode['origin'] }[] = [];
  for (const c of inputs.catalog) seeds.push({ path: path.resolve(c.path), format: c.format, origin: c.origin });
  for (const vm of inputs.vms) {
    if (vm.disk) seeds.push({ path: path.resolve(vm.disk.path), format: vm.disk.format, origin: 'vm' });
    if (vm.stateDisk) seeds.push({ path: path.resolve(vm.stateDisk), format: 'qcow2', origin: 'vm' });
  }
  // An image a running VM writes is read through its header only (image-inspect.ts).
  const written = new Set(inputs.vms.filter((v) => v.running).flatMap((v) => [v.disk?.path, v.stateDisk]).filter((p): p is string => !!p).map((p) => path.resolve(p)));

  const nodes = new Map<string, ImageNode>();
  const queue = [...seeds];
  while (queue.length && nodes.size < maxNodes) {
    const seed = queue.shift()!;
    const known = nodes.get(seed.path);
    if (known) {
      if (originRank[seed.origin] < originRank[known.origin]) known.origin = seed.origin;
      continue;
    }
    const seen = await inspect(seed.path, { format: seed.format, deep: !written.has(seed.path) });
    const node: ImageNode = {
      path: seed.path,
      name: path.basename(seed.path),
      origin: seed.origin,
      managed: path.dirname(seed.path) === path.resolve(inputs.folder),
      status: seen.status,
      ...(seen.reason ? { reason: seen.reason } : {}),
      ...(seen.format ? { format: seen.format } : {}),
      ...(seen.virtualSize !== undefined ? { virtualSize: seen.virtualSize } : {}),
      ...(seen.actualSize !== undefined ? { actualSize: seen.actualSize } : {}),
      ...(seen.clusterSize !== undefined ? { clusterSize: seen.clusterSize } : {}),
      ...(seen.backing ? { backing: seen.backing } : {}),
      ...(seen.backingFormat ? { backingFormat: seen.backingFormat } : {}),
      chain: [],
      snapshots: seen.snapshots,
      overlays: [],
      vms: [],
      usedByRunning: [],
      refusals: {},
      commitInvalidates: [],
    };
    nodes.set(node.path, node);
    if (seen.backing) queue.push({ path: seen.backing, format: seen.backingFormat, origin: 'backing' });
  }

  for (const node of nodes.values()) {
    if (node.backing) nodes.get(node.backing)?.overlays.push(node.path);
    node.chain = chainOf(node, nodes);
  }
  for (const node of nodes.values()) node.overlays.sort();

  // An overlay is no better than its chain: one whose base is missing or broken cannot be read.
  for (const node of nodes.values()) {
    if (node.status !== 'ok') continue;
    const bad = node.chain.slice(1).map((p) => nodes.get(p)!).find((b) => b.status !== 'ok');
    if (chainLoops(node, nodes)) {
      node.status = 'broken';
      node.reason = 'Its backing files form a loop.';
    } else if (bad) {
      node.status = 'broken';
      node.reason = `Its base ${bad.name} is ${bad.status}: ${bad.reason ?? ''}`.trim();
    }
  }

  for (const vm of inputs.vms) {
    const uses: [string | undefined, ImageVmUse['role']][] = [[vm.disk?.path, 'disk'], [vm.stateDisk, 'state']];
    for (const [file, role] of uses) {
      if (!file) continue;
      const node = nodes.get(path.resolve(file));
      if (!node) continue;
      node.vms.push({ id: vm.id, name: vm.name, role, running: vm.running });
      if (vm.running) for (const p of node.chain) nodes.get(p)?.usedByRunning.push(vm.name);
    }
  }
  for (const node of nodes.values()) {
    node.commitInvalidates = commitInvalidates(node, nodes);
    node.refusals = refusalsOf(node, nodes, inputs.busy);
  }
  return [...nodes.values()];
}

/** This image, then its backing files as far as they are known, stopping at a loop. */
function chainOf(node: ImageNode, nodes: ReadonlyMap<string, ImageNode>): string[] {
  const chain = [node.path];
  for (let b = node.backing; b && !chain.includes(b); b = nodes.get(b)?.backing) {
    chain.push(b);
    if (!nodes.has(b)) break;
  }
  return chain;
}

function chainLoops(node: ImageNode, nodes: ReadonlyMap<string, ImageNode>): boolean {
  const last = nodes.get(node.chain[node.chain.length - 1]!);
  return !!last?.backing && node.chain.includes(last.backing);
}
