// One RFB client: the handshake (rfbproto 7.1-7.3: version, security, init), the client messages
// (7.5) and framebuffer updates driven by this client's own dirty region. Anything malformed
// ends this connection with a reason; it never throws into the server or the machine.

import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { CursorImage, Framebuffer, FramebufferListener, Rect } from '../framebuffer';
import { clipRect } from '../framebuffer';
import { PointerTranslator, type InputSink } from '../input';
import { KeyboardTranslator } from '../keymap';
import { CANONICAL_FORMAT, PixelConverter, PixelFormatError, parsePixelFormat, serializePixelFormat } from '../pixel-format';
import { TileRegion } from '../region';
import { ByteWriter } from './byte-writer';
import { vncAuthResponse } from './des';
import { encodeCursor, encodeRaw, encodeZlib } from './encode-basic';
import { ZrleEncoder } from './encode-zrle';
import {
  ClientMsg,
  DEFAULT_ZLIB_LEVEL,
  DesktopSizeReason,
  DesktopSizeStatus,
  Encoding,
  MAX_CUT_TEXT,
  MAX_ENCODINGS,
  QemuSubMsg,
  SERVER_VERSION,
  Security,
  SecurityResult,
  ServerMsg,
} from './protocol';
import { ZStream } from './zstream';

export interface ConnectionHost {
  framebuffer: Framebuffer;
  input: InputSink;
  desktopName: string;
  /** The password clients must give, or null for no authentication (security type None). */
  authPassword(): string | null;
  /** With VNC auth on and no password set yet, QEMU refuses every login; so do we. */
  authRequired(): boolean;
  /** ClientInit's shared flag: the reason this client is refused (share policy), or null. */
  admit(conn: RfbConnection, shared: boolean): string | null;
  cutText?(text: string): void;
  closed(conn: RfbConnection, reason: string | null): void;
  /** Default HANDSHAKE_TIMEOUT_MS. */
  handshakeTimeoutMs?: number;
}

type Phase = 'version' | 'security' | 'auth' | 'init' | 'normal' | 'closed';

/** Bytes queued on the socket above which we stop encoding updates until it drains. */
const HIGH_WATER = 4 << 20;
/** A client that has not finished the handshake by then loses its connection slot. */
export const HANDSHAKE_TIMEOUT_MS = 30_000;

export class RfbConnection implements FramebufferListener {
  private phase: Phase = 'version';
  private minor = 8;
  private inbuf: Buffer = Buffer.alloc(0);
  private challenge: Uint8Array | null = null;
  private conv = new PixelConverter(CANONICAL_FORMAT);
  private encodings = new Set<number>();
  private preferred: number = Encoding.Raw;
  private dirty: TileRegion;
  /** The framebuffer size this client believes in (changes only through DesktopSize). */
  private clientWidth: number;
  private clientHeight: number;
  private request: { incremental: boolean; area: Rect } | null = null;
  private pendingCopy: { src: Rect; dx: number; dy: number } | null = null;
  private resizePending = false;
  private cursorPending = false;
  private extKeyAckPending = false;
  private desktopSizeReply: { status: number } | null = null;
  private scheduled = false;
  private unsubscribe: (() => void) | null = null;
  private readonly keyboard: KeyboardTranslator;
  private readonly pointer: PointerTranslator;
  private zlibLevel = DEFAULT_ZLIB_LEVEL;
  private zlib: ZStream | null = null;
  private zrle: ZrleEncoder | null = null;
  private readonly scratch = new ByteWriter(64 * 1024);
  /** Bytes and updates sent (for benches and tests). */
  readonly stats = { bytesSent: 0, updates: 0, rects: 0 };
  closeReason: string | null = null;

