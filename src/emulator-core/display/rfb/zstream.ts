// One zlib stream per connection and encoding: rfbproto says Zlib and ZRLE rectangles share a
// single stream "for a given RFB protocol connection", so the dictionary carries over between
// rectangles. Each rectangle ends with a sync flush (an empty stored block) so the client can
// decode it completely before the next one arrives.
//
// Why not a public API: node:zlib's streams are asynchronous (output arrives in 'data' events
// after a thread-pool round trip) and its *Sync functions are one-shot (they close the stream
// when done). fflate 0.8.3's streaming flush(true) writes a corrupt stream after the first flush
// (measured: "invalid stored block lengths" from zlib on the second rectangle). So we drive a
// node:zlib Deflate's native handle synchronously, as node's own zlibBufferSync does, minus its
// close. `ZStream.available` is false if a Node release drops that handle; the server then
// offers only Raw (see connection.ts), and the unit test pins it so we notice.

import zlib from 'node:zlib';

interface NativeZlibHandle {
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
}
interface DeflateInternals {
  _handle: NativeZlibHandle | null;
  /** [avail_out, avail_in] after the last write. */
  _writeState: Uint32Array;
}

const CHUNK = 64 * 1024;

function internals(d: zlib.Deflate): DeflateInternals | null {
  const i = d as unknown as Partial<DeflateInternals>;
  return i._handle && typeof i._handle.writeSync === 'function' && i._writeState instanceof Uint32Array ? (i as DeflateInternals) : null;
}

export class ZStream {
  /** Whether this Node exposes what ZStream needs. */
  static readonly available: boolean = (() => {
    try {
      const d = zlib.createDeflate();
      const ok = internals(d) !== null;
      d.close();
      return ok;
    } catch {
      return false;
    }
  })();

  private readonly deflate: zlib.Deflate;
  private readonly z: DeflateInternals;
  /** Bytes in and out, for ratios in benches. */
  bytesIn = 0;
  bytesOut = 0;

  constructor(level = 6) {
    this.deflate = zlib.createDeflate({ level });
    const z = internals(this.deflate);
    if (!z) throw new Error('this Node does not expose a synchronous zlib stream');
    this.z = z;
  }

  /** Compresses `data` and returns the bytes up to and including a sync flush. */
  compress(data: Uint8Array): Uint8Array {
    const handle = this.z._handle;
    if (!handle) throw new Error('zlib stream is closed');
    const state = this.z._writeState;
    const chunks: Uint8Array[] = [];
    let inOff = 0;
    let inLen = data.length;
    for (;;) {
      const out = new Uint8Array(Math.max(CHUNK, inLen + (inLen >> 3) + 64));
      handle.writeSync(zlib.constants.Z_SYNC_FLUSH, data, inOff, inLen, out, 0, out.length);
      const availOut = state[0]!;
      const availIn = state[1]!;
      chunks.push(out.subarray(0, out.length - availOut));
      inOff += inLen - availIn;
      inLen = availIn;
      // zlib filled the buffer: there may be more output (or input) to go.
      if (availOut !== 0) break;
    }
    this.bytesIn += data.length;
    const total = chunks.reduce((n, c) => n + c.length, 0);
    this.bytesOut += total;
    if (chunks.length === 1) return chunks[0]!;
    const joined = new Uint8Array(total);
    let o = 0;
    for (const c of chunks) {
      joined.set(c, o);
      o += c.length;
    }
    return joined;
  }

  close(): void {
    this.deflate.close();
  }
}

/** The client side: inflates a connection's stream rectangle by rectangle (tests, benches). */
export class ZInflater {
  private readonly inflate = zlib.createInflate();
  private readonly z: DeflateInternals;
  private error: Error | null = null;

  constructor() {
    // The native handle reports corrupt input through the stream's 'error' event.
    this.inflate.on('error', (e) => (this.error = e));
    const z = internals(this.inflate as unknown as zlib.Deflate);
    if (!z) throw new Error('this Node does not expose a synchronous zlib stream');
    this.z = z;
  }

  /** Inflates one rectangle's bytes (which end in a sync flush). */
  decompress(data: Uint8Array): Uint8Array {
    const handle = this.z._handle!;
    const state = this.z._writeState;
    const chunks: Uint8Array[] = [];
    let inOff = 0;
    let inLen = data.length;
    for (;;) {
      const out = new Uint8Array(Math.max(CHUNK, inLen * 8));
      handle.writeSync(zlib.constants.Z_SYNC_FLUSH, data, inOff, inLen, out, 0, out.length);
      if (this.error) throw this.error;
      const availOut = state[0]!;
      const availIn = state[1]!;
      chunks.push(out.subarray(0, out.length - availOut));
      inOff += inLen - availIn;
      inLen = availIn;
      if (availOut !== 0) break;
    }
    const total = chunks.reduce((n, c) => n + c.length, 0);
    const joined = new Uint8Array(total);
    let o = 0;
    for (const c of chunks) {
      joined.set(c, o);
      o += c.length;
    }
    return joined;
  }

  close(): void {
    this.inflate.close();
  }
}
