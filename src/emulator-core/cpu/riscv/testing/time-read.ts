// What the `time` CSR reads part-way through a run: shared by the CPU's own time tests and the
// board's (icount clock agreement), which must measure it the same way.
import { Priv, type TimeRate } from '../cpu';
import { encode32 } from '../isa/decode';
import { exec, makeCpu } from './snippet';

export const nop = encode32('addi', { rd: 0, rs1: 0, imm_i: 0 });
export const rdtime = (rd: number): number => encode32('csrrs', { rd, rs1: 0, csr: 0xc01 });

/** `before` nops then rdtime into x5: the value read by the instruction with `before` retired ahead of it in the run. */
export function timeAfter(before: number, mtime: number, rate?: TimeRate): bigint {
  const cpu = makeCpu();
  cpu.setPriv(0, Priv.Machine);
  cpu.setTime(mtime, rate);
  exec(cpu, [...new Array<number>(before).fill(nop), rdtime(5)]);
  return cpu.getX(0, 5);
}
