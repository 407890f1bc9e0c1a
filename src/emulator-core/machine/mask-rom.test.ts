import { describe, expect, it } from 'vitest';
import { maskRomImage } from './mask-rom';
import { disassemble, hasRiscvGcc } from './testing/rv-toolchain';

const rom = maskRomImage({ startAddr: 0x8000_0000, fdtAddr: 0x9fe0_0000, nextAddr: 0x8020_0000, bootHart: 0 });
const dv = new DataView(rom.buffer);

describe('mask ROM', () => {
  it("encodes the same reset vector words as QEMU 7.2's riscv_setup_rom_reset_vec (rv64)", () => {
    const words = Array.from({ length: 6 }, (_, i) => dv.getUint32(4 * i, true));
    expect(words).toEqual([0x00000297, 0x02828613, 0xf1402573, 0x0202b583, 0x0182b283, 0x00028067]);
  });
  it.skipIf(!hasRiscvGcc)('disassembles to auipc/addi/csrr/ld/ld/jr', () => {
    expect(disassemble(rom.subarray(0, 24))).toEqual(['auipc t0,0x0', 'addi a2,t0,40', 'csrrs a0,mhartid,zero', 'ld a1,32(t0)', 'ld t0,24(t0)', 'jalr zero,0(t0)']);
  });
  it('holds the start and FDT addresses, then fw_dynamic_info v2 for OpenSBI', () => {
    const u64 = (at: number) => dv.getBigUint64(at, true);
    expect(u64(24)).toBe(0x8000_0000n);
    expect(u64(32)).toBe(0x9fe0_0000n);
    expect(u64(40)).toBe(0x4942534fn); // "OSBI"
    expect(u64(48)).toBe(2n);
    expect(u64(56)).toBe(0x8020_0000n);
    expect(u64(64)).toBe(1n); // next mode: S
    expect(u64(72)).toBe(0n);
    expect(u64(80)).toBe(0n);
    expect(rom.length).toBe(88);
  });
});
