// Fuzz: random instruction streams in M, S and U with random page tables, PMP, CSR state,
// interrupt lines and a device port that answers erratically. Whatever the guest does must stay a
// guest event: no host exception, no write to ROM, no device access inside RAM/ROM, and the
// hart's state stays architecturally valid. Seeds are fixed so a failure reproduces.
import { describe, expect, test } from 'vitest';
import { Exit, Irq, Priv, type MmioPort } from './cpu';
import { PTE, PageTables } from './testing/page-tables';
import { fillRandomCode, randomPointer } from './testing/random-code';
import { rng } from './testing/rng';
import { CODE, makeCpu } from './testing/snippet';

const RAM = 4 << 20;
const ROM_BASE = 0x1000;
const ROM_SIZE = 0x1000;
const INSTRUCTIONS_PER_CASE = 30_000;
/** The random code, data and page-table targets live in the first SPAN bytes of RAM. */
const SPAN = 128 << 10;

function fuzzCase(seed: number): { instructions: number; traps: number; walks: number } {
  const r = rng(seed);
  const pick = <T>(a: readonly T[]): T => a[r() % a.length]!;
  const chance = (p: number): boolean => r() / 2 ** 32 < p;
  const rand64 = (): bigint => (BigInt(r()) << 32n) | BigInt(r());

  const ref: { cpu?: ReturnType<typeof makeCpu> } = {};
  const badDevice: string[] = [];
  const inMemory = (a: number): boolean => (a >= CODE && a < CODE + RAM) || (a >= ROM_BASE && a < ROM_BASE + ROM_SIZE);
  const mmio: MmioPort = {
    load: (a, size) => {
      if (inMemory(a) || ![1, 2, 4].includes(size)) badDevice.push(`load ${a.toString(16)}/${size}`);
      if (chance(0.05)) ref.cpu?.setIrq(0, pick([1, 3, 5, 7, 9, 11] as const), chance(0.5));
      return chance(0.3) ? undefined : r();
    },
    store: (a, size) => {
      if (inMemory(a) || ![1, 2, 4].includes(size)) badDevice.push(`store ${a.toString(16)}/${size}`);
      return chance(0.7);
    },
  };
  const cpu = makeCpu({ ramSize: RAM, mmio, builtinFirmware: chance(0.2) });
  ref.cpu = cpu;
  for (let i = 0; i < ROM_SIZE; i++) cpu.rom[i] = (i * 7) & 0xff;
  const romBefore = cpu.rom.slice();

  // Random code and data over SPAN; valid instructions from the table mixed in.
  const words = new Uint32Array(cpu.ram.buffer, cpu.ram.byteOffset, SPAN / 4); // little-endian host
  fillRandomCode(words, r, 4, 3);

  // Registers: pointers into RAM, near page boundaries, into devices, or garbage.
  for (let reg = 1; reg < 32; reg++) {
    cpu.setX(0, reg, randomPointer(r, SPAN));
    cpu.setF(0, reg, rand64());
  }

  // Random page tables (Sv39/Sv48) over random virtual pages, some pointing outside RAM.
  const pt = new PageTables(cpu, chance(0.5) ? 3 : 4, CODE + (1 << 20));
  for (let i = 0; i < 200; i++) {
    const va = pick([BigInt(r() & ~0xfff), BigInt(CODE + (r() % SPAN)) & ~0xfffn, 0xffff_ffc0_0000_0000n + (BigInt(r()) << 12n)]);
    const pa = chance(0.9) ? BigInt(CODE + (r() % SPAN)) & ~0xfffn : rand64() & ~0xfffn;
    let flags = BigInt(r() & 0xff) | (chance(0.05) ? 1n << BigInt(54 + (r() % 10)) : 0n);
    if (chance(0.7)) flags |= PTE.A;
    pt.map(va, pa, flags, chance(0.1) ? 1 : 0);
  }
  if (chance(0.3)) pt.setPte(pt.root + (r() % 512) * 8, rand64()); // a garbage entry anywhere

  // CSRs: translation, delegation, status bits, PMP, vectors into the random code.
  const set = (csr: number, v: bigint): boolean => cpu.setCsr(0, csr, v);
  set(0x180, chance(0.8) ? pt.satp : rand64());
  set(0x302, rand64());
  set(0x303, rand64());
  set(0x304, rand64());
  set(0x300, rand64());
  set(0x30a, rand64());
  set(0x306, rand64());
  set(0x106, rand64());
  set(0x305, BigInt(CODE + (r() % SPAN)) | BigInt(r() & 1));
  set(0x105, chance(0.8) ? BigInt(CODE + (r() % SPAN)) : rand64());
  set(0x14d, BigInt(r()));
  for (let i = 0; i < 4; i++) set(0x3b0 + i, chance(0.5) ? rand64() : (1n << 54n) - 1n);
  set(0x3a0, chance(0.5) ? rand64() & 0x7f7f_7f7fn : 0x1fn);
  cpu.setPriv(0, pick([Priv.User, Priv.Supervisor, Priv.Machine] as const));
  cpu.setPc(0, BigInt(CODE + (r() % SPAN)) & ~1n);

  let instructions = 0;
  let traps = 0;
  while (instructions < INSTRUCTIONS_PER_CASE) {
    cpu.setTime(instructions * 3 + (r() & 0xff));
    const budget = 1 + (r() % 4000);
    const exit = cpu.run(0, budget);
    const n = cpu.lastRunInstructions;
    if (n < 0 || n > budget) throw new Error(`seed ${seed}: ${n} instructions for a budget of ${budget}`);
    // A sleeping hart lets time pass; the built-in firmware answers calls (pc past the ECALL)
    // and a firmware trap sends the hart back to S somewhere.
    instructions += exit === Exit.Wfi ? budget : Math.max(n, 1);
    if (exit === Exit.FirmwareCall) cpu.setPc(0, cpu.getPc(0) + 4n);
    if (exit === Exit.FirmwareTrap) {
      cpu.setPriv(0, Priv.Supervisor);
      cpu.setPc(0, BigInt(CODE + (r() % SPAN)) & ~1n);
    }
    const priv = cpu.getPriv(0);
    if ((priv !== 0 && priv !== 1 && priv !== 3) || cpu.getPc(0) & 1n) throw new Error(`seed ${seed}: bad state`);
    // The board pokes the hart between slices, as an SBI implementation would.
    if (chance(0.2)) cpu.setIrq(0, pick([Irq.SupervisorSoftware, Irq.SupervisorTimer, Irq.SupervisorExternal, Irq.MachineTimer] as const), chance(0.5));
    if (chance(0.05)) cpu.flushTlb(0);
    if (chance(0.05)) cpu.setCsr(0, r() & 0xfff, rand64());
    if (chance(0.05)) cpu.getCsr(0, r() & 0xfff);
    if (chance(0.05)) {
      // Keep it moving when it sleeps or sits in M-mode: re-enter S/U somewhere random.
      cpu.setPriv(0, pick([Priv.User, Priv.Supervisor] as const));
      cpu.setPc(0, BigInt(CODE + (r() % SPAN)) & ~1n);
    }
  }
  traps = cpu.perfCounters().exception;
  expect(badDevice).toEqual([]);
  expect(cpu.rom).toEqual(romBefore);
  return { instructions, traps, walks: cpu.perfCounters().xlate };
}

describe('fuzz', () => {
  test('random programs in every mode stay guest events (48 seeds)', () => {
    let total = 0;
    let traps = 0;
    let walks = 0;
    for (let seed = 1; seed <= 48; seed++) {
      const r = fuzzCase(seed * 7919);
      total += r.instructions;
      traps += r.traps;
      walks += r.walks;
    }
    // Not vacuous: the streams executed and trapped a lot.
    expect(total).toBeGreaterThan(48 * INSTRUCTIONS_PER_CASE - 1);
    expect(traps).toBeGreaterThan(1000);
    expect(walks).toBeGreaterThan(1000);
  }, 60_000);
});
