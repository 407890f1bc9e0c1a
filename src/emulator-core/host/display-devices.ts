// `viv run`'s display and input: -device virtio-gpu-device / virtio-keyboard-device /
// virtio-mouse-device / virtio-tablet-device (QEMU's names and properties) and -vnc (QEMU's
// syntax, display/vnc-options.ts). The devices go into virtio-mmio slots with the other
// -device's; the VNC server shows the GPU's framebuffer and feeds the input devices.
import { Framebuffer } from '../display/framebuffer';
import type { InputSink } from '../display/input';
import { type ByteMessagePort, messagePortStream } from '../display/rfb/message-port-stream';
import { VncServer, type VncAddresses } from '../display/rfb/server';
import { VncOptionError, parseVncOption, type VncConfig } from '../display/vnc-options';
import { writeScreendump } from '../display/screendump';
import type { DisplayControl, VncSocketInfo } from '../monitor/qmp/display-commands';
import { VirtioGpu } from '../devices/virtio/gpu';
import { VirtioInput, type VirtioInputKind } from '../devices/virtio/input';
import type { VirtioDevice } from '../devices/virtio/virtio-device';

export class DisplayOptionError extends Error {
  override readonly name = 'DisplayOptionError';
}

export type DisplayDeviceSpec = { kind: 'gpu'; xres: number; yres: number; edid: boolean } | { kind: 'input'; input: VirtioInputKind };

export interface DisplayConfig {
  /** In command-line order. */
  devices: DisplayDeviceSpec[];
  vnc?: VncConfig;
}

export const emptyDisplayConfig = (): DisplayConfig => ({ devices: [] });

const INPUTS: Record<string, VirtioInputKind> = {
  'virtio-keyboard-device': 'keyboard',
  'virtio-mouse-device': 'mouse',
  'virtio-tablet-device': 'tablet',
};

function kv(text: string): Map<string, string> {
  const out = new Map<string, string>();
  text.split(',').forEach((p, i) => {
    const eq = p.indexOf('=');
    if (i === 0) out.set('driver', p);
    else if (eq < 0) out.set(p, 'on');
    else out.set(p.slice(0, eq), p.slice(eq + 1));
  });
  return out;
}

function onOff(driver: string, key: string, v: string): boolean {
  if (v === 'on' || v === 'true' || v === 'yes') return true;
  if (v === 'off' || v === 'false' || v === 'no') return false;
  throw new DisplayOptionError(`-device ${driver}: Parameter '${key}' expects 'on' or 'off'`);
}

function dimension(driver: string, key: string, v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 16 || n > 16384) throw new DisplayOptionError(`-device ${driver}: ${key} must be 16..16384, got '${v}'`);
  return n;
}

/** -device VALUE: true if it named one of our devices (added), false if it is someone else's. */
export function addDisplayDevice(cfg: DisplayConfig, value: string): boolean {
  const p = kv(value);
  const driver = p.get('driver')!;
  if (/^virtio-(gpu|keyboard|mouse|tablet)-pci$/.test(driver) || driver === 'virtio-vga') {
    const instead = driver === 'virtio-vga' ? 'virtio-gpu-device' : driver.replace(/-pci$/, '-device');
    throw new DisplayOptionError(`-device ${driver}: virt has no PCI bus here; use ${instead}`);
  }
  const allowed = ['driver', 'id', 'bus'];
  if (driver === 'virtio-gpu-device') {
    const spec: DisplayDeviceSpec = { kind: 'gpu', xres: 1280, yres: 800, edid: true };
    for (const [k, v] of p) {
      if (k === 'xres') spec.xres = dimension(driver, k, v);
      else if (k === 'yres') spec.yres = dimension(driver, k, v);
      else if (k === 'edid') spec.edid = onOff(driver, k, v);
      else if (k === 'max_outputs') {
        if (v !== '1') throw new DisplayOptionError(`-device ${driver}: max_outputs=${v} is not supported (one scanout)`);
      } else if (!allowed.includes(k)) throw new DisplayOptionError(`-device ${driver}: Property '${k}' not found`);
    }
    if (cfg.devices.some((d) => d.kind === 'gpu')) throw new DisplayOptionError(`-device ${driver}: only one display device`);
    cfg.devices.push(spec);
    return true;
  }
  const input = INPUTS[driver];
  if (input) {
    for (const k of p.keys()) if (!allowed.includes(k)) throw new DisplayOptionError(`-device ${driver}: Property '${k}' not found`);
    cfg.devices.push({ kind: 'input', input });
    return true;
  }
  return false;
}

/** -vnc VALUE. */
export function setVnc(cfg: DisplayConfig, value: string): void {
  if (cfg.vnc) throw new DisplayOptionError('-vnc: only one VNC display');
  try {
    cfg.vnc = parseVncOption(value);
  } catch (e) {
    if (e instanceof VncOptionError) throw new DisplayOptionError(e.message);
    throw e;
  }
}

/** The virtio devices the options ask for, in command-line order (fresh instances). */
export function createDisplayDevices(cfg: DisplayConfig): VirtioDevice[] {
  const fb = new Framebuffer(640, 480);
  return cfg.devices.map((d) => (d.kind === 'gpu' ? new VirtioGpu(fb, { width: d.xres, height: d.yres, edid: d.edid }) : new VirtioInput(d.input)));
}

