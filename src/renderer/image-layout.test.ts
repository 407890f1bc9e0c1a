// The graph's layout: bases left, overlays right of their base, VMs right of their image, one row
// per leaf, parents level with the middle of their children, and loops or stray nodes still shown.
import { describe, expect, it } from 'vitest';
import type { ImageNode } from '../shared/images';
import { layoutImages } from './image-layout';

function node(path: string, backing?: string, overlays: string[] = [], vms: ImageNode['vms'] = []): ImageNode {
  return {
    path,
    name: path.slice(1),
    origin: 'imported',
    managed: true,
    status: 'ok',
    chain: [path],
    snapshots: 0,
    overlays,
    vms,
    usedByRunning: [],
    refusals: {},
    commitInvalidates: [],
    ...(backing ? { backing } : {}),
  };
}

const vm = (id: string, role: 'disk' | 'state' = 'disk') => ({ id, name: id.toUpperCase(), role, running: false });

describe('layoutImages', () => {
  it('puts bases left, overlays and VMs to the right, parents between their children', () => {
    const layout = layoutImages([
      node('/b', undefined, ['/o2', '/o1']),
      node('/o1', '/b', [], [vm('one')]),
      node('/o2', '/b', ['/o3']),
      node('/o3', '/o2', [], [vm('three'), vm('also')]),
      node('/solo', undefined, [], [vm('nodisk', 'state')]),
    ]);
    const at = Object.fromEntries(layout.boxes.map((b) => [b.kind === 'image' ? b.node.name : b.name, [b.col, b.row]]));
    expect(at).toEqual({
      b: [0, 0.75],
      o1: [1, 0],
      ONE: [2, 0],
      o2: [1, 1.5],
      o3: [2, 1.5],
      ALSO: [3, 1],
      THREE: [3, 2],
      solo: [0, 3],
      NODISK: [1, 3],
    });
    expect(layout).toMatchObject({ cols: 4, rows: 4 });
    expect(layout.edges).toContainEqual({ from: 'image:/b', to: 'image:/o1' });
    expect(layout.edges).toContainEqual({ from: 'image:/o3', to: 'vm:three:/o3' });
    expect(layout.boxes.find((b) => b.kind === 'vm' && b.id === 'nodisk')).toMatchObject({ stateOnly: true });
  });

  it('shows an image whose backing file is not in the graph as a root, and every node of a loop once', () => {
    const layout = layoutImages([node('/x', '/gone'), node('/p', '/q', ['/q']), node('/q', '/p', ['/p'])]);
    expect(layout.boxes.map((b) => (b.kind === 'image' ? b.node.name : b.id)).sort()).toEqual(['p', 'q', 'x']);
    expect(layout.boxes.find((b) => b.kind === 'image' && b.node.name === 'x')).toMatchObject({ col: 0 });
  });

  it('lays out nothing as nothing', () => {
    expect(layoutImages([])).toEqual({ boxes: [], edges: [], cols: 0, rows: 0 });
  });
});
