import { describe, expect, it } from 'vitest';
import { StateFormatError, decodeState, encodeState, type StateValue } from './codec';
import { loadSection, saveSection, type StateDescription } from './schema';
import { captureRam, decodeRam, encodeRam, PAGE_SIZE } from './ram';
import { checkFingerprint, decodeVmState, encodeVmState, type MachineFingerprint } from './vmstate';

const uart: StateDescription = {
  name: 'uart16550',
  version: 2,
  minVersion: 1,
  fields: { ier: 'u8', lcr: 'u8', rxFifo: { bytes: 'any' }, divisor: 'u16', scratch: { optional: 'u8' }, mtime: 'u64' },
  migrate: (from, r) => (from === 1 ? { ...r, mtime: 0n } : r),
};

describe('state codec', () => {
  it('round-trips every kind of value', () => {
    const v: StateValue = {
      n: null, t: true, f: false, x: 1.5, neg: -3, big: 0xffff_ffff_ffff_ffffn, sbig: -5n,
      s: 'héllo', b: new Uint8Array([1, 2, 3]), a: [1, [2, { k: 'v' }]],
    };
    expect(decodeState(encodeState(v))).toEqual(v);
  });

  it('names where a truncated or garbage payload goes wrong, and never throws anything else', () => {
    const bytes = encodeState({ a: new Uint8Array(100), b: 'x' });
    for (let cut = 0; cut < bytes.length; cut++) {
      expect(() => decodeState(bytes.subarray(0, cut))).toThrow(StateFormatError);
    }
    let seed = 1;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let i = 0; i < 2000; i++) {
      const junk = new Uint8Array(1 + (rnd() % 64)).map(rnd);
      try {
        decodeState(junk);
      } catch (e) {
        expect(e).toBeInstanceOf(StateFormatError);
      }
    }
  });
});

describe('state schema', () => {
  const good = { ier: 1, lcr: 3, rxFifo: new Uint8Array([65]), divisor: 12, scratch: null, mtime: 5n };

  it('saves and loads a declared state', () => {
    const s = saveSection(uart, good);
    expect(loadSection(uart, { ...s, record: decodeState(encodeState(s.record)) as typeof good })).toEqual(good);
  });

  it('migrates an older version and refuses a newer or unknown one', () => {
    const { mtime: _m, ...v1 } = good;
    expect(loadSection(uart, { name: 'uart16550', version: 1, record: v1 }).mtime).toBe(0n);
    expect(() => loadSection(uart, { name: 'uart16550', version: 3, record: good })).toThrow(/state version 3, this build loads 1..2/);
    expect(() => loadSection(uart, { name: 'plic', version: 2, record: good })).toThrow(/'plic' given to 'uart16550'/);
  });

  it('names the first field that does not fit', () => {
    expect(() => saveSection(uart, { ...good, ier: 256 })).toThrow('uart16550.ier: expected an integer in 0..255, found 256');
    expect(() => saveSection(uart, { ...good, extra: 1 })).toThrow('uart16550.extra: not a declared field');
    const { divisor: _d, ...missing } = good;
    expect(() => saveSection(uart, missing)).toThrow('uart16550.divisor: expected an integer in 0..65535, found nothing');
    expect(() => saveSection(uart, { ...good, mtime: 5 })).toThrow('uart16550.mtime: expected a u64 (bigint), found 5');
  });
});

describe('RAM image', () => {
  it('skips zero pages, round-trips the rest, and compresses', async () => {
    const ram = new Uint8Array(64 * 1024 * 1024);
    ram.set(new TextEncoder().encode('kernel'.repeat(1000)), 0x20_0000);
    for (let i = 0; i < 4096; i++) ram[0x300_0000 + i] = (i * 7) & 0xff;
    ram[ram.length - 1] = 9;
    const blob = await encodeRam(captureRam(ram));
    expect(blob.length).toBeLessThan(64 * 1024);
    // With headroom (for the vmstate's head): the same image, further into the buffer.
    expect(Buffer.compare((await encodeRam(captureRam(ram), 100)).subarray(100), blob)).toBe(0);
    const back = new Uint8Array(ram.length).fill(0xaa);
    await decodeRam(blob, back);
    expect(Buffer.compare(back, ram)).toBe(0);
  });

  it('refuses another RAM size, truncation and garbage without touching RAM', async () => {
    const ram = new Uint8Array(16 * PAGE_SIZE);
    ram[5 * PAGE_SIZE] = 1;
    const blob = await encodeRam(captureRam(ram));
    const target = new Uint8Array(16 * PAGE_SIZE).fill(7);
    await expect(decodeRam(blob, new Uint8Array(32 * PAGE_SIZE))).rejects.toThrow(/snapshot RAM is 0.0625 MiB, this machine has 0.125 MiB/);
    for (let cut = 0; cut < blob.length; cut++) {
      await expect(decodeRam(blob.subarray(0, cut), target)).rejects.toBeInstanceOf(StateFormatError);
    }
    const corrupt = blob.slice();
    corrupt[corrupt.length - 3]! ^= 0xff;
    await expect(decodeRam(corrupt, target)).rejects.toBeInstanceOf(StateFormatError);
    expect(target.every((b) => b === 7)).toBe(true);
  });
});

describe('vmstate container', () => {
  const fp: MachineFingerprint = { machine: 'riscv-virt', harts: 2, ramSize: 1 << 20, sections: ['riscv-hart', 'riscv-hart', 'uart16550'] };

  it('round-trips header, sections and RAM', () => {
    const ram = new Uint8Array([1, 2, 3]);
    const s = saveSection(uart, { ier: 1, lcr: 3, rxFifo: new Uint8Array(), divisor: 1, scratch: 4, mtime: 1n });
    const back = decodeVmState(encodeVmState({ fingerprint: fp, vmClockNs: 123n, sections: [s], ram }));
    expect(back.fingerprint).toEqual(fp);
    expect(back.vmClockNs).toBe(123n);
    expect(back.sections).toEqual([s]);
    expect([...back.ram]).toEqual([1, 2, 3]);
  });

  it('refuses a foreign or truncated vmstate with a clear reason', () => {
    expect(() => decodeVmState(new TextEncoder().encode('QEVM\0\0\0\x03garbage!'))).toThrow('not a Vivarium vmstate (bad magic)');
    const bytes = encodeVmState({ fingerprint: fp, vmClockNs: 0n, sections: [], ram: new Uint8Array() });
    for (let cut = 0; cut < bytes.length; cut++) expect(() => decodeVmState(bytes.subarray(0, cut))).toThrow(StateFormatError);
  });

  it('names the configuration mismatch', () => {
    expect(() => checkFingerprint(fp, { ...fp, ramSize: 2 << 20, harts: 1 })).toThrow(
      'snapshot was taken on another machine configuration: 2 CPUs (this machine has 1); 1 MiB of RAM (this machine has 2 MiB)',
    );
    expect(() => checkFingerprint(fp, { ...fp, sections: ['riscv-hart', 'riscv-hart', 'uart16550', 'virtio-blk'] })).toThrow(
      'devices not in the snapshot: virtio-blk',
    );
    expect(() => checkFingerprint(fp, fp)).not.toThrow();
  });
});
