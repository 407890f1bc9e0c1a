// Allocation status through a backing chain, as qemu-img's map (get_block_status) and convert,
// measure and compare (bdrv_block_status_above) see it.
import type { BlockDriver } from '../../emulator-core/block';

export interface ChainStatus {
  start: number;
  length: number;
  /** Layer that answered: 0 the top image, 1 its backing file, ... */
  depth: number;
  /** Some layer of the chain defines the content (qemu's BDRV_BLOCK_ALLOCATED). */
  present: boolean;
  zero: boolean;
  data: boolean;
  offset?: number;
  /** File the data is in, when `offset` is known. */
  filename?: string;
}

/** qemu-img map's get_block_status: descend while a layer has nothing of its own there. */
export async function chainStatus(top: BlockDriver, offset: number, bytes: number): Promise<ChainStatus> {
  let layer: BlockDriver = top;
  let depth = 0;
  for (;;) {
    const n = Math.min(bytes, layer.length() - offset);
    const st = await layer.blockStatus(offset, n);
    bytes = st.length;
    if (st.allocated) {
      return {
        start: offset, length: bytes, depth, present: true, zero: st.zero, data: st.data,
        offset: st.hostOffset, filename: st.hostOffset !== undefined ? layer.filename : undefined,
      };
    }
    const next = layer.backing;
    if (!next || offset >= next.length()) {
      return { start: offset, length: bytes, depth, present: false, zero: true, data: false };
    }
    layer = next;
    depth++;
  }
}

/**
 * bdrv_is_allocated_above(top, base): whether some layer from `top` down to (not including) `base`
 * defines [offset, offset+n), and for how many bytes the answer holds.
 */
export async function allocatedAbove(top: BlockDriver, base: BlockDriver | null, offset: number, bytes: number): Promise<{ allocated: boolean; length: number }> {
  let layer: BlockDriver | null = top;
  let n = bytes;
  while (layer && layer !== base) {
    if (offset >= layer.length()) {
      layer = layer.backing;
      continue;
    }
    const st = await layer.blockStatus(offset, Math.min(n, layer.length() - offset));
    if (st.allocated) return { allocated: true, length: st.length };
    n = Math.min(n, st.length);
    layer = layer.backing;
  }
  return { allocated: false, length: n };
}