  constructor(
    private readonly host: ConnectionHost,
    private readonly socket: Duplex,
    readonly peer: string,
  ) {
    const fb = host.framebuffer;
    this.clientWidth = fb.width;
    this.clientHeight = fb.height;
    this.dirty = new TileRegion(fb.width, fb.height);
    this.keyboard = new KeyboardTranslator(host.input);
    this.pointer = new PointerTranslator(host.input);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (e) => this.close(`socket error: ${e.message}`));
    socket.on('close', () =>
      this.close(this.phase !== 'normal' ? 'closed during the handshake' : this.inbuf.length > 0 ? 'closed in the middle of a message' : null),
    );
    socket.on('drain', () => this.schedule());
    const timer = setTimeout(() => {
      if (this.phase !== 'normal') this.close('handshake timed out');
    }, host.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS);
    timer.unref();
    this.send(Buffer.from(SERVER_VERSION, 'latin1'));
  }

  /** The encoding used for pixel rectangles (the client's first choice among Raw, Zlib, ZRLE). */
  get encoding(): number {
    return this.preferred;
  }

  /** Bytes written but not yet taken by the transport (a slow client's backlog). */
  get queuedBytes(): number {
    return this.socket.writableLength;
  }

  get isOpen(): boolean {
    return this.phase !== 'closed';
  }

  /**
   * Ends the connection; `reason` null is an orderly close. `graceful` lets queued bytes (a
   * SecurityResult with its reason) reach the client before the socket closes.
   */
  close(reason: string | null, graceful = false): void {
    if (this.phase === 'closed') return;
    this.zlib?.close();
    this.zrle?.close();
    const wasNormal = this.phase === 'normal';
    this.phase = 'closed';
    this.closeReason = reason;
    this.unsubscribe?.();
    if (wasNormal) {
      // Nothing stays pressed in the guest because a viewer vanished mid-keystroke.
      this.keyboard.releaseAll();
      this.pointer.releaseAll();
    }
    if (graceful) {
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 2000).unref();
    } else {
      this.socket.destroy();
    }
    this.host.closed(this, reason);
  }

  // ---- FramebufferListener ----

  damage(rect: Rect): void {
    this.dirty.add(rect);
    this.schedule();
  }

  copy(src: Rect, dx: number, dy: number): void {
    const dst = { x: src.x + dx, y: src.y + dy, w: src.w, h: src.h };
    if (!this.encodings.has(Encoding.CopyRect) || this.resizePending) {
      this.damage(dst);
      return;
    }
    // Only one copy waits at a time: an earlier one becomes plain dirty pixels.
    if (this.pendingCopy) {
      const p = this.pendingCopy;
      this.dirty.add({ x: p.src.x + p.dx, y: p.src.y + p.dy, w: p.src.w, h: p.src.h });
    }
    // The client copies what it has: where its source pixels are stale, the copied ones are too.
    const moved = this.dirty
      .tileRectsTouching(src)
      .map((t) => clipRect({ x: t.x - src.x, y: t.y - src.y, w: t.w, h: t.h }, src.w, src.h))
      .map((t) => ({ x: t.x + src.x + dx, y: t.y + src.y + dy, w: t.w, h: t.h }));
    this.dirty.subtractInside(dst);
    for (const m of moved) this.dirty.add(m);
    this.pendingCopy = { src, dx, dy };
    this.schedule();
  }

  resize(width: number, height: number): void {
    this.dirty = new TileRegion(width, height);
    this.pendingCopy = null;
    if (this.supportsResize()) {
      this.resizePending = true;
    } else {
      // A client that cannot resize keeps its size and sees the part that still fits.
      this.dirty.addAll();
    }
    this.schedule();
  }

  cursor(_cursor: CursorImage | null): void {
    if (this.encodings.has(Encoding.Cursor)) {
      this.cursorPending = true;
      this.schedule();
    }
  }

  // ---- input from the client ----

  private receive(chunk: Buffer): void {
    if (this.phase === 'closed') return;
    this.inbuf = this.inbuf.length === 0 ? chunk : Buffer.concat([this.inbuf, chunk]);
    let pos = 0;
    try {
      while (this.isOpen && pos < this.inbuf.length) {
        const used = this.step(this.inbuf, pos);
        if (used === 0) break;
        pos += used;
      }
    } catch (e) {
      if (e instanceof ProtocolError || e instanceof PixelFormatError) {
        this.close(e.message);
        return;
      }
      this.close(`internal error: ${(e as Error).message}`);
      return;
    }
    this.inbuf = pos >= this.inbuf.length ? Buffer.alloc(0) : this.inbuf.subarray(pos);
  }

  /** Handles one message at `pos` if it is complete; returns the bytes used (0: wait for more). */
  private step(b: Buffer, pos: number): number {
    const avail = b.length - pos;
    switch (this.phase) {
      case 'version':
        return avail < 12 ? 0 : this.onVersion(b.subarray(pos, pos + 12));
      case 'security':
        return this.onSecurityChoice(b[pos]!);
      case 'auth':
        return avail < 16 ? 0 : this.onAuthResponse(b.subarray(pos, pos + 16));
      case 'init':
        return this.onClientInit(b[pos]!);
      case 'normal':
        return this.onMessage(b, pos, avail);
      default:
        return 0;
    }
  }

  private onVersion(v: Buffer): number {
    const m = /^RFB (\d{3})\.(\d{3})\n$/.exec(v.toString('latin1'));
    if (!m || Number(m[1]) !== 3) throw new ProtocolError(`bad ProtocolVersion ${JSON.stringify(v.toString('latin1'))}`);
    const minor = Number(m[2]);
    // rfbproto 7.1.1: only 3.3, 3.7 and 3.8 exist; other minors are treated as 3.3 (3.889 is Apple's 3.8).
    this.minor = minor >= 8 ? 8 : minor === 7 ? 7 : 3;
    const type = this.securityType();
    if (this.minor === 3) {
      // 3.3: the server picks the type and sends it as a u32.
      this.send(new ByteWriter(4).u32(type).take());
      this.startSecurity(type);
    } else {
      this.send(Uint8Array.of(1, type));
      this.phase = 'security';
    }
    return 12;
  }

  private securityType(): number {
    return this.host.authRequired() ? Security.VncAuth : Security.None;
  }

  private onSecurityChoice(type: number): number {
    if (type !== this.securityType()) {
      this.failSecurity(`client chose security type ${type}, which was not offered`);
      return 1;
    }
    this.startSecurity(type);
    return 1;
  }

  private startSecurity(type: number): void {
    if (type === Security.None) {
      // rfbproto 7.2.1: 3.8 sends a SecurityResult after None; 3.3 and 3.7 go straight to init.
      if (this.minor === 8) this.send(new ByteWriter(4).u32(SecurityResult.Ok).take());
      this.phase = 'init';
      return;
    }
    this.challenge = randomBytes(16);
    this.send(this.challenge);
    this.phase = 'auth';
  }

  private onAuthResponse(response: Buffer): number {
    const password = this.host.authPassword();
    const expected = password === null ? null : vncAuthResponse(password, this.challenge!);
    this.challenge = null;
    if (!expected || !timingSafeEqual(expected, response)) {
      this.failSecurity(password === null ? 'no VNC password is set' : 'authentication failed');
      return 16;
    }
    this.send(new ByteWriter(4).u32(SecurityResult.Ok).take());
    this.phase = 'init';
    return 16;
  }

  /** SecurityResult "failed"; 3.8 adds a reason string (rfbproto 7.1.3). */
  private failSecurity(reason: string): void {
    const w = new ByteWriter(64).u32(SecurityResult.Failed);
    if (this.minor === 8) {
      const text = Buffer.from(reason, 'latin1');
      w.u32(text.length).bytesOf(text);
    }
    this.send(w.take());
    this.close(reason, true);
  }

  private onClientInit(shared: number): number {
    const refused = this.host.admit(this, shared !== 0);
    if (refused) {
      this.close(refused);
      return 1;
    }
    const fb = this.host.framebuffer;
    this.clientWidth = fb.width;
    this.clientHeight = fb.height;
    this.dirty = new TileRegion(fb.width, fb.height);
    const name = Buffer.from(this.host.desktopName, 'utf8');
    const w = new ByteWriter(64)
      .u16(fb.width)
      .u16(fb.height)
      .bytesOf(serializePixelFormat(CANONICAL_FORMAT))
      .u32(name.length)
      .bytesOf(name);
    this.send(w.take());
    this.phase = 'normal';
    this.unsubscribe = fb.subscribe(this);
    return 1;
  }

  private onMessage(b: Buffer, pos: number, avail: number): number {
    const type = b[pos]!;
    const need = (n: number) => avail >= n;
    switch (type) {
      case ClientMsg.SetPixelFormat:
        if (!need(20)) return 0;
        this.conv = new PixelConverter(parsePixelFormat(b, pos + 4));
        // Pixels already sent stay in the old format on the client; nothing to redo (rfbproto 7.5.1).
        return 20;
      case ClientMsg.SetEncodings: {
        if (!need(4)) return 0;
        const count = b.readUInt16BE(pos + 2);
        if (count > MAX_ENCODINGS) throw new ProtocolError(`SetEncodings with ${count} encodings`);
        if (!need(4 + 4 * count)) return 0;
        const list: number[] = [];
        for (let i = 0; i < count; i++) list.push(b.readInt32BE(pos + 4 + 4 * i));
        this.setEncodings(list);
        return 4 + 4 * count;
      }
      case ClientMsg.FramebufferUpdateRequest:
        if (!need(10)) return 0;
        this.onUpdateRequest(b[pos + 1] !== 0, {
          x: b.readUInt16BE(pos + 2),
          y: b.readUInt16BE(pos + 4),
          w: b.readUInt16BE(pos + 6),
          h: b.readUInt16BE(pos + 8),
        });
        return 10;
      case ClientMsg.KeyEvent:
        if (!need(8)) return 0;
        this.keyboard.keysym(b.readUInt32BE(pos + 4), b[pos + 1] !== 0);
        return 8;
      case ClientMsg.PointerEvent: {
        if (!need(6)) return 0;
        const fb = this.host.framebuffer;
        this.pointer.event(b[pos + 1]!, b.readUInt16BE(pos + 2), b.readUInt16BE(pos + 4), fb.width, fb.height);
        return 6;
      }
      case ClientMsg.ClientCutText: {
        if (!need(8)) return 0;
        const len = b.readUInt32BE(pos + 4);
        // A negative s32 is the Extended Clipboard, which we do not offer: as garbage, it is too large.
        if (len > MAX_CUT_TEXT) throw new ProtocolError(`ClientCutText of ${len} bytes (limit ${MAX_CUT_TEXT})`);
        if (!need(8 + len)) return 0;
        this.host.cutText?.(b.subarray(pos + 8, pos + 8 + len).toString('latin1'));
        return 8 + len;
      }
      case ClientMsg.SetDesktopSize: {
        if (!this.encodings.has(Encoding.ExtendedDesktopSize)) throw new ProtocolError('SetDesktopSize without ExtendedDesktopSize');
        if (!need(8)) return 0;
        const screens = b[pos + 6]!;
        if (!need(8 + 16 * screens)) return 0;
        // The guest's display device owns the mode; a client cannot change it (status 1, prohibited).
        this.desktopSizeReply = { status: DesktopSizeStatus.Prohibited };
        this.schedule();
        return 8 + 16 * screens;
      }
      case ClientMsg.Qemu: {
        if (!need(2)) return 0;
        const sub = b[pos + 1]!;
        if (sub !== QemuSubMsg.ExtendedKeyEvent) throw new ProtocolError(`QEMU client message ${sub} is not supported`);
        if (!need(12)) return 0;
        const down = b.readUInt16BE(pos + 2) !== 0;
        const keysym = b.readUInt32BE(pos + 4);
        const keycode = b.readUInt32BE(pos + 8);
        if (!this.keyboard.scancode(keycode, down)) this.keyboard.keysym(keysym, down);
        return 12;
      }
      default:
        throw new ProtocolError(`unknown client message type ${type}`);
    }
  }

  private setEncodings(list: number[]): void {
    this.encodings = new Set(list);
    // The client's order is its preference; the first one we can produce wins.
    const compressed: number[] = ZStream.available ? [Encoding.Zrle, Encoding.Zlib] : [];
    this.preferred = list.find((e) => e === Encoding.Raw || compressed.includes(e)) ?? Encoding.Raw;
    const level = list.find((e) => e >= Encoding.CompressLevel0 && e <= Encoding.CompressLevel9);
    // A stream keeps the level it was made with; a later change applies to a new connection.
    if (level !== undefined) this.zlibLevel = level - Encoding.CompressLevel0;
    if (this.encodings.has(Encoding.QemuExtendedKeyEvent)) this.extKeyAckPending = true;
    if (this.encodings.has(Encoding.Cursor) && this.host.framebuffer.cursor) this.cursorPending = true;
  }

  private onUpdateRequest(incremental: boolean, area: Rect): void {
    const fb = this.host.framebuffer;
    const clipped = clipRect(area, fb.width, fb.height);
    if (!incremental) this.dirty.add(clipped);
    if (this.request) {
      const a = this.request.area;
      const x = Math.min(a.x, clipped.x);
      const y = Math.min(a.y, clipped.y);
      const union = { x, y, w: Math.max(a.x + a.w, clipped.x + clipped.w) - x, h: Math.max(a.y + a.h, clipped.y + clipped.h) - y };
      this.request = { incremental: this.request.incremental && incremental, area: union };
    } else {
      this.request = { incremental, area: clipped };
    }
    this.schedule();
  }

  // ---- output ----

  private schedule(): void {
    if (this.scheduled || this.phase !== 'normal' || !this.request) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      try {
        this.flushUpdate();
      } catch (e) {
        // An encoder bug must cost this client its connection, never the machine.
        this.close(`internal error while encoding: ${(e as Error).message}`);
      }
    });
  }

  /** Sends one FramebufferUpdate if a request waits and there is something to send. */
  flushUpdate(): void {
    if (this.phase !== 'normal' || !this.request) return;
    if (this.socket.writableLength > HIGH_WATER) return; // 'drain' reschedules
    const fb = this.host.framebuffer;
    const rects: { x: number; y: number; w: number; h: number; enc: number; body: ((w: ByteWriter) => void) | null }[] = [];

    if (this.resizePending) {
      // Alone in its update: everything after it is in the new size (rfbproto 7.8.2).
      this.resizePending = false;
      this.clientWidth = fb.width;
      this.clientHeight = fb.height;
      this.dirty.addAll();
      if (this.encodings.has(Encoding.ExtendedDesktopSize)) {
        rects.push({ x: DesktopSizeReason.Server, y: DesktopSizeStatus.Ok, w: fb.width, h: fb.height, enc: Encoding.ExtendedDesktopSize, body: (w) => this.screenLayout(w) });
      } else {
        rects.push({ x: 0, y: 0, w: fb.width, h: fb.height, enc: Encoding.DesktopSize, body: null });
      }
      this.writeUpdate(rects);
      return;
    }
    if (this.extKeyAckPending) {
      this.extKeyAckPending = false;
      rects.push({ x: 0, y: 0, w: 0, h: 0, enc: Encoding.QemuExtendedKeyEvent, body: null });
    }
    if (this.desktopSizeReply) {
      const { status } = this.desktopSizeReply;
      this.desktopSizeReply = null;
      rects.push({ x: DesktopSizeReason.ThisClient, y: status, w: fb.width, h: fb.height, enc: Encoding.ExtendedDesktopSize, body: (w) => this.screenLayout(w) });
    }
    if (this.pendingCopy) {
      const { src, dx, dy } = this.pendingCopy;
      this.pendingCopy = null;
      const dst = clipRect({ x: src.x + dx, y: src.y + dy, w: src.w, h: src.h }, this.clientWidth, this.clientHeight);
      if (dst.w === src.w && dst.h === src.h) {
        rects.push({ ...dst, enc: Encoding.CopyRect, body: (w) => w.u16(src.x).u16(src.y) });
      } else {
        this.dirty.add(dst);
      }
    }
    for (const r of this.dirty.take(this.request.area)) {
      const c = clipRect(r, this.clientWidth, this.clientHeight);
      if (c.w === 0 || c.h === 0) continue;
      rects.push({ ...c, enc: this.preferred, body: (w) => this.encodeRect(c, w) });
    }
    const cursor = fb.cursor;
    if (this.cursorPending) {
      this.cursorPending = false;
      if (cursor) {
        rects.push({ x: cursor.hotX, y: cursor.hotY, w: cursor.width, h: cursor.height, enc: Encoding.Cursor, body: (w) => encodeCursor(cursor, this.conv, w) });
      } else {
        // An empty cursor hides the pointer.
        rects.push({ x: 0, y: 0, w: 0, h: 0, enc: Encoding.Cursor, body: null });
      }
    }
    if (rects.length === 0 && this.request.incremental) return; // wait for damage
    this.writeUpdate(rects);
  }

  private writeUpdate(rects: { x: number; y: number; w: number; h: number; enc: number; body: ((w: ByteWriter) => void) | null }[]): void {
    const w = new ByteWriter(16 + rects.length * 16);
    w.u8(ServerMsg.FramebufferUpdate).u8(0).u16(rects.length);
    for (const r of rects) {
      w.u16(r.x).u16(r.y).u16(r.w).u16(r.h).s32(r.enc);
      r.body?.(w);
    }
    this.request = null;
    this.stats.updates++;
    this.stats.rects += rects.length;
    this.send(w.bytes.subarray(0, w.length));
  }

  private encodeRect(r: Rect, w: ByteWriter): void {
    const fb = this.host.framebuffer;
    switch (this.preferred) {
      case Encoding.Zrle:
        this.zrle ??= new ZrleEncoder(new ZStream(this.zlibLevel));
        this.zrle.encode(fb, r, this.conv, w);
        return;
      case Encoding.Zlib:
        this.zlib ??= new ZStream(this.zlibLevel);
        encodeZlib(fb, r, this.conv, this.zlib, w, this.scratch);
        return;
      default:
        encodeRaw(fb, r, this.conv, w);
    }
  }

  /** ExtendedDesktopSize body: one screen covering the framebuffer (rfbproto 7.8.3). */
  private screenLayout(w: ByteWriter): void {
    const fb = this.host.framebuffer;
    w.u8(1).u8(0).u8(0).u8(0);
    w.u32(0).u16(0).u16(0).u16(fb.width).u16(fb.height).u32(0);
  }

  /** Sends a Bell message (rfbproto 7.6.3). */
  bell(): void {
    if (this.phase === 'normal') this.send(Uint8Array.of(ServerMsg.Bell));
  }

  /** Sends ServerCutText (rfbproto 7.6.4); Latin-1 as the spec says, others replaced. */
  serverCutText(text: string): void {
    if (this.phase !== 'normal') return;
    const bytes = Buffer.from(text.replace(/[^\x00-\xff]/g, '?'), 'latin1');
    this.send(new ByteWriter(8 + bytes.length).u8(ServerMsg.ServerCutText).u8(0).u8(0).u8(0).u32(bytes.length).bytesOf(bytes).take());
  }

  private send(bytes: Uint8Array): void {
    if (this.socket.destroyed) return;
    this.stats.bytesSent += bytes.length;
    this.socket.write(bytes);
  }

  private supportsResize(): boolean {
    return this.encodings.has(Encoding.DesktopSize) || this.encodings.has(Encoding.ExtendedDesktopSize);
  }
}

class ProtocolError extends Error {}

function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}
