// A small RFB client with its own decoders, written from rfbproto independently of the server's
// encoders: the unit tests check each encoding by decoding it here, and the display benches use
// it to count frames and bytes. It keeps the picture as canonical 0x00RRGGBB pixels.

import type { Duplex } from 'node:stream';
import { CANONICAL_FORMAT, serializePixelFormat, type PixelFormat } from '../pixel-format';
import { vncAuthResponse } from './des';
import { ClientMsg, Encoding, QemuSubMsg, Security } from './protocol';
import { ZInflater } from './zstream';

export interface RfbClientOptions {
  version?: '3.3' | '3.7' | '3.8';
  password?: string;
  shared?: boolean;
  pixelFormat?: PixelFormat;
  encodings?: number[];
}

export interface UpdateRect {
  x: number;
  y: number;
  w: number;
  h: number;
  encoding: number;
}

export class RfbError extends Error {}

/** Reads exact byte counts from a stream. */
class Reader {
  private chunks: Buffer[] = [];
  private length = 0;
  private waiter: (() => void) | null = null;
  private ended: Error | null = null;

  constructor(stream: Duplex) {
    stream.on('data', (c: Buffer) => {
      this.chunks.push(c);
      this.length += c.length;
      this.wake();
    });
    stream.on('close', () => {
      this.ended ??= new RfbError('connection closed');
      this.wake();
    });
    stream.on('error', (e) => {
      this.ended = e;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  async read(n: number): Promise<Buffer> {
    while (this.length < n) {
      if (this.ended) throw this.ended;
      await new Promise<void>((r) => (this.waiter = r));
    }
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.length = rest.length;
    return out;
  }
}

export class RfbClient {
  width = 0;
  height = 0;
  name = '';
  pixels = new Uint32Array(0);
  format: PixelFormat = CANONICAL_FORMAT;
  /** Security type used and the server's SecurityResult failure reason, if any. */
  securityType = 0;
  updates = 0;
  bytesReceived = 0;
  cursor: { x: number; y: number; w: number; h: number; pixels: Uint32Array; mask: Uint8Array } | null = null;
  extendedKeyEvents = false;
  desktopSizeReplies: { reason: number; status: number; w: number; h: number }[] = [];
  bells = 0;
  cutTexts: string[] = [];
  private readonly reader: Reader;
  private readonly zlib = new ZInflater();
  private readonly zrle = new ZInflater();
  private waiters: ((rects: UpdateRect[]) => void)[] = [];
  private failure: Error | null = null;

  private constructor(private readonly stream: Duplex) {
    this.reader = new Reader(stream);
    stream.on('data', (c: Buffer) => (this.bytesReceived += c.length));
  }

  /** Runs the handshake (rfbproto 7.1-7.3) and starts reading server messages. */
  static async connect(stream: Duplex, opts: RfbClientOptions = {}): Promise<RfbClient> {
    const c = new RfbClient(stream);
    await c.handshake(opts);
    void c.loop();
    return c;
  }

  private async handshake(opts: RfbClientOptions): Promise<void> {
    const r = this.reader;
    const server = (await r.read(12)).toString('latin1');
    if (!/^RFB 003\.00[378]\n$/.test(server)) throw new RfbError(`bad server version ${JSON.stringify(server)}`);
    const version = opts.version ?? '3.8';
    this.stream.write(`RFB 003.00${version.slice(2)}\n`);
    let type: number;
    if (version === '3.3') {
      type = (await r.read(4)).readUInt32BE(0);
      if (type === Security.Invalid) throw new RfbError(await this.readReason());
    } else {
      const n = (await r.read(1))[0]!;
      if (n === 0) throw new RfbError(await this.readReason());
      const types = [...(await r.read(n))];
      type = opts.password !== undefined && types.includes(Security.VncAuth) ? Security.VncAuth : types[0]!;
      this.stream.write(Uint8Array.of(type));
    }
    this.securityType = type;
    if (type === Security.VncAuth) {
      const challenge = await r.read(16);
      this.stream.write(vncAuthResponse(opts.password ?? '', challenge));
    } else if (type !== Security.None) {
      throw new RfbError(`unsupported security type ${type}`);
    }
    if (type === Security.VncAuth || version === '3.8') {
      const result = (await r.read(4)).readUInt32BE(0);
      if (result !== 0) throw new RfbError(version === '3.8' ? await this.readReason() : 'security failed');
    }
    this.stream.write(Uint8Array.of(opts.shared === false ? 0 : 1));
    const init = await r.read(24);
    this.width = init.readUInt16BE(0);
    this.height = init.readUInt16BE(2);
    this.name = (await r.read(init.readUInt32BE(20))).toString('utf8');
    this.pixels = new Uint32Array(this.width * this.height);
    if (opts.pixelFormat) this.setPixelFormat(opts.pixelFormat);
    this.setEncodings(opts.encodings ?? [Encoding.Raw]);
  }

  private async readReason(): Promise<string> {
    const len = (await this.reader.read(4)).readUInt32BE(0);
    return (await this.reader.read(len)).toString('latin1');
  }

  setPixelFormat(pf: PixelFormat): void {
    this.format = pf;
    const b = Buffer.alloc(20);
    b[0] = ClientMsg.SetPixelFormat;
    b.set(serializePixelFormat(pf), 4);
    this.stream.write(b);
  }

  setEncodings(list: number[]): void {
    const b = Buffer.alloc(4 + 4 * list.length);
    b[0] = ClientMsg.SetEncodings;
    b.writeUInt16BE(list.length, 2);
    list.forEach((e, i) => b.writeInt32BE(e, 4 + 4 * i));
    this.stream.write(b);
  }

  /** Sends a FramebufferUpdateRequest and resolves with the rectangles of the next update. */
  update(incremental: boolean, area = { x: 0, y: 0, w: this.width, h: this.height }): Promise<UpdateRect[]> {
    if (this.failure) return Promise.reject(this.failure);
    const b = Buffer.alloc(10);
    b[0] = ClientMsg.FramebufferUpdateRequest;
    b[1] = incremental ? 1 : 0;
    b.writeUInt16BE(area.x, 2);
    b.writeUInt16BE(area.y, 4);
    b.writeUInt16BE(area.w, 6);
    b.writeUInt16BE(area.h, 8);
    const p = new Promise<UpdateRect[]>((resolve, reject) => {
      this.waiters.push(resolve);
      this.rejecters.push(reject);
    });
    this.stream.write(b);
    return p;
  }
  private rejecters: ((e: Error) => void)[] = [];

  key(keysym: number, down: boolean): void {
    const b = Buffer.alloc(8);
    b[0] = ClientMsg.KeyEvent;
    b[1] = down ? 1 : 0;
    b.writeUInt32BE(keysym, 4);
    this.stream.write(b);
  }

  qemuKey(keysym: number, keycode: number, down: boolean): void {
    const b = Buffer.alloc(12);
    b[0] = ClientMsg.Qemu;
    b[1] = QemuSubMsg.ExtendedKeyEvent;
    b.writeUInt16BE(down ? 1 : 0, 2);
    b.writeUInt32BE(keysym, 4);
    b.writeUInt32BE(keycode, 8);
    this.stream.write(b);
  }

  pointer(mask: number, x: number, y: number): void {
    const b = Buffer.alloc(6);
    b[0] = ClientMsg.PointerEvent;
    b[1] = mask;
    b.writeUInt16BE(x, 2);
    b.writeUInt16BE(y, 4);
    this.stream.write(b);
  }

  cutText(text: string): void {
    const t = Buffer.from(text, 'latin1');
    const b = Buffer.alloc(8 + t.length);
    b[0] = ClientMsg.ClientCutText;
    b.writeUInt32BE(t.length, 4);
    b.set(t, 8);
    this.stream.write(b);
  }

  setDesktopSize(w: number, h: number): void {
    const b = Buffer.alloc(24);
    b[0] = ClientMsg.SetDesktopSize;
    b.writeUInt16BE(w, 2);
    b.writeUInt16BE(h, 4);
    b[6] = 1;
    b.writeUInt16BE(w, 16);
    b.writeUInt16BE(h, 18);
    this.stream.write(b);
  }

  /** Writes raw bytes (tests that send garbage). */
  writeRaw(bytes: Uint8Array): void {
    this.stream.write(bytes);
  }

  close(): void {
    this.stream.destroy();
    this.zlib.close();
    this.zrle.close();
  }

  /** Resolves when the server closes the connection. */
  closed(): Promise<void> {
    return new Promise((resolve) => {
      if (this.stream.destroyed) resolve();
      else this.stream.once('close', () => resolve());
    });
  }

  private async loop(): Promise<void> {
    try {
      for (;;) {
        const type = (await this.reader.read(1))[0]!;
        if (type === 0) await this.readUpdate();
        else if (type === 2) this.bells++;
        else if (type === 3) {
          const h = await this.reader.read(7);
          this.cutTexts.push((await this.reader.read(h.readUInt32BE(3))).toString('latin1'));
        } else throw new RfbError(`unknown server message ${type}`);
      }
    } catch (e) {
      this.failure = e as Error;
      for (const r of this.rejecters) r(this.failure);
      this.waiters = [];
      this.rejecters = [];
    }
  }

  private async readUpdate(): Promise<void> {
    const h = await this.reader.read(3);
    const count = h.readUInt16BE(1);
    const rects: UpdateRect[] = [];
    for (let i = 0; i < count; i++) {
      const rh = await this.reader.read(12);
      const rect = { x: rh.readUInt16BE(0), y: rh.readUInt16BE(2), w: rh.readUInt16BE(4), h: rh.readUInt16BE(6), encoding: rh.readInt32BE(8) };
      rects.push(rect);
      await this.readRect(rect);
    }
    this.updates++;
    this.waiters.shift()?.(rects);
    this.rejecters.shift();
  }

  private checkInside(r: UpdateRect): void {
    if (r.x + r.w > this.width || r.y + r.h > this.height) throw new RfbError(`rectangle ${r.w}x${r.h}+${r.x}+${r.y} outside ${this.width}x${this.height}`);
  }

  private async readRect(r: UpdateRect): Promise<void> {
    const bpp = this.format.bitsPerPixel / 8;
    switch (r.encoding) {
      case Encoding.Raw: {
        this.checkInside(r);
        this.putRaw(r, await this.reader.read(r.w * r.h * bpp), bpp);
        return;
      }
      case Encoding.CopyRect: {
        this.checkInside(r);
        const s = await this.reader.read(4);
        const sx = s.readUInt16BE(0);
        const sy = s.readUInt16BE(2);
        const copy = new Uint32Array(r.w * r.h);
        for (let y = 0; y < r.h; y++) for (let x = 0; x < r.w; x++) copy[y * r.w + x] = this.pixels[(sy + y) * this.width + sx + x]!;
        for (let y = 0; y < r.h; y++) for (let x = 0; x < r.w; x++) this.put(r.x + x, r.y + y, copy[y * r.w + x]!);
        return;
      }
      case Encoding.Zlib: {
        this.checkInside(r);
        const len = (await this.reader.read(4)).readUInt32BE(0);
        const data = Buffer.from(this.zlib.decompress(await this.reader.read(len)));
        if (data.length !== r.w * r.h * bpp) throw new RfbError(`zlib rectangle inflated to ${data.length} bytes`);
        this.putRaw(r, data, bpp);
        return;
      }
      case Encoding.Zrle: {
        this.checkInside(r);
        const len = (await this.reader.read(4)).readUInt32BE(0);
        this.decodeZrle(r, Buffer.from(this.zrle.decompress(await this.reader.read(len))));
        return;
      }
      case Encoding.DesktopSize:
        this.resizeTo(r.w, r.h);
        return;
      case Encoding.ExtendedDesktopSize: {
        const n = (await this.reader.read(4))[0]!;
        await this.reader.read(16 * n);
        this.desktopSizeReplies.push({ reason: r.x, status: r.y, w: r.w, h: r.h });
        if (r.y === 0) this.resizeTo(r.w, r.h);
        return;
      }
      case Encoding.Cursor: {
        const pixels = await this.reader.read(r.w * r.h * bpp);
        const mask = await this.reader.read(((r.w + 7) >> 3) * r.h);
        const px = new Uint32Array(r.w * r.h);
        for (let i = 0; i < r.w * r.h; i++) px[i] = this.readPixel(pixels, i * bpp, bpp);
        this.cursor = { x: r.x, y: r.y, w: r.w, h: r.h, pixels: px, mask: Uint8Array.from(mask) };
        return;
      }
      case Encoding.QemuExtendedKeyEvent:
        this.extendedKeyEvents = true;
        return;
      default:
        throw new RfbError(`unexpected encoding ${r.encoding}`);
    }
  }

  /** Raw pixel rows into the picture; a straight copy when the format is the canonical one. */
  private putRaw(r: UpdateRect, data: Uint8Array, bpp: number): void {
    const f = this.format;
    const canonical = bpp === 4 && !f.bigEndian && f.redShift === 16 && f.greenShift === 8 && f.blueShift === 0 && f.redMax === 255 && f.greenMax === 255 && f.blueMax === 255;
    if (canonical) {
      const aligned = data.byteOffset % 4 === 0 ? data : Uint8Array.from(data);
      const words = new Uint32Array(aligned.buffer, aligned.byteOffset, r.w * r.h);
      for (let y = 0; y < r.h; y++) {
        const row = words.subarray(y * r.w, (y + 1) * r.w);
        const at = (r.y + y) * this.width + r.x;
        this.pixels.set(row, at);
        for (let x = 0; x < r.w; x++) this.pixels[at + x]! &= 0xffffff;
      }
      return;
    }
    for (let y = 0; y < r.h; y++) for (let x = 0; x < r.w; x++) this.put(r.x + x, r.y + y, this.readPixel(data, (y * r.w + x) * bpp, bpp));
  }

  private resizeTo(w: number, h: number): void {
    this.width = w;
    this.height = h;
    this.pixels = new Uint32Array(w * h);
  }

  private put(x: number, y: number, p: number): void {
    this.pixels[y * this.width + x] = p;
  }

  /** A PIXEL (or CPIXEL of `size` bytes) in the client format -> canonical 0x00RRGGBB. */
  private readPixel(b: Uint8Array, o: number, size: number, cpixelHigh = false): number {
    const f = this.format;
    let v = 0;
    if (f.bigEndian) for (let i = 0; i < size; i++) v = v * 256 + b[o + i]!;
    else for (let i = size - 1; i >= 0; i--) v = v * 256 + b[o + i]!;
    if (cpixelHigh) v *= 256;
    const ch = (shift: number, max: number) => Math.round(((Math.floor(v / 2 ** shift) & max) * 255) / max);
    return (ch(f.redShift, f.redMax) << 16) | (ch(f.greenShift, f.greenMax) << 8) | ch(f.blueShift, f.blueMax);
  }

  private decodeZrle(r: UpdateRect, d: Buffer): void {
    const f = this.format;
    // CPIXEL rule (rfbproto 7.7.6), evaluated independently of the server's PixelConverter.
    const used = f.redMax * 2 ** f.redShift + f.greenMax * 2 ** f.greenShift + f.blueMax * 2 ** f.blueShift;
    const fitsLow = used < 2 ** 24;
    const fitsHigh = used % 256 === 0;
    const three = f.bitsPerPixel === 32 && f.depth <= 24 && (fitsLow || fitsHigh);
    const bpc = three ? 3 : f.bitsPerPixel / 8;
    const high = three && !fitsLow;
    let o = 0;
    const byte = () => {
      if (o >= d.length) throw new RfbError('ZRLE data ends inside a tile');
      return d[o++]!;
    };
    const cpixel = () => {
      if (o + bpc > d.length) throw new RfbError('ZRLE data ends inside a pixel');
      const p = this.readPixel(d, o, bpc, high);
      o += bpc;
      return p;
    };
    const runLength = () => {
      let len = 1;
      let b: number;
      do {
        b = byte();
        len += b;
      } while (b === 255);
      return len;
    };
    for (let ty = r.y; ty < r.y + r.h; ty += 64) {
      const th = Math.min(64, r.y + r.h - ty);
      for (let tx = r.x; tx < r.x + r.w; tx += 64) {
        const tw = Math.min(64, r.x + r.w - tx);
        const n = tw * th;
        const tile = new Uint32Array(n);
        const sub = byte();
        if (sub === 0) {
          for (let i = 0; i < n; i++) tile[i] = cpixel();
        } else if (sub === 1) {
          tile.fill(cpixel());
        } else if (sub <= 16) {
          const palette = Array.from({ length: sub }, cpixel);
          const bits = sub === 2 ? 1 : sub <= 4 ? 2 : 4;
          for (let y = 0; y < th; y++) {
            let bitPos = 0;
            let cur = 0;
            for (let x = 0; x < tw; x++) {
              if (bitPos === 0) cur = byte();
              const idx = (cur >> (8 - bits - bitPos)) & ((1 << bits) - 1);
              bitPos = (bitPos + bits) & 7;
              if (idx >= sub) throw new RfbError('ZRLE palette index out of range');
              tile[y * tw + x] = palette[idx]!;
            }
          }
        } else if (sub === 128) {
          let i = 0;
          while (i < n) {
            const p = cpixel();
            const len = runLength();
            if (i + len > n) throw new RfbError('ZRLE run past the tile');
            tile.fill(p, i, i + len);
            i += len;
          }
        } else if (sub >= 130) {
          const palette = Array.from({ length: sub - 128 }, cpixel);
          let i = 0;
          while (i < n) {
            const b = byte();
            const idx = b & 127;
            if (idx >= palette.length) throw new RfbError('ZRLE palette index out of range');
            const len = b & 128 ? runLength() : 1;
            if (i + len > n) throw new RfbError('ZRLE run past the tile');
            tile.fill(palette[idx]!, i, i + len);
            i += len;
          }
        } else {
          throw new RfbError(`ZRLE subencoding ${sub} is unused`);
        }
        for (let y = 0; y < th; y++) for (let x = 0; x < tw; x++) this.put(tx + x, ty + y, tile[y * tw + x]!);
      }
    }
    if (o !== d.length) throw new RfbError(`ZRLE rectangle has ${d.length - o} bytes left over`);
  }
}
