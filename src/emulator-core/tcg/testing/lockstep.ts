// Differential testing of the translator: the same bare-metal program on two cores, one
// interpreting (tci) and one translating (tcg), run slice by slice with the same budgets, time and
// interrupt lines; after every slice the architectural state must be identical (pc, privilege,
// registers, the CSRs that hold state, instructions retired, the exit reason) and at the end the
// whole of RAM. A difference names the slice, the instruction count and the first field that
// differs, so a translator bug is found where it happens, not where it surfaces.
import { createHash } from 'node:crypto';
import { Exit, type ExitReason, type MmioPort, type RiscvCpu } from '../../cpu/riscv/cpu';
import { loadProgram } from '../../cpu/riscv/testing/bare-metal';
import { tcgTranslator, type Tcg, type TcgOptions } from '../translator';

export interface LockstepOptions {
  slice?: number;
  maxInstructions?: number;
  /** Translator options (a low hot threshold translates early, which is what tests want). */
  tcg?: Partial<TcgOptions>;
  /** Stand-in interrupt controller word at tohost + 16 (bare-metal.ts irqWord). */
  irqWord?: boolean;
  ramSize?: number;
  mmio?: () => MmioPort;
}

export interface LockstepResult {
  /** The first difference, or undefined when the two ran identically. */
  mismatch?: string;
  status: 'pass' | 'fail' | 'timeout';
  code: number;
  instructions: number;
  tci: RiscvCpu;
  tcg: RiscvCpu & { codeTranslator?: Tcg };
}

const STATE_CSRS = [
  0x300, 0x302, 0x303, 0x304, 0x305, 0x340, 0x341, 0x342, 0x343, 0x344, 0x105, 0x140, 0x141, 0x142, 0x143, 0x180, 0x003,
];

/** The architectural state compared after every slice, as `name=value` strings in a fixed order. */
export function state(cpu: RiscvCpu, exit: ExitReason): string[] {
  const s = [`pc=${cpu.getPc(0).toString(16)}`, `priv=${cpu.getPriv(0)}`, `exit=${exit}`, `instret=${cpu.instret(0)}`];
  for (let r = 1; r < 32; r++) s.push(`x${r}=${cpu.getX(0, r).toString(16)}`);
  for (let r = 0; r < 32; r++) s.push(`f${r}=${cpu.getF(0, r).toString(16)}`);
  for (const c of STATE_CSRS) s.push(`csr${c.toString(16)}=${cpu.getCsr(0, c)?.toString(16)}`);
  return s;
}

export const ramHash = (cpu: RiscvCpu): string => createHash('sha256').update(cpu.ram).digest('hex');

/** One slice of `budget` on both cores; `difference` names the first field (or the retired count) that differs. */
export function sliceBoth(tci: RiscvCpu, tcg: RiscvCpu, budget: number): { exit: ExitReason; pc: string; difference?: string } {
  const ea = tci.run(0, budget);
  const eb = tcg.run(0, budget);
  const sa = state(tci, ea);
  const sb = state(tcg, eb);
  const i = sa.findIndex((v, k) => v !== sb[k]);
  const difference =
    i >= 0 ? `tci ${sa[i]} tcg ${sb[i]}` : tci.lastRunInstructions !== tcg.lastRunInstructions ? `retired tci ${tci.lastRunInstructions} tcg ${tcg.lastRunInstructions}` : undefined;
  return { exit: ea, pc: sa[0]!, difference };
}

export function runLockstep(elf: Uint8Array, opts: LockstepOptions = {}): LockstepResult {
  const slice = opts.slice ?? 10_000;
  const max = opts.maxInstructions ?? 5_000_000;
  const a = loadProgram(elf, { ramSize: opts.ramSize, mmio: opts.mmio?.() });
  const b = loadProgram(elf, { ramSize: opts.ramSize, mmio: opts.mmio?.(), translator: tcgTranslator({ hotThreshold: 2, mode: 'sync', ...opts.tcg }) });
  const tci = a.cpu;
  const tcg = b.cpu as LockstepResult['tcg'];
  const view = new DataView(tci.ram.buffer, tci.ram.byteOffset, tci.ram.byteLength);
  let instructions = 0;
  let slices = 0;
  const done = (r: Omit<LockstepResult, 'tci' | 'tcg' | 'instructions'>): LockstepResult => ({ ...r, instructions, tci, tcg });
  while (instructions < max) {
    for (const cpu of [tci, tcg]) cpu.setTime(Math.floor(instructions / 10));
    const { exit: ea, pc, difference } = sliceBoth(tci, tcg, slice);
    slices++;
    if (difference) return done({ mismatch: `slice ${slices} (after ${instructions} instructions, tci pc ${pc}): ${difference}`, status: 'fail', code: -1 });
    instructions += tci.lastRunInstructions;
    if (ea === Exit.Wfi) instructions += slice;
    if (opts.irqWord) {
      const req = view.getBigUint64(a.tohost + 16, true);
      for (const line of [1, 3, 5, 7, 9, 11] as const) {
        for (const cpu of [tci, tcg]) cpu.setIrq(0, line, ((req >> BigInt(line)) & 1n) === 1n);
      }
    }
    const word = view.getBigUint64(a.tohost, true);
    if (word !== 0n) {
      const code = Number(word >> 1n);
      const mismatch = ramHash(tci) === ramHash(tcg) ? undefined : 'RAM differs at the end';
      return done({ mismatch, status: code === 0 ? 'pass' : 'fail', code });
    }
  }
  const mismatch = ramHash(tci) === ramHash(tcg) ? undefined : 'RAM differs at the end';
  return done({ mismatch, status: 'timeout', code: -1 });
}
