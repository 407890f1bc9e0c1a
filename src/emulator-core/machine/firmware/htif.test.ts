import { describe, expect, it } from 'vitest';
import { GuestMemory } from '../../devices/guest-memory';
import { Htif } from './htif';

const RAM = 0x8000_0000;
const TOHOST = RAM + 0x1000;
const FROMHOST = RAM + 0x1008;

function setup() {
  const mem = new GuestMemory(RAM, new Uint8Array(0x4000));
  let out = '';
  const htif = new Htif(mem, TOHOST, FROMHOST, (b) => (out += String.fromCharCode(b)));
  return { mem, htif, out: () => out };
}

describe('HTIF tohost', () => {
  it('reports exit codes: 1 is pass, (n << 1) | 1 is test n failing', () => {
    const { mem, htif } = setup();
    expect(htif.poll()).toBeUndefined();
    mem.writeU64(TOHOST, 1n);
    expect(htif.poll()).toEqual({ kind: 'exit', code: 0 });
    expect(mem.readU64(TOHOST)).toBe(0n);
    mem.writeU64(TOHOST, (5n << 1n) | 1n);
    expect(htif.poll()).toEqual({ kind: 'exit', code: 5 });
  });
  it('prints console characters and acknowledges them in fromhost', () => {
    const { mem, htif, out } = setup();
    mem.writeU64(TOHOST, (1n << 56n) | (1n << 48n) | 0x41n);
    expect(htif.poll()).toBeUndefined();
    expect(out()).toBe('A');
    expect(mem.readU64(FROMHOST)).toBe((1n << 56n) | (1n << 48n));
  });
  it('serves the SYS_write syscall and refuses others and bad buffers', () => {
    const { mem, htif, out } = setup();
    const block = RAM + 0x2000;
    mem.writeBytes(RAM + 0x3000, new TextEncoder().encode('hi\n'));
    [64n, 1n, BigInt(RAM + 0x3000), 3n].forEach((v, i) => mem.writeU64(block + 8 * i, v));
    mem.writeU64(TOHOST, BigInt(block));
    htif.poll();
    expect(out()).toBe('hi\n');
    expect(mem.readU64(block)).toBe(3n);
    expect(mem.readU64(FROMHOST)).toBe(1n);
    [64n, 1n, 0x10n, 3n].forEach((v, i) => mem.writeU64(block + 8 * i, v));
    mem.writeU64(TOHOST, BigInt(block));
    htif.poll();
    expect(BigInt.asIntN(64, mem.readU64(block))).toBe(-14n);
    [93n, 0n].forEach((v, i) => mem.writeU64(block + 8 * i, v));
    mem.writeU64(TOHOST, BigInt(block));
    htif.poll();
    expect(BigInt.asIntN(64, mem.readU64(block))).toBe(-38n);
  });
  it('refuses tohost outside RAM', () => {
    const mem = new GuestMemory(RAM, new Uint8Array(0x1000));
    expect(() => new Htif(mem, 0x1000, undefined, () => {})).toThrow(/outside RAM/);
  });
});
