// The `-vnc` option, with QEMU's syntax (qemu-options.hx, "-vnc display[,option[,option[,...]]]"):
//   :N | HOST:N | [IPV6]:N | unix:PATH | none, then options
//   password[=on|off], websocket[=on|PORT|HOST:PORT], share=allow-exclusive|force-shared|ignore,
//   to=L, connections=N, lossy, non-adaptive, ipv4, ipv6, key-delay-ms=N.
// One deliberate difference: QEMU binds every interface for `:N`; we bind loopback unless a host
// is named (`0.0.0.0:N` for all), because a VM's screen and keyboard are not for the network by
// default.

export type VncListen =
  | { kind: 'tcp'; host: string; port: number; display: number; lastPort: number }
  | { kind: 'unix'; path: string };

export type SharePolicy = 'allow-exclusive' | 'force-shared' | 'ignore';

export interface VncConfig {
  /** Where RFB listens; null for `none` (clients attach only through the app or QMP). */
  listen: VncListen | null;
  /** An extra listener speaking RFB inside WebSocket frames (noVNC), or null. */
  websocket: { host: string; port: number } | null;
  /** VNC Authentication; QEMU refuses every client until a password is set (QMP set_password). */
  password: boolean;
  share: SharePolicy;
  /** Most clients at once (QEMU's default is 32). */
  connections: number;
  lossy: boolean;
  nonAdaptive: boolean;
  keyDelayMs: number;
}

export class VncOptionError extends Error {}

const VNC_BASE_PORT = 5900;
const WEBSOCKET_BASE_PORT = 5700;
const LOOPBACK = '127.0.0.1';

/** Options QEMU has that we recognise but do not implement: named in the error rather than "unknown". */
const UNSUPPORTED = new Set(['reverse', 'tls-creds', 'tls-authz', 'sasl', 'sasl-authz', 'acl', 'password-secret', 'audiodev', 'power-control']);

