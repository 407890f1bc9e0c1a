// `viv run`'s command line: qemu-system-riscv64's option names and value syntax for what we
// implement, parsed by a pure function into a typed config. Anything we do not implement, and any
// bad value, is refused with a one-line error naming the option (QEMU's own wording where it has
// one), never ignored. The table below grows with the emulator (-drive, -netdev, -device, -qmp,
// -loadvm come with their devices): one entry per option, its argument, and what it sets.

import { addNetdev, addNetDevice, addNic, emptyNetConfig, finishNetConfig, NetOptionError, type NetConfig } from './net-options';

import { addDisplayDevice, DisplayOptionError, emptyDisplayConfig, setVnc, type DisplayConfig } from './display-devices';

import { addBlkDevice, addDrive, DriveOptionError, emptyDriveConfig, finishDriveConfig, type DriveConfig } from './drive-options';

export const MiB = 1024 * 1024;
/** Largest -m: guest RAM shares one 4 GiB WebAssembly memory with the ROM and the harts' state. */
export const MAX_RAM_MIB = 4032;
export const MAX_SMP = 8;
/** virtio-mmio slots on virt (QEMU's VIRTIO_COUNT): the most NICs there can be. */
const VIRTIO_SLOTS = 8;

export type SerialSpec =
  | { kind: 'stdio'; mux: boolean }
  | { kind: 'null' }
  | { kind: 'unix'; path: string; server: boolean; wait: boolean }
  | { kind: 'tcp'; host: string; port: number; server: boolean; wait: boolean };

/** -qmp: the QMP monitor's listening socket (server=on, wait=off: the VM does not wait for a client). */
export type QmpSpec = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

export type BiosSpec = { kind: 'default' } | { kind: 'none' } | { kind: 'file'; path: string };

export interface RunConfig {
  machine: 'virt';
  /** -machine dumpdtb=FILE: write the device tree and exit. */
  dumpDtb?: string;
  ramBytes: number;
  smp: number;
  kernel?: string;
  initrd?: string;
  append?: string;
  bios: BiosSpec;
  nographic: boolean;
  display: 'none' | 'default';
  serial: SerialSpec;
  icountShift?: number;
  noReboot: boolean;
  qmp?: QmpSpec;
  /** -device virtio-gpu/keyboard/mouse/tablet-device and -vnc (display-devices.ts). */
  graphics: DisplayConfig;
  /** -netdev, -nic and NIC -device options (net-options.ts). */
  net: NetConfig;
  /** -drive, -snapshot and -device virtio-blk-device (drive-options.ts). */
  drives: DriveConfig;
  /** -loadvm TAG: start from this snapshot (host/vm-snapshots.ts). */
  loadvm?: string;
  /** -monitor stdio: the human monitor on stdin/stdout (host/monitor-stdio.ts). */
  monitor?: 'stdio';
  /** -accel tcg (translate hot code to WebAssembly) or tci (interpret only), as QEMU's. */
  accel: 'tcg' | 'tci';
  /** -d items: what to log (to stderr). */
  log: ReadonlySet<LogItem>;
}

/** -d items we implement: QEMU's `op` (translated IR) and `out_asm` (generated code), and our counters. */
export const LOG_ITEMS = ['op', 'out_asm', 'tcg-stats'] as const;
export type LogItem = (typeof LOG_ITEMS)[number];

export class OptionError extends Error {
  override readonly name = 'OptionError';
}

const defaults = (): RunConfig & { serialGiven: boolean; accelGiven: boolean } => ({
  machine: 'virt',
  ramBytes: 128 * MiB, // QEMU virt's default -m
  smp: 1,
  bios: { kind: 'default' },
  nographic: false,
  display: 'default',
  serial: { kind: 'stdio', mux: false },
  noReboot: false,
  serialGiven: false,
  graphics: emptyDisplayConfig(),
  net: emptyNetConfig(),
  drives: emptyDriveConfig(),
  // QEMU's default: translate (tcg); tci is the interpreter alone.
  accel: 'tcg',
  accelGiven: false,
  log: new Set<LogItem>(),
});

type Draft = ReturnType<typeof defaults>;

interface OptionSpec {
  /** Takes an argument (the next word). */
  arg: boolean;
  apply(c: Draft, value: string, name: string): void;
}

