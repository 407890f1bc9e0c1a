import { describe, expect, it } from 'vitest';
import { StateFormatError, decodeState, encodeState, type StateValue } from './codec';
import { loadSection, saveSection, type StateDescription } from './schema';
import { captureRam, decodeRam, encodeRam, PAGE_SIZE, prepareRam, RamChunkCache, RamPrecompressor } from './ram';
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

describe('RAM chunk cache', () => {
  it('reuses unchanged chunks, recompresses changed ones, and learns the chunks of a load', async () => {
    const ram = new Uint8Array(16 * 1024 * 1024);
    for (let i = 0; i < ram.length; i += 4096) ram[i] = (i >> 12) & 0xff; // every page stored
    const cache = new RamChunkCache();
    const first = await encodeRam(captureRam(ram), cache);
    expect(cache.size).toBe(64);
    ram[5 * 1024 * 1024 + 17] = 0x55; // one page of chunk 1 changes
    const second = await encodeRam(captureRam(ram), cache);
    const back = new Uint8Array(ram.length);
    await decodeRam(second, back);
    expect(Buffer.compare(back, ram)).toBe(0);
    expect(second.length).toBeGreaterThan(0);
    expect(Buffer.compare(second, first)).not.toBe(0);
    // A chunk that became all zero is forgotten; a load teaches the cache what RAM now holds.
    ram.fill(0, 0, 4 * 1024 * 1024);
    await encodeRam(captureRam(ram), cache);
    expect(cache.size).toBe(48);
    const loaded = new RamChunkCache();
    (await prepareRam(first, ram.length, loaded)).apply(back);
    await new Promise((r) => setImmediate(r));
    expect(loaded.size).toBe(64);
    // Encoding what was loaded, unchanged, gives the loaded image back from the cache.
    expect(Buffer.compare(await encodeRam(captureRam(back), loaded), first)).toBe(0);
    // Loading an image whose chunks RAM already holds leaves them in place; changed ones are loaded.
    back[100] = 0x77;
    back[9 * 1024 * 1024] = 0x66;
    (await prepareRam(first, back.length, loaded, back)).apply(back);
    const expected = new Uint8Array(ram.length);
    await decodeRam(first, expected);
    expect(Buffer.compare(back, expected)).toBe(0);
    // A device writes a chunk judged in place between prepare and apply: it is loaded after all.
    const prepared = await prepareRam(first, back.length, loaded, back);
    back[3 * 1024 * 1024 + 4096 + 5] ^= 0xff; // a stored page (page 768 is a zero one)
    prepared.apply(back);
    expect(Buffer.compare(back, expected)).toBe(0);
  });
});

describe('RAM pre-compression', () => {
  it('fills the cache in the background with entries a save then uses as they are', async () => {
    const ram = new Uint8Array(8 * 1024 * 1024);
    for (let i = 0; i < ram.length / 2; i += 512) ram[i] = 1 + ((i >> 9) % 200);
    const cache = new RamChunkCache();
    const pre = new RamPrecompressor(ram, cache, 60_000);
    await pre.pass();
    expect(cache.size).toBe(16); // the non-zero half: 16 chunks of 256 KiB
    ram[1000] = 1; // changed after the pass: a miss, compressed at save time
    const capture = captureRam(ram, cache);
    // Known chunks are not even copied: only the changed one is.
    expect(capture.chunks.filter((c) => c !== undefined)).toHaveLength(1);
    expect(capture.known!.filter((c) => c !== undefined)).toHaveLength(15);
    const withCache = await encodeRam(capture, cache);
    expect(Buffer.compare(withCache, await encodeRam(captureRam(ram)))).toBe(0);
    const back = new Uint8Array(ram.length);
    await decodeRam(withCache, back);
    expect(Buffer.compare(back, ram)).toBe(0);
    pre.stop();
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
