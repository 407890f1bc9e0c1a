// The `time` CSR advancing within a run from the instruction count (setTime's rate), and
// requestExit() ending a run early from inside an MMIO callback.
import { describe, expect, test } from 'vitest';
import { Exit, Priv } from './cpu';
import { encode32 } from './isa/decode';
import { CODE, exec, makeCpu, writeCode } from './testing/snippet';
import { nop, timeAfter } from './testing/time-read';

describe('time within a run', () => {
  test('without a rate it stands at mtime for the whole run', () => {
    expect(timeAfter(0, 5000)).toBe(5000n);
    expect(timeAfter(37, 5000)).toBe(5000n);
  });
  test('with a rate it advances per instruction retired before the reading one', () => {
    expect(timeAfter(0, 5000, { num: 1, den: 1, phase: 0 })).toBe(5000n);
    expect(timeAfter(7, 5000, { num: 1, den: 1, phase: 0 })).toBe(5007n);
    expect(timeAfter(7, 5000, { num: 3, den: 2, phase: 1 })).toBe(5000n + BigInt(Math.floor((1 + 7 * 3) / 2)));
    expect(timeAfter(5, 5000, { num: 8, den: 100, phase: 99 })).toBe(5001n);
    expect(timeAfter(5, 5000, { num: 8, den: 100, phase: 59 })).toBe(5000n);
  });
  test('Sstc: STIP follows the advancing time', () => {
    const cpu = makeCpu();
    cpu.setPriv(0, Priv.Machine);
    cpu.setCsr(0, 0x30a, 1n << 63n); // menvcfg.STCE
    cpu.setCsr(0, 0x14d, 1010n); // stimecmp
    cpu.setTime(1000, { num: 1, den: 1, phase: 0 });
    const rdmip = encode32('csrrs', { rd: 5, rs1: 0, csr: 0x344 });
    exec(cpu, [...new Array<number>(9).fill(nop), rdmip, nop, rdmip]);
    expect(cpu.getX(0, 5) & 0x20n).toBe(0x20n); // read with 11 retired before it: time 1011
    cpu.setTime(1000, { num: 1, den: 1, phase: 0 });
    exec(cpu, [...new Array<number>(9).fill(nop), rdmip]);
    expect(cpu.getX(0, 5) & 0x20n).toBe(0n); // time 1009
  });
  test('bad rates are refused', () => {
    const cpu = makeCpu();
    expect(() => cpu.setTime(0, { num: 1, den: 0, phase: 0 })).toThrow(RangeError);
    expect(() => cpu.setTime(0, { num: 1, den: 10, phase: 10 })).toThrow(RangeError);
    expect(() => cpu.setTime(0, { num: -1, den: 10, phase: 0 })).toThrow(RangeError);
  });
});

describe('requestExit', () => {
  const MMIO = 0x1000_0000;
  function cpuWithDoorbell() {
    let stores = 0;
    const cpu = makeCpu({
      mmio: {
        load: () => 0,
        store: () => {
          stores++;
          cpu.requestExit();
          return true;
        },
      },
    });
    cpu.setPriv(0, Priv.Machine);
    return { cpu, stores: () => stores };
  }
  const program = [
    encode32('lui', { rd: 10, imm_u: MMIO }),
    encode32('addi', { rd: 11, rs1: 0, imm_i: 1 }),
    encode32('sw', { rs1: 10, rs2: 11, imm_s: 0 }),
    encode32('addi', { rd: 12, rs1: 12, imm_i: 1 }),
    encode32('jal', { rd: 0, imm_j: -4 }),
  ];
  test('called from an MMIO store, the run ends after that instruction with Exit.Requested', () => {
    const { cpu, stores } = cpuWithDoorbell();
    writeCode(cpu, CODE, program);
    cpu.setPc(0, BigInt(CODE));
    expect(cpu.run(0, 10_000)).toBe(Exit.Requested);
    expect(stores()).toBe(1);
    expect(cpu.lastRunInstructions).toBe(3);
    expect(cpu.getPc(0)).toBe(BigInt(CODE + 12));
    expect(cpu.instret(0)).toBe(3);
    // The next run goes on from there, spinning through its whole budget.
    expect(cpu.run(0, 1000)).toBe(Exit.Budget);
    expect(cpu.getX(0, 12)).toBe(500n);
  });
  test('outside a run it does nothing', () => {
    const { cpu } = cpuWithDoorbell();
    cpu.requestExit();
    writeCode(cpu, CODE, [encode32('addi', { rd: 12, rs1: 12, imm_i: 1 }), encode32('jal', { rd: 0, imm_j: -4 })]);
    cpu.setPc(0, BigInt(CODE));
    expect(cpu.run(0, 100)).toBe(Exit.Budget);
    expect(cpu.lastRunInstructions).toBe(100);
  });
});

describe('PAUSE', () => {
  // A spin loop as Linux's cpu_relax() makes it: pause; addi x12, x12, 1; j back.
  const pause = 0x0100000f; // FENCE pred = W, succ = 0
  const spin = [pause, encode32('addi', { rd: 12, rs1: 12, imm_i: 1 }), encode32('jal', { rd: 0, imm_j: -8 })];
  test('with several harts it ends the hart\'s run after itself, so the others get their turn', () => {
    const cpu = makeCpu({ harts: 2 });
    writeCode(cpu, CODE, spin);
    cpu.setPc(0, BigInt(CODE));
    expect(cpu.run(0, 10_000)).toBe(Exit.Requested);
    expect(cpu.lastRunInstructions).toBe(1);
    expect(cpu.getPc(0)).toBe(BigInt(CODE + 4));
    expect(cpu.run(0, 10_000)).toBe(Exit.Requested);
    expect(cpu.lastRunInstructions).toBe(3);
    expect(cpu.getX(0, 12)).toBe(1n);
  });
  test('with one hart it is a no-op', () => {
    const cpu = makeCpu({ harts: 1 });
    writeCode(cpu, CODE, spin);
    cpu.setPc(0, BigInt(CODE));
    expect(cpu.run(0, 3000)).toBe(Exit.Budget);
    expect(cpu.getX(0, 12)).toBe(1000n);
  });
  test('another FENCE never ends a run', () => {
    const cpu = makeCpu({ harts: 2 });
    writeCode(cpu, CODE, [encode32('fence', { pred: 3, succ: 3 }), ...spin.slice(1)]);
    cpu.setPc(0, BigInt(CODE));
    expect(cpu.run(0, 3000)).toBe(Exit.Budget);
  });
});
