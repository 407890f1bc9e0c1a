// RFB protocol numbers (rfbproto, "The RFB Protocol" 3.8 and the community extensions).

export const SERVER_VERSION = 'RFB 003.008\n';

export const Security = {
  Invalid: 0,
  None: 1,
  VncAuth: 2,
} as const;

export const SecurityResult = { Ok: 0, Failed: 1 } as const;

/** Client-to-server message types (rfbproto 7.5). */
export const ClientMsg = {
  SetPixelFormat: 0,
  SetEncodings: 2,
  FramebufferUpdateRequest: 3,
  KeyEvent: 4,
  PointerEvent: 5,
  ClientCutText: 6,
  SetDesktopSize: 251,
  Qemu: 255,
} as const;

/** QEMU client submessages (message type 255). */
export const QemuSubMsg = { ExtendedKeyEvent: 0 } as const;

/** Server-to-client message types (rfbproto 7.6). */
export const ServerMsg = {
  FramebufferUpdate: 0,
  SetColourMapEntries: 1,
  Bell: 2,
  ServerCutText: 3,
} as const;

/** Encodings and pseudo-encodings (rfbproto 7.7, 7.8). */
export const Encoding = {
  Raw: 0,
  CopyRect: 1,
  Zlib: 6,
  Zrle: 16,
  DesktopSize: -223,
  Cursor: -239,
  QemuExtendedKeyEvent: -258,
  ExtendedDesktopSize: -308,
  /** Compression level 0..9 (the TightVNC pseudo-encodings -256..-247): our zlib level. */
  CompressLevel0: -256,
  CompressLevel9: -247,
} as const;

/**
 * zlib level when the client names none. Measured (bench/display-rfb.mjs, 1024x768 console):
 * ZRLE is the same size at 1 and 6 (its tiles are already run-length coded) and Zlib is ~10x
 * faster at 1 for 1.7x the bytes.
 */
export const DEFAULT_ZLIB_LEVEL = 1;

/** ExtendedDesktopSize status codes (rfbproto 7.8.3). */
export const DesktopSizeStatus = {
  Ok: 0,
  Prohibited: 1,
} as const;

/** ExtendedDesktopSize reasons: the rectangle's x (rfbproto 7.8.3). */
export const DesktopSizeReason = {
  Server: 0,
  ThisClient: 1,
  OtherClient: 2,
} as const;

/** QEMU disconnects a client whose cut text is larger than 1 MiB (ui/vnc.c); so do we. */
export const MAX_CUT_TEXT = 1 << 20;
/** rfbproto allows 65535 encodings in SetEncodings; real clients send a few dozen. */
export const MAX_ENCODINGS = 1024;
