// Guest time under the wall clock, through the run loop with the real core and a host clock the
// test drives: a host that first stalls the process (a loaded machine) and then runs it at full
// speed. The instruction rate learnt while stalled is far too low for the fast phase, so a run's
// time CSR races ahead of the host clock; it must still never go back (the two-hart OpenSBI
// boots that locked up on a loaded machine saw it go back by up to 1.5 ms at every run).
import { afterEach, describe, expect, it, test, vi } from 'vitest';
import { createRiscvCpu } from '../cpu/riscv/wasm-cpu';
import { RunLoop } from './run-loop';
import { buildProgram, hasRiscvGcc } from './testing/rv-toolchain';
import { VirtMachine } from './virt';
import { WallTime } from './wall-time';

/** Reads `time` ITERATIONS times; counts the reads below the one before. */
const PROGRAM = `
  .equ ITERATIONS, 500000
  .equ RESULT, 0x80100000
  .section .text.init
  .globl _start
  _start:
    li s0, 0
    li s1, 0
    li s2, ITERATIONS
  1: rdtime t0
    bgeu t0, s0, 2f
    addi s1, s1, 1
  2: mv s0, t0
    addi s2, s2, -1
    bnez s2, 1b
    li t0, RESULT
    sd s1, 0(t0)
    la t0, tohost
    li t1, 1
    sd t1, 0(t0)
  3: j 3b
  .section .tohost,"aw",@progbits
  .globl tohost
  tohost: .dword 0
`;

afterEach(() => {
  vi.restoreAllMocks();
});

describe.skipIf(!hasRiscvGcc)('the time CSR under the wall clock', () => {
  it('never goes back, after a stalled host taught the run loop a rate far too low', async () => {
    // The host clock: 5 ms per reading for the first 2 s (stalled), then 1 us per reading.
    let now = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => (now += now < 2000 ? 5 : 0.001));
    const m = await VirtMachine.create(
      { harts: 1, ramSize: 16 * 1024 * 1024, bios: { kind: 'none' }, kernel: { name: 'p.elf', data: buildProgram(PROGRAM) } },
      (o) => createRiscvCpu(o),
      () => {},
    );
    const loop = new RunLoop(m);
    const exit = await loop.run();
    expect(exit).toEqual({ kind: 'htif-exit', code: 0 });
    expect(now).toBeGreaterThan(2000); // the fast phase was reached
    const decreases = new DataView(m.cpu.ram.buffer, m.cpu.ram.byteOffset + 0x10_0000, 8).getBigUint64(0, true);
    expect(decreases).toBe(0n);
  });
});

describe('WallTime', () => {
  test('a run after one that ran ahead of the clock starts where it got to, with time held still', () => {
    const w = new WallTime();
    w.rate = 1000; // half of it: 5 ticks per instruction
    expect(w.start(0n)).toEqual({ mtime: 0n, rate: { num: 5 * 65536, den: 65536, phase: 0 } });
    w.retired(1000); // its last instruction read 999 * 5
    const held = w.start(100n);
    expect(held.mtime).toBe(4995n);
    expect(held.rate.num).toBe(0);
    w.retired(500);
    expect(w.start(5000n)).toEqual({ mtime: 5000n, rate: { num: 5 * 65536, den: 65536, phase: 0 } });
  });
  test('follows mtime when it is set back (loadvm, a guest write to mtime)', () => {
    const w = new WallTime();
    w.rate = 1000;
    w.start(1_000_000n);
    w.retired(1000);
    expect(w.start(500n).mtime).toBe(500n);
  });
  test('learns from rounds smaller than a sample, so a low estimate does not lock itself in', () => {
    const w = new WallTime();
    w.rate = 5000;
    for (let i = 0; i < 10; i++) w.measured(2000, 0.01); // 200,000 instructions per ms
    expect(w.rate).toBeGreaterThan(50_000);
  });
});
