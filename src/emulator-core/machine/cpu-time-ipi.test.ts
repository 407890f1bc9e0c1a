// A CLINT msip write to another hart ends the writer's run (RiscvCpu.requestExit), so a hart that
// waits for the other's answer (OpenSBI's remote fences) does not spin out its slice; and the
// `time` CSR advances within a run, exactly as the icount clock.
import { describe, expect, it, test } from 'vitest';
import { Priv } from '../cpu/riscv/cpu';
import { encode32 } from '../cpu/riscv/isa/decode';
import { CODE, makeCpu, writeCode } from '../cpu/riscv/testing/snippet';
import { rdtime, timeAfter } from '../cpu/riscv/testing/time-read';
import { createRiscvCpu } from '../cpu/riscv/wasm-cpu';
import { IcountClock } from './clock';
import { RunLoop } from './run-loop';
import { buildProgram, hasRiscvGcc } from './testing/rv-toolchain';
import { VirtMachine } from './virt';

const MiB = 1024 * 1024;
describe('the time CSR under the icount clock', () => {
  test('under icount it is exactly the clock the board keeps (shift 0..4, any starting count)', () => {
    for (const shift of [0, 2, 4]) {
      for (const start of [0, 1, 37, 99, 12_345_678]) {
        for (const k of [0, 1, 12, 13, 50, 99]) {
          const clock = new IcountClock(shift);
          clock.retired(start);
          const got = timeAfter(k, clock.mtime(), clock.timeRate());
          clock.retired(k); // the board's clock once those k instructions are counted
          expect(got, `shift ${shift} start ${start} k ${k}`).toBe(BigInt(clock.mtime()));
        }
      }
    }
  });
  test('is monotonic across a loop of reads spanning runs', () => {
    const cpu = makeCpu();
    cpu.setPriv(0, Priv.Machine);
    // x6 = x5 (previous), x5 = time, x7 |= (x5 < x6): any step back sets x7.
    const loop = [
      encode32('addi', { rd: 6, rs1: 5, imm_i: 0 }),
      rdtime(5),
      encode32('sltu', { rd: 28, rs1: 5, rs2: 6 }),
      encode32('or', { rd: 7, rs1: 7, rs2: 28 }),
      encode32('jal', { rd: 0, imm_j: -16 }),
    ];
    writeCode(cpu, CODE, loop);
    cpu.setPc(0, BigInt(CODE));
    const clock = new IcountClock(0);
    let lastSeen = 0n;
    for (let i = 0; i < 50; i++) {
      cpu.setTime(clock.mtime(), clock.timeRate());
      cpu.run(0, 97 + i);
      clock.retired(cpu.lastRunInstructions);
      expect(cpu.getX(0, 5)).toBeGreaterThanOrEqual(lastSeen);
      lastSeen = cpu.getX(0, 5);
    }
    expect(cpu.getX(0, 7)).toBe(0n);
    expect(lastSeen).toBeGreaterThan(40n); // ~5,000 instructions at 100 per tick
  });
});

/** Hart 0 rings hart 1 through msip and counts its spins until hart 1 answers in memory. */
const PINGPONG = `
  .section .text.init
  .globl _start
  _start:
    bnez a0, secondary
    li t0, 0x2000004          # CLINT msip[1]
    li t1, 1
    li t2, 0x80100000          # answered
    li s0, 0                  # spins
    sw t1, 0(t0)
  1: lw t3, 0(t2)
    bnez t3, 2f
    addi s0, s0, 1
    j 1b
  2: li t0, 0x80100008       # spins
    sd s0, 0(t0)
    # time read twice, 1000 instructions apart, must differ (rdtime granularity)
    rdtime s1
    li t0, 1000
  3: addi t0, t0, -1
    bnez t0, 3b
    rdtime s2
    sub s2, s2, s1
    li t0, 0x80100010       # delta
    sd s2, 0(t0)
    la t0, tohost
    li t1, 1
    sd t1, 0(t0)
  4: j 4b
  secondary:
    csrr t0, mip
    andi t0, t0, 8            # MSIP
    beqz t0, secondary
    li t0, 0x2000004
    sw zero, 0(t0)
    li t0, 0x80100000
    li t1, 1
    sw t1, 0(t0)
  5: j 5b
  .section .tohost,"aw",@progbits
  .globl tohost
  tohost: .dword 0
`;

describe.skipIf(!hasRiscvGcc)('IPIs and time under the real core', () => {
  it('an msip write to another hart lets it run at once; time moves within a run (icount)', async () => {
    const elf = buildProgram(PINGPONG);
    const m = await VirtMachine.create(
      { harts: 2, ramSize: 16 * MiB, bios: { kind: 'none' }, kernel: { name: 'p.elf', data: elf }, icountShift: 0 },
      (o) => createRiscvCpu(o),
      () => {},
    );
    const loop = new RunLoop(m);
    const timeout = setTimeout(() => loop.stop({ kind: 'quit', code: 0 }), 20_000);
    const exit = await loop.run();
    clearTimeout(timeout);
    expect(exit).toEqual({ kind: 'htif-exit', code: 0 });
    const results = new DataView(m.cpu.ram.buffer, m.cpu.ram.byteOffset + 0x10_0000, 24);
    // Hart 0 wrote msip[1] and its run ended; hart 1 answered in the same round, so hart 0's
    // next run finds the answer at once (without the exit it spins through its 200,000-instruction slice).
    expect(results.getBigUint64(8, true)).toBeLessThan(4n);
    // 1,000 iterations of 2 instructions at 1 ns each, 100 ns per tick: 20 ticks (+ the reads' own).
    expect(results.getBigUint64(16, true)).toBe(20n);
  });
});
