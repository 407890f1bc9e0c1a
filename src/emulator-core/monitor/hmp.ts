// The human monitor (HMP) commands this emulator has, with QEMU 7.2's names, arguments and
// output text (hmp-commands.hx, migration/savevm.c, block/qapi.c bdrv_snapshot_dump): savevm,
// loadvm, delvm, info snapshots, info status, stop, cont, system_reset, quit, help. Both
// `-monitor stdio` and QMP's human-monitor-command run them; lines end in "\r\n" as QEMU's
// monitor writes them. It knows nothing of machines: the host gives it an HmpBackend.

export interface HmpSnapshot {
  id: string;
  name: string;
  vmStateSize: number;
  dateSec: number;
  vmClockNsec: number;
  icount?: number;
}

export interface HmpBackend {
  savevm(tag: string | undefined): Promise<void>;
  loadvm(tag: string): Promise<void>;
  delvm(tag: string): Promise<void>;
  snapshots(): { loadable: HmpSnapshot[]; partial: Array<{ device: string; snapshots: HmpSnapshot[] }>; anyDrive: boolean };
  /** QEMU's RunState name, with the reason in parentheses when paused for one ("paused (restore-vm)"). */
  status(): string;
  stop(): void;
  cont(): void;
  reset(): void;
  quit(): void;
}

interface HmpCommand {
  args: 'none' | 'optional-string' | 'string';
  help: string;
  run(backend: HmpBackend, arg: string | undefined): Promise<string> | string;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** QEMU's size_to_str: the unit that keeps the number below 1000 (1024 steps), "%0.3g". */
export function sizeToStr(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let i = 0;
  let v = bytes;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  // %0.3g: three significant digits, no trailing zeros.
  return `${Number(v.toPrecision(3))} ${units[i]}`;
}

/** One row of bdrv_snapshot_dump (the header when `sn` is undefined); `id` overrides the ID column. */
export function snapshotRow(sn?: HmpSnapshot, id?: string): string {
  if (!sn) return 'ID'.padEnd(10) + 'TAG'.padEnd(17) + 'VM SIZE'.padStart(8) + 'DATE'.padStart(20) + 'VM CLOCK'.padStart(13) + 'ICOUNT'.padStart(11);
  const d = new Date(sn.dateSec * 1000);
  const date = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  const ms = Math.floor(sn.vmClockNsec / 1e6);
  const secs = Math.floor(ms / 1000);
  const clock = `${pad2(Math.floor(secs / 3600))}:${pad2(Math.floor(secs / 60) % 60)}:${pad2(secs % 60)}.${String(ms % 1000).padStart(3, '0')}`;
  const icount = sn.icount === undefined ? '' : String(sn.icount);
  return (id ?? sn.id).padEnd(9) + ' ' + sn.name.padEnd(16) + ' ' + sizeToStr(sn.vmStateSize).padStart(8) + date.padStart(20) + clock.padStart(13) + icount.padStart(11);
}

function infoSnapshots(b: HmpBackend): string {
  const { loadable, partial, anyDrive } = b.snapshots();
  if (!anyDrive) return 'No available block device supports snapshots\n';
  if (!loadable.length && !partial.length) return 'There is no snapshot available.\n';
  const lines: string[] = [];
  // The ID may differ between disks: QEMU shows "--" for the snapshots present on all of them.
  lines.push('List of snapshots present on all disks:', snapshotRow());
  if (loadable.length) for (const s of loadable) lines.push(snapshotRow(s, '--'));
  else lines.push('None');
  for (const p of partial) {
    lines.push('', `List of partial (non-loadable) snapshots on '${p.device}':`, snapshotRow());
    for (const s of p.snapshots) lines.push(snapshotRow(s));
  }
  return lines.join('\n') + '\n';
}

const COMMANDS: Record<string, HmpCommand> = {
  savevm: { args: 'optional-string', help: 'savevm [tag] -- save a VM snapshot. If no tag is provided, a new snapshot is created', run: async (b, a) => (await b.savevm(a), '') },
  loadvm: { args: 'string', help: 'loadvm tag -- restore a VM snapshot from its tag', run: async (b, a) => (await b.loadvm(a!), '') },
  delvm: { args: 'string', help: 'delvm tag -- delete a VM snapshot from its tag', run: async (b, a) => (await b.delvm(a!), '') },
  stop: { args: 'none', help: 'stop -- stop emulation', run: (b) => (b.stop(), '') },
  cont: { args: 'none', help: 'cont|c  -- resume emulation', run: (b) => (b.cont(), '') },
  system_reset: { args: 'none', help: 'system_reset  -- reset the system', run: (b) => (b.reset(), '') },
  quit: { args: 'none', help: 'quit|q  -- quit the emulator', run: (b) => (b.quit(), '') },
  help: { args: 'optional-string', help: 'help|? [cmd] -- show the help', run: (_b, a) => help(a) },
};
const ALIASES: Record<string, string> = { c: 'cont', q: 'quit', '?': 'help' };

const INFO: Record<string, { help: string; run(b: HmpBackend): string }> = {
  snapshots: { help: 'info snapshots  -- show the currently saved VM snapshots', run: infoSnapshots },
  status: { help: 'info status  -- show the current VM status (running|paused)', run: (b) => `VM status: ${b.status()}\n` },
};

function help(cmd: string | undefined): string {
  if (cmd === 'info') return Object.values(INFO).map((i) => i.help).join('\n') + '\n';
  if (cmd !== undefined) {
    const c = COMMANDS[ALIASES[cmd] ?? cmd];
    return c ? `${c.help}\n` : `unknown command: '${cmd}'\n`;
  }
  return [...Object.values(COMMANDS).map((c) => c.help), 'info [subcommand] -- show various information about the system state'].join('\n') + '\n';
}

/** Runs one command line; returns its output ("\r\n" line ends). Errors are output, as in QEMU's monitor. */
export async function runHmp(backend: HmpBackend, line: string): Promise<string> {
  return crlf(await runLine(backend, line.trim()));
}

async function runLine(b: HmpBackend, line: string): Promise<string> {
  if (line === '') return '';
  const m = /^(\S+)\s*(.*)$/.exec(line)!;
  const name = ALIASES[m[1]!] ?? m[1]!;
  const rest = m[2]!.trim();
  if (name === 'info') {
    if (rest === '') return help('info');
    const info = INFO[rest];
    if (!info) return `unknown command: 'info ${rest}'\n`;
    return info.run(b);
  }
  const cmd = COMMANDS[name];
  if (!cmd) return `unknown command: '${m[1]}'\n`;
  if (cmd.args === 'none' && rest !== '') return `${name}: extraneous characters at the end of line\nTry "help ${name}" for more information\n`;
  if (cmd.args === 'string' && rest === '') return `${name}: string expected\nTry "help ${name}" for more information\n`;
  if (cmd.args !== 'none' && /\s/.test(rest)) return `${name}: extraneous characters at the end of line\nTry "help ${name}" for more information\n`;
  try {
    return await cmd.run(b, rest === '' ? undefined : rest);
  } catch (e) {
    return `Error: ${(e as Error).message}\n`;
  }
}

function crlf(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}
