// The Images view's graph laid out as a tree that grows to the right: base images in the first
// column, each overlay one column right of its base, each VM one column right of the image it
// uses. Rows are given to leaves in depth-first order and a parent sits level with the middle of
// its children, so a chain reads left to right on one line and siblings stack below each other.
import type { ImageNode } from '../shared/images';

export interface LaidImage {
  kind: 'image';
  key: string;
  node: ImageNode;
  col: number;
  row: number;
}

export interface LaidVm {
  kind: 'vm';
  key: string;
  id: string;
  name: string;
  running: boolean;
  /** The VM keeps only its snapshots here (a VM without a disk of its own). */
  stateOnly: boolean;
  col: number;
  row: number;
}

export type LaidBox = LaidImage | LaidVm;

export interface GraphLayout {
  boxes: LaidBox[];
  /** Parent box key -> child box key (base -> overlay, image -> VM). */
  edges: { from: string; to: string }[];
  cols: number;
  rows: number;
}

export function layoutImages(images: readonly ImageNode[]): GraphLayout {
  const byPath = new Map(images.map((n) => [n.path, n]));
  const children = (n: ImageNode) =>
    n.overlays
      .map((p) => byPath.get(p))
      .filter((c): c is ImageNode => !!c)
      .sort((a, b) => a.name.localeCompare(b.name));
  // A root: no backing file, or one the graph does not hold (a loop or a node past its bound).
  const roots = images.filter((n) => !n.backing || !byPath.has(n.backing)).sort((a, b) => a.name.localeCompare(b.name));

  const boxes: LaidBox[] = [];
  const edges: GraphLayout['edges'] = [];
  const placed = new Set<string>();
  let nextRow = 0;
  let cols = 0;

  /** Places a node and its subtree; answers the node's row. */
  const place = (node: ImageNode, col: number): number => {
    placed.add(node.path);
    const box: LaidImage = { kind: 'image', key: `image:${node.path}`, node, col, row: 0 };
    boxes.push(box);
    cols = Math.max(cols, col + 1);
    const rows: number[] = [];
    for (const child of children(node)) {
      if (placed.has(child.path)) continue; // a backing loop written by hand: each node once
      rows.push(place(child, col + 1));
      edges.push({ from: box.key, to: `image:${child.path}` });
    }
    for (const vm of [...node.vms].sort((a, b) => a.name.localeCompare(b.name))) {
      const key = `vm:${vm.id}:${node.path}`;
      boxes.push({ kind: 'vm', key, id: vm.id, name: vm.name, running: vm.running, stateOnly: vm.role === 'state', col: col + 1, row: nextRow });
      rows.push(nextRow++);
      edges.push({ from: box.key, to: key });
      cols = Math.max(cols, col + 2);
    }
    box.row = rows.length ? (rows[0]! + rows[rows.length - 1]!) / 2 : nextRow++;
    return box.row;
  };

  for (const root of roots) place(root, 0);
  // Whatever no root reaches (every node of a backing loop): laid out from itself.
  for (const node of images) if (!placed.has(node.path)) place(node, 0);
  return { boxes, edges, cols, rows: nextRow };
}
