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
  /** The extent reaches the end of the top image (qemu's BDRV_BLOCK_EOF). */
  eof?: boolean;
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

/**
 * bdrv_block_status_above(top, NULL): the status of the whole chain as one image sees it (used by
 * convert, compare and measure). Unlike map's walk, a region past the end of a shorter backing
 * file counts as allocated zeros, and EOF is the top image's.
 */
export async function statusAbove(top: BlockDriver, offset: number, bytes: number): Promise<ChainStatus> {
  const topLen = top.length();
  let st = await top.blockStatus(offset, Math.min(bytes, topLen - offset));
  const eofAt = offset + st.length === topLen ? topLen : -1;
  const finish = (s: ChainStatus): ChainStatus => ({ ...s, eof: s.start + s.length === eofAt });
  const generic = (layer: BlockDriver, s: typeof st): ChainStatus => {
    const zero = s.zero || (!s.allocated && (!layer.backing || offset >= layer.backing.length()));
    return { start: offset, length: s.length, depth: 0, present: s.allocated, zero, data: s.data, offset: s.hostOffset, filename: s.hostOffset !== undefined ? layer.filename : undefined };
  };
  let result = generic(top, st);
  if (st.allocated) return finish(result);
  let n = st.length;
  for (let p = top.backing; p; p = p.backing) {
    if (offset >= p.length()) {
      return finish({ start: offset, length: n, depth: 0, present: true, zero: true, data: false });
    }
    st = await p.blockStatus(offset, Math.min(n, p.length() - offset));
    result = generic(p, st);
    if (st.allocated) return finish(result);
    n = st.length;
  }
  return finish(result);
}