/** Options QEMU has that we do not implement yet: refused by name, not as unknown. */
const NOT_IMPLEMENTED = [
  'net', 'S', 's', 'gdb',
  'cpu', 'rtc', 'chardev', 'object', 'global', 'name', 'dtb', 'boot', 'fw_cfg',
  'daemonize', 'pidfile', 'D', 'trace', 'smbios', 'numa', 'usb', 'usbdevice', 'audiodev',
  'blockdev', 'fsdev', 'virtfs', 'incoming', 'overcommit', 'mem-path', 'mem-prealloc', 'k',
  'enable-kvm', 'semihosting', 'semihosting-config', 'sandbox', 'runas', 'msg', 'plugin', 'parallel',
  'mon', 'qtest', 'watchdog-action', 'action', 'L', 'bios-dir', 'sd', 'mtdblock', 'pflash', 'hda',
  'hdb', 'cdrom', 'kernel-cmdline', 'readconfig', 'writeconfig', 'nodefaults', 'no-shutdown',
  'no-user-config', 'compat', 'icount-align', 'display-sdl', 'spice', 'vga', 'full-screen',
];

/** QEMU's key=value,key=value lists ("a,,b" is a literal comma); a leading bare value is `implied`. */
export function parseKeyValues(text: string, implied?: string): Map<string, string> {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === ',') {
      if (text[i + 1] === ',') {
        cur += ',';
        i++;
        continue;
      }
      parts.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  parts.push(cur);
  const out = new Map<string, string>();
  parts.forEach((p, i) => {
    const eq = p.indexOf('=');
    if (eq < 0) {
      if (i === 0 && implied) out.set(implied, p);
      else out.set(p, 'on'); // "server" means server=on in QEMU's legacy syntax
    } else {
      out.set(p.slice(0, eq), p.slice(eq + 1));
    }
  });
  return out;
}

function onOff(name: string, key: string, v: string): boolean {
  if (v === 'on' || v === 'yes' || v === 'true') return true;
  if (v === 'off' || v === 'no' || v === 'false') return false;
  throw new OptionError(`-${name}: Parameter '${key}' expects 'on' or 'off'`);
}

function refuseExtraKeys(name: string, kv: Map<string, string>, allowed: string[]): void {
  for (const k of kv.keys()) {
    if (!allowed.includes(k)) throw new OptionError(`-${name}: Invalid parameter '${k}'`);
  }
}

/** -m: a size in MiB by default, or with a K/M/G/T suffix (QEMU's qemu_strtosz_MiB). */
export function parseMemSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKmMgGtT]?)[bB]?$/.exec(text.trim());
  if (!m) throw new OptionError(`-m: invalid size '${text}' (a number, optionally with K, M, G or T)`);
  const unit = { '': MiB, k: 1024, m: MiB, g: 1024 * MiB, t: 1024 * 1024 * MiB }[m[2]!.toLowerCase()]!;
  const bytes = Math.round(Number(m[1]) * unit);
  if (bytes % 4096 !== 0 || bytes === 0) throw new OptionError(`-m: ${text} is not a non-zero multiple of 4 KiB`);
  if (bytes > MAX_RAM_MIB * MiB) throw new OptionError(`-m: ${text} is more than this emulator's maximum of ${MAX_RAM_MIB}M`);
  return bytes;
}

function parseQmp(value: string): QmpSpec {
  const spec = value.startsWith('unix:') || value.startsWith('tcp:') ? parseSerial(value, 'qmp') : undefined;
  if (!spec || (spec.kind !== 'unix' && spec.kind !== 'tcp')) {
    throw new OptionError(`-qmp: '${value}' is not supported (unix:PATH,server=on,wait=off or tcp:HOST:PORT,server=on,wait=off)`);
  }
  if (!spec.server) throw new OptionError('-qmp: only server=on is implemented');
  if (spec.wait) throw new OptionError('-qmp: wait=on is not implemented (use wait=off)');
  return spec.kind === 'unix' ? { kind: 'unix', path: spec.path } : { kind: 'tcp', host: spec.host, port: spec.port };
}

function parseSerial(value: string, option = 'serial'): SerialSpec {
  if (value === 'stdio') return { kind: 'stdio', mux: false };
  if (value === 'mon:stdio') return { kind: 'stdio', mux: true };
  if (value === 'null' || value === 'none') return { kind: 'null' };
  const colon = value.indexOf(':');
  const backend = colon < 0 ? value : value.slice(0, colon);
  const rest = colon < 0 ? '' : value.slice(colon + 1);
  if (backend === 'unix' || backend === 'tcp') {
    const kv = parseKeyValues(rest, 'address');
    refuseExtraKeys(option, kv, ['address', 'server', 'wait', 'nowait', 'nodelay']);
    const server = onOff(option, 'server', kv.get('server') ?? 'off');
    const wait = onOff(option, 'wait', kv.get('wait') ?? (kv.has('nowait') ? 'off' : 'on'));
    const address = kv.get('address') ?? '';
    if (backend === 'unix') {
      if (!address) throw new OptionError(`-${option}: unix: needs a socket path`);
      return { kind: 'unix', path: address, server, wait };
    }
    const m = /^(.*):(\d+)$/.exec(address);
    const port = m ? Number(m[2]) : NaN;
    if (!m || port < 1 || port > 65535) throw new OptionError(`-${option}: tcp: needs host:port, got '${address}'`);
    return { kind: 'tcp', host: m[1] || '127.0.0.1', port, server, wait };
  }
  throw new OptionError(`-serial: '${value}' is not supported (stdio, mon:stdio, null, unix:PATH[,server=on,wait=off], tcp:HOST:PORT[,server=on,wait=off])`);
}

