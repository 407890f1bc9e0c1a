// Devices under translated code: a hot loop that rings a doorbell (the device ends the run with
// requestExit, as virtio's notify does for the host turn), reads a register that raises an
// interrupt line from inside the access, and takes that interrupt. An interpreting core and a
// translating one run it with the same budgets: every run must end the same way (exit reason,
// instructions retired, architectural state) and the devices must see the same accesses.
import { describe, expect, test } from 'vitest';
import { Exit, Priv, type MmioPort } from '../cpu/riscv/cpu';
import { encode32 } from '../cpu/riscv/isa/decode';
import { CODE, writeCode } from '../cpu/riscv/testing/snippet';
import { createRiscvCpu } from '../cpu/riscv/wasm-cpu';
import { state } from './testing/lockstep';
import { tcgTranslator } from './translator';

const DEV = 0x1000_0000;
const RING_EVERY = 5;
const RAISE_EVERY = 7;

type Cpu = ReturnType<typeof createRiscvCpu>;

/** The device: a doorbell at +0 (every 5th ring ends the run), a counter at +8 (every 7th read raises line 11), an ack at +16. */
function makeCore(hotThreshold: number | undefined): { cpu: Cpu; log: string[] } {
  const log: string[] = [];
  let rings = 0;
  let reads = 0;
  const ref: { cpu?: Cpu } = {};
  const mmio: MmioPort = {
    load: (addr, size) => {
      log.push(`load ${addr.toString(16)}/${size}`);
      if (addr !== DEV + 8) return 0;
      reads++;
      if (reads % RAISE_EVERY === 0) ref.cpu!.setIrq(0, 11, true);
      return reads;
    },
    store: (addr, size, value) => {
      log.push(`store ${addr.toString(16)}/${size} ${value}`);
      if (addr === DEV && ++rings % RING_EVERY === 0) ref.cpu!.requestExit();
      if (addr === DEV + 16) ref.cpu!.setIrq(0, 11, false);
      return true;
    },
  };
  const cpu = createRiscvCpu({
    harts: 1,
    ramBase: CODE,
    ramSize: 1 << 20,
    romBase: 0x1000,
    romSize: 0,
    mmio,
    builtinFirmware: false,
    translator: hotThreshold === undefined ? undefined : tcgTranslator({ hotThreshold, mode: 'sync', batch: 1 }),
  });
  ref.cpu = cpu;
  cpu.resetHart(0, BigInt(CODE));
  cpu.setPriv(0, Priv.Machine);
  const handler = CODE + 0x40;
  writeCode(cpu, CODE, [
    encode32('auipc', { rd: 5, imm_u: 0 }), // t0 = handler
    encode32('addi', { rd: 5, rs1: 5, imm_i: handler - CODE }),
    encode32('csrrw', { rd: 0, rs1: 5, csr: 0x305 }),
    encode32('lui', { rd: 5, imm_u: 1 << 12 }), // t0 = 1 << 11 (MEIE)
    encode32('srli', { rd: 5, rs1: 5, shamt: 1 }),
    encode32('csrrw', { rd: 0, rs1: 5, csr: 0x304 }),
    encode32('csrrsi', { rd: 0, zimm: 8, csr: 0x300 }),
    encode32('lui', { rd: 10, imm_u: DEV }),
    // loop (CODE + 0x20):
    encode32('addi', { rd: 11, rs1: 11, imm_i: 1 }),
    encode32('sw', { rs1: 10, rs2: 11, imm_s: 0 }),
    encode32('lw', { rd: 12, rs1: 10, imm_i: 8 }),
    encode32('add', { rd: 13, rs1: 13, rs2: 12 }),
    encode32('jal', { rd: 0, imm_j: -16 }),
  ]);
  writeCode(cpu, handler, [
    encode32('csrrs', { rd: 6, rs1: 0, csr: 0x342 }),
    encode32('addi', { rd: 9, rs1: 9, imm_i: 1 }),
    encode32('sw', { rs1: 10, rs2: 0, imm_s: 16 }),
    encode32('mret'),
  ]);
  return { cpu, log };
}

describe('devices under translated code', () => {
  for (const hot of [1, 2]) {
    test(`requestExit and interrupt lines from MMIO: tci and tcg (hot threshold ${hot}) end every run alike`, () => {
      const tci = makeCore(undefined);
      const tcg = makeCore(hot);
      const exits = new Map<number, number>();
      for (let run = 0; run < 300; run++) {
        const budget = 1 + ((run * 37) % 200);
        const ea = tci.cpu.run(0, budget);
        const eb = tcg.cpu.run(0, budget);
        expect(state(tcg.cpu, eb), `run ${run}`).toEqual(state(tci.cpu, ea));
        expect(tcg.cpu.lastRunInstructions, `run ${run}`).toBe(tci.cpu.lastRunInstructions);
        expect(tcg.log.length, `run ${run}`).toBe(tci.log.length);
        exits.set(ea, (exits.get(ea) ?? 0) + 1);
      }
      expect(tcg.log).toEqual(tci.log);
      // Not vacuous: runs ended on the doorbell, interrupts were taken, translated code ran.
      expect(exits.get(Exit.Requested)).toBeGreaterThan(50);
      expect(tci.cpu.getX(0, 9)).toBeGreaterThan(20n);
      expect(tcg.cpu.perfCounters().jitEnter).toBeGreaterThan(100);
    });
  }
});