export function parseVncOption(text: string): VncConfig {
  const parts = splitOptions(text);
  const display = parts.shift() ?? '';
  const cfg: VncConfig = {
    listen: null,
    websocket: null,
    password: false,
    share: 'allow-exclusive',
    connections: 32,
    lossy: false,
    nonAdaptive: false,
    keyDelayMs: 10,
  };
  let displayNumber = 0;
  let hostForWebsocket = LOOPBACK;
  let to: number | null = null;
  let ipv6 = false;
  let hostGiven = false;

  if (display === 'none') {
    cfg.listen = null;
  } else if (display.startsWith('unix:')) {
    const path = display.slice(5);
    if (!path) throw new VncOptionError('-vnc unix: needs a socket path');
    cfg.listen = { kind: 'unix', path };
  } else {
    const { host, port } = splitHostPort(display, '-vnc display');
    displayNumber = parseInteger(port, 'display number', 0, 65535 - VNC_BASE_PORT);
    hostGiven = host !== undefined;
    hostForWebsocket = host ?? LOOPBACK;
    cfg.listen = { kind: 'tcp', host: hostForWebsocket, port: VNC_BASE_PORT + displayNumber, display: displayNumber, lastPort: VNC_BASE_PORT + displayNumber };
  }

  let websocketValue: string | null = null;
  for (const part of parts) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? null : part.slice(eq + 1);
    switch (key) {
      case 'password':
        cfg.password = parseBool(value, key);
        break;
      case 'lossy':
        cfg.lossy = parseBool(value, key);
        break;
      case 'non-adaptive':
        cfg.nonAdaptive = parseBool(value, key);
        break;
      case 'ipv4':
        parseBool(value, key);
        break;
      case 'ipv6':
        ipv6 = parseBool(value, key);
        break;
      case 'websocket':
        websocketValue = value ?? 'on';
        break;
      case 'share':
        if (value !== 'allow-exclusive' && value !== 'force-shared' && value !== 'ignore') {
          throw new VncOptionError(`-vnc share=${value ?? ''}: expected allow-exclusive, force-shared or ignore`);
        }
        cfg.share = value;
        break;
      case 'to':
        to = parseInteger(value, 'to', 0, 65535 - VNC_BASE_PORT);
        break;
      case 'connections':
        cfg.connections = parseInteger(value, 'connections', 1, 1024);
        break;
      case 'key-delay-ms':
        cfg.keyDelayMs = parseInteger(value, 'key-delay-ms', 0, 10_000);
        break;
      default:
        if (UNSUPPORTED.has(key)) {
          if (key === 'reverse' || key === 'sasl' || key === 'power-control') {
            if (!parseBool(value, key)) break; // `reverse=off` asks for nothing
          }
          throw new VncOptionError(`-vnc option '${key}' is not supported`);
        }
        throw new VncOptionError(`-vnc: unknown option '${key}'`);
    }
  }

  if (cfg.listen?.kind === 'tcp') {
    // `:N,ipv6` asks for the IPv6 loopback instead of the IPv4 one.
    if (ipv6 && !hostGiven) cfg.listen.host = '::1';
    if (to !== null) {
      if (to < displayNumber) throw new VncOptionError(`-vnc to=${to} is below display ${displayNumber}`);
      cfg.listen.lastPort = VNC_BASE_PORT + to;
    }
    hostForWebsocket = cfg.listen.host;
  } else if (to !== null) {
    throw new VncOptionError('-vnc to= needs a TCP display');
  }

  if (websocketValue !== null && websocketValue !== 'off') {
    if (websocketValue === 'on') {
      if (cfg.listen?.kind !== 'tcp') throw new VncOptionError('-vnc websocket without a port needs a TCP display (port 5700+N)');
      cfg.websocket = { host: hostForWebsocket, port: WEBSOCKET_BASE_PORT + displayNumber };
    } else {
      const { host, port } = splitHostPort(websocketValue, '-vnc websocket');
      // Port 0: any free port, as QEMU 7.2 takes it (query-vnc-servers then names the port bound).
      cfg.websocket = { host: host || hostForWebsocket, port: parseInteger(port, 'websocket port', 0, 65535) };
    }
  }
  return cfg;
}

/** Splits on commas; QEMU escapes a comma in a value by doubling it (",,"). */
function splitOptions(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === ',') {
      if (text[i + 1] === ',') {
        cur += ',';
        i++;
        continue;
      }
      out.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  out.push(cur);
  return out;
}

/** "HOST:PORT", "[V6]:PORT" or ":PORT"; host undefined when empty. */
function splitHostPort(s: string, what: string): { host: string | undefined; port: string } {
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0 || s[end + 1] !== ':') throw new VncOptionError(`${what} '${s}': expected [ADDRESS]:N`);
    return { host: s.slice(1, end), port: s.slice(end + 2) };
  }
  const colon = s.lastIndexOf(':');
  if (colon < 0) {
    // websocket=PORT has no host part.
    if (what === '-vnc websocket') return { host: undefined, port: s };
    throw new VncOptionError(`${what} '${s}': expected [HOST]:N, unix:PATH or none`);
  }
  const host = s.slice(0, colon);
  return { host: host || undefined, port: s.slice(colon + 1) };
}

function parseInteger(value: string | null, what: string, min: number, max: number): number {
  if (value === null || !/^\d+$/.test(value)) throw new VncOptionError(`-vnc ${what}: '${value ?? ''}' is not a number`);
  const n = Number(value);
  if (n < min || n > max) throw new VncOptionError(`-vnc ${what}: ${n} is outside ${min}..${max}`);
  return n;
}

/** QEMU's boolean option values; a bare flag means on. */
function parseBool(value: string | null, key: string): boolean {
  if (value === null || value === 'on' || value === 'yes' || value === 'true') return true;
  if (value === 'off' || value === 'no' || value === 'false') return false;
  throw new VncOptionError(`-vnc ${key}=${value}: expected on or off`);
}