const OPTIONS: Record<string, OptionSpec> = {
  M: { arg: true, apply: (c, v, n) => applyMachine(c, v, n) },
  machine: { arg: true, apply: (c, v, n) => applyMachine(c, v, n) },
  m: {
    arg: true,
    apply: (c, v) => {
      const kv = parseKeyValues(v, 'size');
      refuseExtraKeys('m', kv, ['size']);
      c.ramBytes = parseMemSize(kv.get('size') ?? '');
    },
  },
  smp: {
    arg: true,
    apply: (c, v) => {
      const kv = parseKeyValues(v, 'cpus');
      refuseExtraKeys('smp', kv, ['cpus', 'maxcpus']);
      const n = Number(kv.get('cpus'));
      if (!Number.isInteger(n) || n < 1 || n > MAX_SMP) throw new OptionError(`-smp: cpus must be 1..${MAX_SMP}, got '${kv.get('cpus')}'`);
      if (kv.has('maxcpus') && Number(kv.get('maxcpus')) !== n) throw new OptionError('-smp: maxcpus other than cpus (hotplug) is not supported');
      c.smp = n;
    },
  },
  kernel: { arg: true, apply: (c, v) => void (c.kernel = nonEmpty('kernel', v)) },
  initrd: { arg: true, apply: (c, v) => void (c.initrd = nonEmpty('initrd', v)) },
  append: { arg: true, apply: (c, v) => void (c.append = v) },
  bios: {
    arg: true,
    apply: (c, v) => {
      c.bios = v === 'default' ? { kind: 'default' } : v === 'none' ? { kind: 'none' } : { kind: 'file', path: nonEmpty('bios', v) };
    },
  },
  nographic: { arg: false, apply: (c) => void (c.nographic = true) },
  display: {
    arg: true,
    apply: (c, v) => {
      if (parseKeyValues(v, 'type').get('type') !== 'none') throw new OptionError(`-display: '${v}' is not supported (only none; the app shows displays over VNC)`);
      c.display = 'none';
    },
  },
  qmp: {
    arg: true,
    apply: (c, v) => {
      if (c.qmp) throw new OptionError('-qmp: only one QMP monitor');
      c.qmp = parseQmp(v);
    },
  },
  serial: {
    arg: true,
    apply: (c, v) => {
      if (c.serialGiven) throw new OptionError('-serial: only one serial port (virt has one UART)');
      c.serial = parseSerial(v);
      c.serialGiven = true;
    },
  },
  icount: {
    arg: true,
    apply: (c, v) => {
      const kv = parseKeyValues(v, 'shift');
      refuseExtraKeys('icount', kv, ['shift', 'sleep']);
      const shift = kv.get('shift');
      if (shift === 'auto') throw new OptionError("-icount: shift=auto is not supported (give a number 0..10)");
      const n = Number(shift);
      if (!/^\d+$/.test(shift ?? '') || n > 10) throw new OptionError(`-icount: shift must be 0..10, got '${shift}'`);
      // We always skip idle time (QEMU's sleep=off); sleep=on would make runs depend on the host.
      if (kv.has('sleep') && onOff('icount', 'sleep', kv.get('sleep')!)) throw new OptionError('-icount: sleep=on is not supported (idle time is skipped, as with sleep=off)');
      c.icountShift = n;
    },
  },
  accel: {
    arg: true,
    apply: (c, v) => {
      if (c.accelGiven) throw new OptionError('-accel: only one accelerator (tcg or tci)');
      const kv = parseKeyValues(v, 'accel');
      const name = kv.get('accel');
      if (name !== 'tcg' && name !== 'tci') throw new OptionError(`-accel: '${name}' is not supported (tcg or tci; there is no hardware acceleration)`);
      refuseExtraKeys('accel', kv, ['accel', 'thread']);
      if (kv.has('thread') && kv.get('thread') !== 'single') throw new OptionError(`-accel: thread=${kv.get('thread')} is not supported (harts run in one thread: thread=single)`);
      c.accel = name;
      c.accelGiven = true;
    },
  },
  d: {
    arg: true,
    apply: (c, v) => {
      const items = new Set(c.log);
      for (const item of v.split(',')) {
        if (!(LOG_ITEMS as readonly string[]).includes(item)) throw new OptionError(`-d: log item '${item}' is not supported (${LOG_ITEMS.join(', ')})`);
        items.add(item as LogItem);
      }
      c.log = items;
    },
  },
  'no-reboot': { arg: false, apply: (c) => void (c.noReboot = true) },
  loadvm: { arg: true, apply: (c, v) => void (c.loadvm = nonEmpty('loadvm', v)) },
  monitor: {
    arg: true,
    apply: (c, v) => {
      if (v === 'none' || v === 'null') return;
      if (v !== 'stdio') throw new OptionError(`-monitor: '${v}' is not supported (stdio or none; QMP has -qmp)`);
      c.monitor = 'stdio';
    },
  },
  vnc: { arg: true, apply: (c, v) => displayOption(() => setVnc(c.graphics, v)) },
  // Networking (net-options.ts): backends, NICs, and both at once.
  netdev: { arg: true, apply: (c, v) => netOption(() => addNetdev(c.net, v)) },
  nic: { arg: true, apply: (c, v) => netOption(() => addNic(c.net, v)) },
  // Disks (drive-options.ts).
  drive: { arg: true, apply: (c, v) => void driveOption(() => addDrive(c.drives, v)) },
  snapshot: { arg: false, apply: (c) => void (c.drives.snapshotAll = true) },
  device: {
    arg: true,
    apply: (c, v) => {
      if (driveOption(() => addBlkDevice(c.drives, v))) return;
      if (displayOption(() => addDisplayDevice(c.graphics, v))) return;
      if (!netOption(() => addNetDevice(c.net, v))) throw new OptionError(`-device ${parseKeyValues(v, 'driver').get('driver')}: not implemented yet`);
    },
  },
};

