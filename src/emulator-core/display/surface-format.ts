// Memory layouts of the pixels a guest hands us, named as virtio-gpu names them (virtio 1.2,
// 5.7.6.8 "enum virtio_gpu_formats"): the name lists the bytes in memory order, so B8G8R8X8 is
// the bytes B, G, R, X — a little-endian u32 0xXXRRGGBB, our canonical pixel.

export const SurfaceFormat = {
  B8G8R8A8: 1,
  B8G8R8X8: 2,
  A8R8G8B8: 3,
  X8R8G8B8: 4,
  R8G8B8A8: 67,
  X8B8G8R8: 68,
  A8B8G8R8: 121,
  R8G8B8X8: 134,
} as const;
export type SurfaceFormat = (typeof SurfaceFormat)[keyof typeof SurfaceFormat];

const known = new Set<number>(Object.values(SurfaceFormat));
export function isSurfaceFormat(n: number): n is SurfaceFormat {
  return known.has(n);
}

/** All the formats we know are 4 bytes per pixel. */
export const SURFACE_BYTES_PER_PIXEL = 4;

/**
 * Converts `count` pixels of `src` (little-endian u32 words as read from guest memory) in
 * `format` to canonical 0x00RRGGBB pixels in `dst`.
 */
export function toCanonical(format: SurfaceFormat, src: Uint32Array, dst: Uint32Array, dstIndex: number): void {
  const n = src.length;
  switch (format) {
    case SurfaceFormat.B8G8R8A8:
    case SurfaceFormat.B8G8R8X8:
      for (let i = 0; i < n; i++) dst[dstIndex + i] = src[i]! & 0xffffff;
      return;
    case SurfaceFormat.A8R8G8B8:
    case SurfaceFormat.X8R8G8B8:
      // Bytes A,R,G,B: the u32 is B<<24 | G<<16 | R<<8 | A.
      for (let i = 0; i < n; i++) {
        const u = src[i]!;
        dst[dstIndex + i] = ((u << 8) & 0xff0000) | ((u >>> 8) & 0xff00) | (u >>> 24);
      }
      return;
    case SurfaceFormat.R8G8B8A8:
    case SurfaceFormat.R8G8B8X8:
      // Bytes R,G,B,A: the u32 is A<<24 | B<<16 | G<<8 | R.
      for (let i = 0; i < n; i++) {
        const u = src[i]!;
        dst[dstIndex + i] = ((u & 0xff) << 16) | (u & 0xff00) | ((u >>> 16) & 0xff);
      }
      return;
    case SurfaceFormat.X8B8G8R8:
    case SurfaceFormat.A8B8G8R8:
      // Bytes X,B,G,R: the u32 is R<<24 | G<<16 | B<<8 | X.
      for (let i = 0; i < n; i++) dst[dstIndex + i] = src[i]! >>> 8;
      return;
  }
}
