// QEMU's stream framing for `-netdev socket` (and `-netdev stream`): each Ethernet frame is sent
// as a 4-byte big-endian length followed by the frame (net/net.c net_fill_rstate). The decoder
// accepts any split of the byte stream into chunks.
import { get32, put32 } from './bytes';

/** QEMU's NET_BUFSIZE: the largest frame a peer may send (4096 + 65536). */
export const MAX_LINK_FRAME = 4096 + 65536;

export function encodeFrame(frame: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + frame.length);
  put32(out, 0, frame.length);
  out.set(frame, 4);
  return out;
}

export class FrameDecoder {
  private header = new Uint8Array(4);
  private headerHave = 0;
  private frame: Uint8Array | undefined;
  private frameHave = 0;

  /**
   * Feeds bytes; calls `onFrame` for each complete frame. Returns false on a length that no
   * QEMU would send (over MAX_LINK_FRAME): the stream cannot be resynchronised and must close.
   */
  push(chunk: Uint8Array, onFrame: (frame: Uint8Array) => void): boolean {
    let i = 0;
    while (i < chunk.length) {
      if (!this.frame) {
        const n = Math.min(4 - this.headerHave, chunk.length - i);
        this.header.set(chunk.subarray(i, i + n), this.headerHave);
        this.headerHave += n;
        i += n;
        if (this.headerHave < 4) break;
        this.headerHave = 0;
        const len = get32(this.header, 0);
        if (len > MAX_LINK_FRAME) return false;
        if (len === 0) continue; // an empty frame carries nothing
        this.frame = new Uint8Array(len);
        this.frameHave = 0;
      }
      const n = Math.min(this.frame.length - this.frameHave, chunk.length - i);
      this.frame.set(chunk.subarray(i, i + n), this.frameHave);
      this.frameHave += n;
      i += n;
      if (this.frameHave === this.frame.length) {
        const f = this.frame;
        this.frame = undefined;
        onFrame(f);
      }
    }
    return true;
  }
}
