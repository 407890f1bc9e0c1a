// Random instruction words in M, S and U, as cpu/riscv/fuzz.test.ts runs them on the interpreter,
// here on two cores at once: one interpreting (tci), one translating (tcg, a hot threshold of 1
// or 2, so most of the random code that runs twice runs translated). Both get the same random
// code, page tables, PMP, CSRs, registers, device answers and pokes between slices; after every
// slice their architectural state must be identical, and their RAM at the end. Random code faults
// all the time (illegal words, page faults, misaligned and access faults), stores into itself,
// and changes translation: every fault must be the same guest trap on both.
import { describe, expect, test } from 'vitest';
import { Exit, Irq, Priv, type MmioPort, type RiscvCpu } from '../cpu/riscv/cpu';
import { encode32 } from '../cpu/riscv/isa/decode';
import { PTE, PageTables } from '../cpu/riscv/testing/page-tables';
import { fillRandomCode, randomPointer } from '../cpu/riscv/testing/random-code';
import { rng } from '../cpu/riscv/testing/rng';
import { CODE } from '../cpu/riscv/testing/snippet';
import { createRiscvCpu } from '../cpu/riscv/wasm-cpu';
import { ramHash, sliceBoth } from './testing/lockstep';
import { tcgTranslator, type Tcg } from './translator';

const RAM = 4 << 20;
const SPAN = 128 << 10;
const INSTRUCTIONS_PER_CASE = 20_000;
const CASES = Number(process.env.VIV_TCG_FUZZ_CASES ?? 16);
const FIRST = Number(process.env.VIV_TCG_SEED ?? 1);

type Cpu = ReturnType<typeof createRiscvCpu>;

/**
 * Trap handlers past the random code that skip what trapped (t6 is the random code's loss):
 * M-mode's (mepc += 4, mret) and 16 bytes on S-mode's (sepc += 4, sret).
 */
const SKIP_HANDLER = CODE + SPAN;
const SKIP_CODE = [
  encode32('csrrs', { rd: 31, rs1: 0, csr: 0x341 }),
  encode32('addi', { rd: 31, rs1: 31, imm_i: 4 }),
  encode32('csrrw', { rd: 0, rs1: 31, csr: 0x341 }),
  encode32('mret'),
  encode32('csrrs', { rd: 31, rs1: 0, csr: 0x141 }),
  encode32('addi', { rd: 31, rs1: 31, imm_i: 4 }),
  encode32('csrrw', { rd: 0, rs1: 31, csr: 0x141 }),
  encode32('sret'),
];

/** A device that answers erratically but the same way on both cores (its own generator each). */
function device(seed: number, cpu: () => RiscvCpu): MmioPort {
  const r = rng(seed);
  return {
    load: () => {
      if (r() % 20 === 0) cpu().setIrq(0, ([1, 3, 5, 7, 9, 11] as const)[r() % 6]!, (r() & 1) === 1);
      return r() % 10 < 3 ? undefined : r();
    },
    store: () => r() % 10 < 7,
  };
}

function makeCore(seed: number, builtin: boolean, translate: boolean, hotThreshold: number): { cpu: Cpu; tcg?: Tcg } {
  const ref: { cpu?: Cpu; tcg?: Tcg } = {};
  const factory = tcgTranslator({ hotThreshold, mode: 'sync', batch: 1 + (seed % 2) * 63 });
  const cpu = createRiscvCpu({
    harts: 1,
    ramBase: CODE,
    ramSize: RAM,
    romBase: 0x1000,
    romSize: 0x1000,
    mmio: device(seed, () => ref.cpu!),
    builtinFirmware: builtin,
    translator: translate ? (host) => (ref.tcg = factory(host)) : undefined,
  });
  ref.cpu = cpu;
  return { cpu, tcg: ref.tcg };
}

/** The random machine state of cpu/riscv/fuzz.test.ts, drawn from `r` (the same on both cores). */
function setup(cpu: Cpu, r: () => number): void {
  const pick = <T>(a: readonly T[]): T => a[r() % a.length]!;
  const chance = (p: number): boolean => r() / 2 ** 32 < p;
  const rand64 = (): bigint => (BigInt(r()) << 32n) | BigInt(r());
  for (let i = 0; i < 0x1000; i++) cpu.rom[i] = (i * 7) & 0xff;
  const words = new Uint32Array(cpu.ram.buffer, cpu.ram.byteOffset, SPAN / 4);
  fillRandomCode(words, r, 5, 3);
  const handler = new Uint32Array(cpu.ram.buffer, cpu.ram.byteOffset + (SKIP_HANDLER - CODE), SKIP_CODE.length);
  handler.set(SKIP_CODE);
  for (let reg = 1; reg < 32; reg++) {
    cpu.setX(0, reg, randomPointer(r, SPAN));
    cpu.setF(0, reg, rand64());
  }
  const pt = new PageTables(cpu, chance(0.5) ? 3 : 4, CODE + (1 << 20));
  for (let i = 0; i < 200; i++) {
    const va = pick([BigInt(r() & ~0xfff), BigInt(CODE + (r() % SPAN)) & ~0xfffn, 0xffff_ffc0_0000_0000n + (BigInt(r()) << 12n)]);
    const pa = chance(0.9) ? BigInt(CODE + (r() % SPAN)) & ~0xfffn : rand64() & ~0xfffn;
    let flags = BigInt(r() & 0xff) | (chance(0.05) ? 1n << BigInt(54 + (r() % 10)) : 0n);
    if (chance(0.7)) flags |= PTE.A;
    pt.map(va, pa, flags, chance(0.1) ? 1 : 0);
  }
  const set = (csr: number, v: bigint): boolean => cpu.setCsr(0, csr, v);
  set(0x180, chance(0.8) ? pt.satp : rand64());
  for (const csr of [0x302, 0x303, 0x304, 0x300, 0x30a, 0x306, 0x106]) set(csr, rand64());
  // Fetch faults mostly handled in M (whose handler is always reachable) rather than delegated.
  if (chance(0.75)) set(0x302, rand64() & ~((1n << 1n) | (1n << 12n)));
  // Mostly a handler that skips what trapped, so that random code goes on (and gets hot) rather
  // than trapping in place; sometimes random code as the vector.
  set(0x305, chance(0.7) ? BigInt(SKIP_HANDLER) : BigInt(CODE + (r() % SPAN)) | BigInt(r() & 1));
  set(0x105, chance(0.5) ? BigInt(SKIP_HANDLER + 16) : chance(0.8) ? BigInt(CODE + (r() % SPAN)) : rand64());
  set(0x14d, BigInt(r()));
  // PMP open to S and U more often than the interpreter's fuzz has it: code that cannot be fetched
  // only traps, and there is nothing to translate.
  for (let i = 0; i < 4; i++) set(0x3b0 + i, chance(0.25) ? rand64() : (1n << 54n) - 1n);
  set(0x3a0, chance(0.25) ? rand64() & 0x7f7f_7f7fn : 0x1fn);
  cpu.setPriv(0, pick([Priv.User, Priv.Supervisor, Priv.Machine] as const));
  cpu.setPc(0, BigInt(CODE + (r() % SPAN)) & ~1n);
}

