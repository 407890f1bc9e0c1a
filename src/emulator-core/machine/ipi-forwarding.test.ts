// The two-hart OpenSBI lock-up, as a bare-metal program on the board: hart 1 sends hart 0 an IPI
// through the CLINT while the UART's interrupt holds hart 0's S-mode SEIP line high (through the
// PLIC), and hart 0's M-mode handler forwards it to S-mode as OpenSBI's does (`csrs mip, SSIP`).
// Once the UART is quiet, SEIP must be low again: a SEIP left behind by that handler interrupts
// Linux for ever (the PLIC has nothing to claim), above its timer and IPIs: an RCU stall, then
// "hard LOCKUP on cpu 0", and the guest never powers off.
import { describe, expect, it } from 'vitest';
import { createRiscvCpu } from '../cpu/riscv/wasm-cpu';
import { RunLoop } from './run-loop';
import { buildProgram, hasRiscvGcc } from './testing/rv-toolchain';
import { VirtMachine } from './virt';

const PROGRAM = `
  .equ CLINT_MSIP0, 0x2000000
  .equ PLIC_PRIO10, 0xc000028       # priority of source 10 (UART0)
  .equ PLIC_EN_CTX1, 0xc002080      # enables of context 1 (hart 0, S-mode)
  .equ UART_IER, 0x10000001
  .equ GO, 0x80100000               # hart 0 -> hart 1: send the IPI now
  .equ HANDLED, 0x80100004          # the MSIP handler ran
  .equ RESULT, 0x80100008           # mip once the UART is quiet
  .section .text.init
  .globl _start
  _start:
    bnez a0, secondary
    la t0, handler
    csrw mtvec, t0
    li t0, PLIC_PRIO10
    li t1, 1
    sw t1, 0(t0)
    li t0, PLIC_EN_CTX1
    li t1, 1 << 10
    sw t1, 0(t0)
    li t0, UART_IER
    li t1, 2                        # THRE interrupt: pending at once, the THR is empty
    sb t1, 0(t0)
    li t0, 8                        # mie.MSIE, mstatus.MIE
    csrw mie, t0
    csrs mstatus, t0
    li t0, GO
    li t1, 1
    sw t1, 0(t0)
    li t0, HANDLED
  1: lw t1, 0(t0)
    beqz t1, 1b
    csrci mstatus, 8
    li t0, UART_IER                 # the UART goes quiet: the PLIC drops hart 0's SEIP line
    sb zero, 0(t0)
    csrr t1, mip
    li t0, RESULT
    sd t1, 0(t0)
    la t0, tohost
    li t1, 1
    sd t1, 0(t0)
  2: j 2b

  .align 2
  handler:                          # OpenSBI's MSIP handler, for an S-mode IPI
    csrsi mip, 2                    # forward it: mip.SSIP
    li t0, CLINT_MSIP0
    sw zero, 0(t0)
    li t0, HANDLED
    li t1, 1
    sw t1, 0(t0)
    mret

  secondary:
    li t0, GO
  3: lw t1, 0(t0)
    beqz t1, 3b
    li t0, CLINT_MSIP0
    li t1, 1
    sw t1, 0(t0)
  4: wfi
    j 4b

  .section .tohost,"aw",@progbits
  .globl tohost
  tohost: .dword 0
`;

describe.skipIf(!hasRiscvGcc)('an IPI forwarded to S-mode while the PLIC holds SEIP', () => {
  it('leaves no supervisor external interrupt pending once the device is quiet', async () => {
    const m = await VirtMachine.create(
      { harts: 2, ramSize: 16 * 1024 * 1024, bios: { kind: 'none' }, kernel: { name: 'p.elf', data: buildProgram(PROGRAM) }, icountShift: 0 },
      (o) => createRiscvCpu(o),
      () => {},
    );
    const loop = new RunLoop(m);
    const timeout = setTimeout(() => loop.stop({ kind: 'quit', code: 0 }), 20_000);
    const exit = await loop.run();
    clearTimeout(timeout);
    expect(exit).toEqual({ kind: 'htif-exit', code: 0 });
    const mip = new DataView(m.cpu.ram.buffer, m.cpu.ram.byteOffset + 0x10_0000, 16).getBigUint64(8, true);
    expect(mip & 0x2n).toBe(0x2n); // the forwarded IPI: SSIP
    expect(mip & 0x200n).toBe(0n); // SEIP followed the line down
    expect(m.cpu.getCsr(0, 0x344)! & 0x200n).toBe(0n);
  });
});
