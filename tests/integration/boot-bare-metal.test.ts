// Bare-metal programs on the real core through `viv run`: -bios none puts an ELF at its own
// addresses, the mask ROM's reset vector jumps there in M-mode with a0 = hartid, a1 = the FDT;
// the program prints on the UART and ends through HTIF tohost or the sifive_test finisher,
// whose codes become viv's exit status (as QEMU's).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram, hasRiscvGcc } from '../../src/emulator-core/machine/testing/rv-toolchain';
import { vivRun } from './boot-guest';

const dir = mkdtempSync(path.join(tmpdir(), 'viv-bare-'));
function program(name: string, source: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, buildProgram(source));
  return file;
}

const PUTS = `
  li t0, 0x10000000
1: lbu t2, 0(t1)
  beqz t2, 2f
  sb t2, 0(t0)
  addi t1, t1, 1
  j 1b
2:
`;

describe.skipIf(!hasRiscvGcc)('bare-metal programs (-bios none)', () => {
  it('prints from every hart in turn and exits through HTIF with the test number as status', async () => {
    const elf = program(
      'htif.elf',
      `
      .section .text.init
      .globl _start
      _start:
        bnez a0, other
        la t1, msg0
        ${PUTS}
        la t0, flag
        li t1, 1
        sd t1, 0(t0)              # let hart 1 print
      wait1: ld t1, 0(t0)
        li t2, 2
        bne t1, t2, wait1
        lwu t3, 0(a1)             # the FDT's magic, big-endian 0xd00dfeed
        li t4, 0xedfe0dd0
        bne t3, t4, bad
        la t0, tohost
        li t1, (5 << 1) | 1       # "test 5 failed": exit status 5
        sd t1, 0(t0)
      1: j 1b
      bad: la t0, tohost
        li t1, (9 << 1) | 1
        sd t1, 0(t0)
        j 1b
      other:
        la t0, flag
      wait0: ld t1, 0(t0)
        beqz t1, wait0
        la t1, msg1
        ${PUTS}
        la t0, flag
        li t1, 2
        sd t1, 0(t0)
      2: j 2b
      .data
      msg0: .asciz "hart 0\\n"
      msg1: .asciz "hart 1\\n"
      .align 3
      flag: .dword 0
      .section .tohost,"aw",@progbits
      .globl tohost
      tohost: .dword 0
      .globl fromhost
      fromhost: .dword 0
    `,
    );
    const r = await vivRun(['-M', 'virt', '-smp', '2', '-m', '64M', '-bios', 'none', '-kernel', elf, '-nographic'], 60_000);
    expect(r.stdout).toBe('hart 0\nhart 1\n');
    expect(r.code).toBe(5);
  });

  it('reports a sifive_test FAIL code as the exit status, and PASS as 0', async () => {
    const fin = (value: string) =>
      program(
        `fin-${value}.elf`,
        `
        .section .text.init
        .globl _start
        _start:
          li t0, 0x100000
          li t1, ${value}
          sw t1, 0(t0)
        1: j 1b
      `,
      );
    expect((await vivRun(['-bios', 'none', '-kernel', fin('(42 << 16) | 0x3333'), '-nographic'], 60_000)).code).toBe(42);
    expect((await vivRun(['-bios', 'none', '-kernel', fin('0x5555'), '-nographic'], 60_000)).code).toBe(0);
    // A reboot under -no-reboot ends the run with status 0, as QEMU's does.
    expect((await vivRun(['-bios', 'none', '-kernel', fin('0x7777'), '-nographic', '-no-reboot'], 60_000)).code).toBe(0);
  });
});