interface CaseResult {
  mismatch?: string;
  instructions: number;
  traps: number;
  jitEnter: number;
  regions: number;
  failures: number;
}

function fuzzCase(seed: number): CaseResult {
  const builtin = seed % 5 === 0;
  const tci = makeCore(seed, builtin, false, 0).cpu;
  const { cpu: tcg, tcg: translator } = makeCore(seed, builtin, true, 1 + (seed % 2));
  setup(tci, rng(seed));
  setup(tcg, rng(seed));
  // Decisions between slices: drawn once, applied to both.
  const r = rng(seed ^ 0x5a5a);
  const chance = (p: number): boolean => r() / 2 ** 32 < p;
  const both = (f: (cpu: Cpu) => void): void => {
    f(tci);
    f(tcg);
  };
  let instructions = 0;
  let slices = 0;
  while (instructions < INSTRUCTIONS_PER_CASE) {
    const t = instructions * 3 + (r() & 0xff);
    both((c) => c.setTime(t));
    const budget = 1 + (r() % 2000);
    const { exit: ea, pc: atPc, difference } = sliceBoth(tci, tcg, budget);
    slices++;
    if (difference) {
      return { mismatch: `seed ${seed}, slice ${slices} (budget ${budget}, after ${instructions} instructions, tci ${atPc}): ${difference}`, instructions, traps: 0, jitEnter: 0, regions: 0, failures: 0 };
    }
    instructions += ea === Exit.Wfi ? budget : Math.max(tci.lastRunInstructions, 1);
    if (ea === Exit.FirmwareCall) both((c) => c.setPc(0, c.getPc(0) + 4n));
    const reenter = ea === Exit.FirmwareTrap || chance(0.05);
    const priv = reenter ? ([Priv.User, Priv.Supervisor] as const)[r() & 1]! : undefined;
    const pc = BigInt(CODE + (r() % SPAN)) & ~1n;
    if (reenter) both((c) => (c.setPriv(0, priv!), c.setPc(0, pc)));
    if (chance(0.2)) {
      const line = ([Irq.SupervisorSoftware, Irq.SupervisorTimer, Irq.SupervisorExternal, Irq.MachineTimer] as const)[r() % 4]!;
      const level = chance(0.5);
      both((c) => c.setIrq(0, line, level));
    }
    if (chance(0.05)) both((c) => c.flushTlb(0));
    if (chance(0.05)) {
      const csr = r() & 0xfff;
      const v = (BigInt(r()) << 32n) | BigInt(r());
      both((c) => c.setCsr(0, csr, v));
    }
  }
  const mismatch = ramHash(tci) === ramHash(tcg) ? undefined : `seed ${seed}: RAM differs at the end`;
  const stats = translator!.stats;
  return { mismatch, instructions, traps: tcg.perfCounters().exception, jitEnter: tcg.perfCounters().jitEnter, regions: stats.regions, failures: stats.failures };
}

describe('random words in every mode: tci and tcg in lockstep', () => {
  test(`${CASES} cases from seed ${FIRST}`, () => {
    const mismatches: string[] = [];
    let traps = 0;
    let entered = 0;
    let regions = 0;
    let failures = 0;
    for (let seed = FIRST; seed < FIRST + CASES; seed++) {
      const c = fuzzCase(seed * 7919);
      if (c.mismatch) mismatches.push(c.mismatch);
      traps += c.traps;
      entered += c.jitEnter;
      regions += c.regions;
      failures += c.failures;
    }
    expect(mismatches).toEqual([]);
    expect(failures).toBe(0);
    // Not vacuous: the streams trapped a lot, and translated code ran.
    expect(traps).toBeGreaterThan(CASES * 50);
    expect(regions).toBeGreaterThan(CASES * 4);
    expect(entered).toBeGreaterThan(CASES * 100);
  }, Math.max(60_000, CASES * 2000));
});
