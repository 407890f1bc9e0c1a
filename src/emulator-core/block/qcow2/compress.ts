// Compressed clusters (qcow2.txt "Compressed Clusters Descriptor"): raw deflate streams, as QEMU
// writes them with zlib (no header, window bits 12, default level). QEMU inflates a cluster in a
// single call into a cluster-sized buffer, so back-references may reach anywhere in the cluster:
// fflate's 32 KiB-window output reads fine. We stop inflating when a cluster is produced, like
// QEMU: bytes after the stream (the tail of the last sector) are ignored.
import { BlockError } from '../errors';

type Fflate = typeof import('fflate');
let fflate: Fflate | undefined;

/**
 * fflate is loaded on first use: most `viv img` runs (and every convert without -c from an
 * uncompressed image) never inflate, and loading the package costs ~14 ms of each process start.
 */
async function loadFflate(): Promise<Fflate> {
  fflate ??= await import('fflate');
  return fflate;
}

/**
 * Deflates one cluster. Returns null when compression does not pay (the stream would not be
 * smaller than the cluster), in which case the caller writes the cluster uncompressed, as QEMU does.
 */
export async function compressCluster(data: Uint8Array, clusterSize: number): Promise<Uint8Array | null> {
  const { deflateSync } = await loadFflate();
  const out = deflateSync(data, { level: 6 });
  return out.length < clusterSize ? out : null;
}

/** Inflates a compressed cluster's bytes into exactly `clusterSize` bytes. */
export async function decompressCluster(src: Uint8Array, clusterSize: number, where: string): Promise<Uint8Array> {
  const { Inflate } = await loadFflate();
  const out = new Uint8Array(clusterSize);
  let produced = 0;
  let overflow = false;
  const inflater = new Inflate((chunk) => {
    const room = clusterSize - produced;
    if (chunk.length > room) overflow = true;
    out.set(chunk.subarray(0, room), produced);
    produced += Math.min(room, chunk.length);
  });
  try {
    inflater.push(src, true);
  } catch (err) {
    // A stream that produced a full cluster before failing is what QEMU accepts too (it stops at
    // avail_out == 0 and ignores what follows).
    if (produced < clusterSize) {
      throw new BlockError('EIO', `Could not decompress cluster at ${where}: ${(err as Error).message}`);
    }
  }
  if (produced < clusterSize && !overflow) {
    throw new BlockError('EIO', `Could not decompress cluster at ${where}: stream ends after ${produced} of ${clusterSize} bytes`);
  }
  return out;
}
