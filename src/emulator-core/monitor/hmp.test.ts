import { describe, expect, it } from 'vitest';
import { runHmp, sizeToStr, snapshotRow, type HmpBackend, type HmpSnapshot } from './hmp';

function backend(over: Partial<HmpBackend> = {}): HmpBackend & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    savevm: async (t) => void log.push(`savevm ${t ?? '(auto)'}`),
    loadvm: async (t) => void log.push(`loadvm ${t}`),
    delvm: async (t) => void log.push(`delvm ${t}`),
    snapshots: () => ({ loadable: [], partial: [], anyDrive: true }),
    status: () => 'running',
    stop: () => void log.push('stop'),
    cont: () => void log.push('cont'),
    reset: () => void log.push('reset'),
    quit: () => void log.push('quit'),
    ...over,
  };
}

// Local time in the DATE column, as QEMU prints it.
const date = (sec: number) => {
  const d = new Date(sec * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
};

describe('HMP', () => {
  it("QEMU's size_to_str", () => {
    expect(sizeToStr(106 * 2 ** 20)).toBe('106 MiB');
    expect(sizeToStr(Math.round(98.4 * 2 ** 20))).toBe('98.4 MiB');
    expect(sizeToStr(24.4 * 2 ** 20)).toBe('24.4 MiB');
    expect(sizeToStr(512)).toBe('512 B');
    expect(sizeToStr(1000 * 1024)).toBe('0.977 MiB');
    expect(sizeToStr(0)).toBe('0 B');
  });

  it('info snapshots in the text layout of QEMU 7.2 (observed on its monitor)', async () => {
    const sn: HmpSnapshot = { id: '1', name: 's1', vmStateSize: 106 * 2 ** 20, dateSec: 1795617425, vmClockNsec: 16_961_000_000 };
    const long: HmpSnapshot = { ...sn, id: '2', name: 'vm-20261125145317', vmStateSize: Math.round(98.4 * 2 ** 20), vmClockNsec: 9_636_400_000, icount: 1234 };
    const b = backend({ snapshots: () => ({ loadable: [sn, long], partial: [{ device: 'virtio1', snapshots: [{ ...sn, id: '7', name: 'old' }] }], anyDrive: true }) });
    expect(await runHmp(b, 'info snapshots')).toBe(
      'List of snapshots present on all disks:\r\n' +
        'ID        TAG               VM SIZE                DATE     VM CLOCK     ICOUNT\r\n' +
        `--        s1                106 MiB ${date(1795617425)} 00:00:16.961           \r\n` +
        `--        vm-20261125145317 98.4 MiB ${date(1795617425)} 00:00:09.636       1234\r\n` +
        '\r\n' +
        "List of partial (non-loadable) snapshots on 'virtio1':\r\n" +
        'ID        TAG               VM SIZE                DATE     VM CLOCK     ICOUNT\r\n' +
        `7         old               106 MiB ${date(1795617425)} 00:00:16.961           \r\n`,
    );
    expect(snapshotRow()).toBe('ID        TAG               VM SIZE                DATE     VM CLOCK     ICOUNT');
    expect(await runHmp(backend(), 'info snapshots')).toBe('There is no snapshot available.\r\n');
    expect(await runHmp(backend({ snapshots: () => ({ loadable: [], partial: [], anyDrive: false }) }), 'info snapshots')).toBe(
      'No available block device supports snapshots\r\n',
    );
  });

  it('runs savevm/loadvm/delvm and the run-state commands; errors are output, as on QEMU', async () => {
    const b = backend();
    expect(await runHmp(b, 'savevm s1')).toBe('');
    expect(await runHmp(b, 'savevm')).toBe('');
    expect(await runHmp(b, 'loadvm s1')).toBe('');
    expect(await runHmp(b, 'delvm s1')).toBe('');
    expect(await runHmp(b, 'stop')).toBe('');
    expect(await runHmp(b, 'c')).toBe('');
    expect(await runHmp(b, 'info status')).toBe('VM status: running\r\n');
    expect(b.log).toEqual(['savevm s1', 'savevm (auto)', 'loadvm s1', 'delvm s1', 'stop', 'cont']);
    expect(await runHmp(b, 'loadvm')).toBe('loadvm: string expected\r\nTry "help loadvm" for more information\r\n');
    expect(await runHmp(b, 'bogus')).toBe("unknown command: 'bogus'\r\n");
    expect(await runHmp(b, 'info bogus')).toBe("unknown command: 'info bogus'\r\n");
    const failing = backend({ loadvm: async (t) => Promise.reject(new Error(`Snapshot '${t}' does not exist in one or more devices`)) });
    expect(await runHmp(failing, 'loadvm nope')).toBe("Error: Snapshot 'nope' does not exist in one or more devices\r\n");
  });
});