function netOption<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof NetOptionError) throw new OptionError(e.message);
    throw e;
  }
}

function driveOption<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof DriveOptionError) throw new OptionError(e.message);
    throw e;
  }
}

function displayOption<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof DisplayOptionError) throw new OptionError(e.message);
    throw e;
  }
}

function nonEmpty(name: string, v: string): string {
  if (v === '') throw new OptionError(`-${name}: needs a file name`);
  return v;
}

function applyMachine(c: Draft, v: string, name: string): void {
  const kv = parseKeyValues(v, 'type');
  refuseExtraKeys(name, kv, ['type', 'dumpdtb']);
  const type = kv.get('type');
  if (type !== undefined && type !== 'virt') {
    throw new OptionError(`-${name}: machine type '${type}' is not supported (this emulator has virt)`);
  }
  if (kv.has('dumpdtb')) c.dumpDtb = nonEmpty(`${name} dumpdtb`, kv.get('dumpdtb')!);
}

/** Parses `viv run`'s arguments. Throws OptionError with a one-line message. */
export function parseRunArgs(argv: readonly string[]): RunConfig {
  const c = defaults();
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (!word.startsWith('-') || word === '-' || word === '--') {
      throw new OptionError(`${word}: unexpected argument (options start with '-'; a disk image goes in -drive file=${word})`);
    }
    const name = word.replace(/^--?/, '');
    const spec = OPTIONS[name];
    if (!spec) {
      if (NOT_IMPLEMENTED.includes(name)) throw new OptionError(`-${name}: not implemented yet`);
      throw new OptionError(`-${name}: invalid option`);
    }
    let value = '';
    if (spec.arg) {
      if (i + 1 >= argv.length) throw new OptionError(`-${name}: requires an argument`);
      value = argv[++i]!;
    }
    spec.apply(c, value, name);
  }
  // -nographic: the serial line (muxed with the monitor escape) on stdio, no display (QEMU's meaning).
  if (c.nographic) {
    // QEMU refuses a second stdio user the same way (-nographic -monitor stdio).
    if (!c.serialGiven && c.monitor === 'stdio') throw new OptionError('cannot use stdio by multiple character devices');
    if (!c.serialGiven) c.serial = { kind: 'stdio', mux: true };
    c.display = 'none';
  }
  if (c.monitor === 'stdio') {
    // The monitor takes stdio: the serial line goes nowhere unless given (QEMU's default vc).
    if (!c.serialGiven) c.serial = { kind: 'null' };
    else if (c.serial.kind === 'stdio') throw new OptionError('-serial stdio: cannot use stdio by multiple character devices');
  }
  netOption(() => finishNetConfig(c.net, VIRTIO_SLOTS));
  driveOption(() => finishDriveConfig(c.drives));
  if (c.initrd && !c.kernel) throw new OptionError('-initrd: needs -kernel');
  if (c.append !== undefined && !c.kernel) throw new OptionError('-append: needs -kernel');
  const { serialGiven: _unused, accelGiven: _unused2, ...config } = c;
  return config;
}