/** Every event to each device; `wake` after each report so a guest idle in WFI takes it now. */
export function fanOutInput(sinks: InputSink[], wake: () => void): InputSink {
  return {
    key: (code, down) => sinks.forEach((s) => s.key(code, down)),
    pointerMove: (x, y, w, h) => sinks.forEach((s) => s.pointerMove(x, y, w, h)),
    button: (code, down) => sinks.forEach((s) => s.button(code, down)),
    scroll: (v, h) => sinks.forEach((s) => s.scroll(v, h)),
    sync: () => {
      sinks.forEach((s) => s.sync());
      wake();
    },
  };
}

export interface RunningDisplay {
  framebuffer: Framebuffer;
  vnc: VncServer | null;
  addresses: VncAddresses;
  /** What QMP's screendump and set_password act on. */
  control: DisplayControl;
  close(): Promise<void>;
}

/**
 * The pages that may open the `-vnc ...,websocket=` listener, comma-separated exact origins. The
 * app sets it for its display window (with a VNC password from QMP set_password); unset, any
 * client may try, as with QEMU. An environment variable, not an option, so the same argv runs
 * QEMU as the core host.
 */
export const WEBSOCKET_ORIGINS_ENV = 'VIVARIUM_VNC_WEBSOCKET_ORIGINS';

export function websocketOrigins(env: NodeJS.ProcessEnv): string[] | undefined {
  const list = env[WEBSOCKET_ORIGINS_ENV]?.split(',').map((o) => o.trim()).filter(Boolean);
  return list?.length ? list : undefined;
}

/**
 * The message main sends the core host in Electron (a utility process) with one end of a
 * MessageChannel in its ports: RFB for one display window, straight to the VNC server. Main's
 * supervisor sends the same string.
 */
export const DISPLAY_PORT_MESSAGE = 'vivarium:display-port';

/** Electron's `process.parentPort` in a utility process (absent under Node's fork). */
export interface ParentPort {
  on(event: 'message', listener: (event: { data: unknown; ports: ByteMessagePort[] }) => void): unknown;
}

/** Serves RFB on every display port main hands over; without a VNC server the port is closed. */
export function acceptDisplayPorts(parent: ParentPort | undefined, vnc: VncServer | null): void {
  parent?.on('message', ({ data, ports }) => {
    if ((data as { type?: unknown } | null)?.type !== DISPLAY_PORT_MESSAGE) return;
    for (const port of ports ?? []) {
      if (vnc) vnc.attach(messagePortStream(port), 'app window');
      else port.close();
    }
  });
}

const familyOf = (host: string): VncSocketInfo['family'] => (host.includes(':') ? 'ipv6' : 'ipv4');

/** The bound listeners as QMP's query-vnc-servers lists them. */
function listenerInfo(a: VncAddresses): VncSocketInfo[] {
  const out: VncSocketInfo[] = [];
  if (a.tcp) out.push({ host: a.tcp.host, service: String(a.tcp.port), family: familyOf(a.tcp.host), websocket: false });
  if (a.unix) out.push({ host: '', service: a.unix, family: 'unix', websocket: false });
  if (a.websocket) out.push({ host: a.websocket.host, service: String(a.websocket.port), family: familyOf(a.websocket.host), websocket: true });
  return out;
}

/** A client from its connection's peer name ("HOST:PORT", "ws:HOST:PORT", "unix", "app window"). */
function peerInfo(peer: string): VncSocketInfo {
  const websocket = peer.startsWith('ws:');
  const rest = websocket ? peer.slice(3) : peer;
  const colon = rest.lastIndexOf(':');
  if (colon < 0) return { host: '', service: rest, family: 'unix', websocket };
  const host = rest.slice(0, colon).replace(/^::ffff:/, '');
  return { host, service: rest.slice(colon + 1), family: familyOf(host), websocket };
}

/**
 * Starts the VNC server (when -vnc was given) on the machine's display devices: the GPU's
 * framebuffer (a blank one without a GPU, as QEMU shows an empty console) and all input devices.
 */
export async function startDisplay(
  cfg: DisplayConfig,
  devices: readonly (VirtioDevice | undefined)[],
  wake: () => void,
  name?: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningDisplay> {
  const gpu = devices.find((d): d is VirtioGpu => d instanceof VirtioGpu);
  const inputs = devices.filter((d): d is VirtioInput => d instanceof VirtioInput);
  const framebuffer = gpu?.framebuffer ?? new Framebuffer(640, 480);
  const vnc = cfg.vnc ? new VncServer({ framebuffer, input: fanOutInput(inputs, wake), name: name ?? 'QEMU', websocketOrigins: websocketOrigins(env) }) : null;
  const addresses = vnc && cfg.vnc ? await vnc.listen(cfg.vnc) : {};
  acceptDisplayPorts((process as { parentPort?: ParentPort }).parentPort, vnc);
  const control: DisplayControl = {
    screendump: (file, format) => writeScreendump(framebuffer, file, format),
    vnc: () => ({ enabled: vnc !== null, passwordAuth: cfg.vnc?.password ?? false }),
    setVncPassword: (password) => vnc?.setPassword(password),
    vncSockets: () => ({ servers: listenerInfo(addresses), clients: (vnc?.clients ?? []).map((c) => peerInfo(c.peer)) }),
  };
  return { framebuffer, vnc, addresses, control, close: async () => vnc?.close() };
}
