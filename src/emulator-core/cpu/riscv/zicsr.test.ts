// CSR access rules and WARL behaviour (privileged ISA ch. 2-3, as QEMU 7.2's virt CPU).
import { describe, expect, test } from 'vitest';
import { Irq, Priv } from './cpu';
import { encode32 } from './isa/decode';
import { DATA, allowAllPmp, exec, makeCpu } from './testing/snippet';

const csrr = (rd: number, csr: number): number => encode32('csrrs', { rd, rs1: 0, csr });
const csrw = (csr: number, rs1: number): number => encode32('csrrw', { rd: 0, rs1, csr });

/** Runs one CSR instruction at `priv`; returns mcause (0 if no trap; mcause is cleared first). */
function run(cpu: ReturnType<typeof makeCpu>, word: number, priv: 0 | 1 | 3): bigint {
  cpu.setCsr(0, 0x342, 0n);
  cpu.setPriv(0, priv);
  exec(cpu, [word]);
  return cpu.getCsr(0, 0x342)!;
}

function cpuWithTraps(): ReturnType<typeof makeCpu> {
  const cpu = makeCpu();
  cpu.setCsr(0, 0x305, BigInt(DATA + 0x800));
  allowAllPmp(cpu);
  return cpu;
}

describe('access checks', () => {
  test('a CSR above the current privilege is illegal; mtval holds the instruction', () => {
    const cpu = cpuWithTraps();
    expect(run(cpu, csrr(5, 0x300), Priv.Supervisor)).toBe(2n);
    expect(cpu.getCsr(0, 0x343)).toBe(BigInt(csrr(5, 0x300)));
    expect(run(cpu, csrr(5, 0x100), Priv.User)).toBe(2n);
    expect(run(cpu, csrr(5, 0x100), Priv.Supervisor)).toBe(0n);
  });
  test('writing a read-only CSR is illegal, reading it with csrrs x0 is not', () => {
    const cpu = cpuWithTraps();
    expect(run(cpu, csrw(0xf14, 5), Priv.Machine)).toBe(2n);
    expect(run(cpu, encode32('csrrsi', { rd: 5, zimm: 0, csr: 0xf14 }), Priv.Machine)).toBe(0n);
    expect(run(cpu, encode32('csrrsi', { rd: 5, zimm: 1, csr: 0xf14 }), Priv.Machine)).toBe(2n);
  });
  test('unimplemented CSRs are illegal (and undefined to the board)', () => {
    const cpu = cpuWithTraps();
    for (const csr of [0x7b0, 0x3a1, 0x3c0, 0x747, 0x5a8]) {
      expect(run(cpu, csrr(5, csr), Priv.Machine), csr.toString(16)).toBe(2n);
      expect(cpu.getCsr(0, csr)).toBeUndefined();
    }
  });
  test('satp traps in S-mode with mstatus.TVM', () => {
    const cpu = cpuWithTraps();
    expect(run(cpu, csrr(5, 0x180), Priv.Supervisor)).toBe(0n);
    cpu.setCsr(0, 0x300, 1n << 20n);
    expect(run(cpu, csrr(5, 0x180), Priv.Supervisor)).toBe(2n);
    expect(run(cpu, csrr(5, 0x180), Priv.Machine)).toBe(0n);
  });
  test('counters: mcounteren gates S and U, scounteren gates U', () => {
    const cpu = cpuWithTraps();
    for (const csr of [0xc00, 0xc01, 0xc02, 0xc03]) {
      expect(run(cpu, csrr(5, csr), Priv.Supervisor)).toBe(2n);
      cpu.setCsr(0, 0x306, 1n << BigInt(csr - 0xc00));
      expect(run(cpu, csrr(5, csr), Priv.Supervisor)).toBe(0n);
      expect(run(cpu, csrr(5, csr), Priv.User)).toBe(2n);
      cpu.setCsr(0, 0x106, 1n << BigInt(csr - 0xc00));
      expect(run(cpu, csrr(5, csr), Priv.User)).toBe(0n);
    }
  });
  test('stimecmp from S needs mcounteren.TM and menvcfg.STCE (Sstc)', () => {
    const cpu = cpuWithTraps();
    expect(run(cpu, csrr(5, 0x14d), Priv.Supervisor)).toBe(2n);
    cpu.setCsr(0, 0x306, 2n);
    expect(run(cpu, csrr(5, 0x14d), Priv.Supervisor)).toBe(2n);
    cpu.setCsr(0, 0x30a, 1n << 63n);
    expect(run(cpu, csrr(5, 0x14d), Priv.Supervisor)).toBe(0n);
    expect(run(cpu, csrr(5, 0x14d), Priv.Machine)).toBe(0n);
  });
});

describe('WARL values', () => {
  const cpu = makeCpu();
  const wr = (csr: number, v: bigint): bigint | undefined => {
    cpu.setCsr(0, csr, v);
    return cpu.getCsr(0, csr);
  };
  test('misa is RV64IMAFDC + S + U and ignores writes', () => {
    const misa = (2n << 62n) | 0x14112dn;
    expect(cpu.getCsr(0, 0x301)).toBe(misa);
    expect(wr(0x301, 0n)).toBe(misa);
  });
  test('mstatus: UXL/SXL = 64-bit, MPP = 2 keeps the old value, sstatus is a view', () => {
    expect(cpu.getCsr(0, 0x300)! & (0xfn << 32n)).toBe(0xan << 32n);
    expect(wr(0x300, 1n << 11n)! & (3n << 11n)).toBe(1n << 11n);
    expect(wr(0x300, 2n << 11n)! & (3n << 11n)).toBe(1n << 11n);
    cpu.setCsr(0, 0x300, (1n << 3n) | (1n << 1n) | (1n << 18n));
    expect(cpu.getCsr(0, 0x100)).toBe((1n << 1n) | (1n << 18n) | (2n << 32n));
    cpu.setCsr(0, 0x100, 0n);
    expect(cpu.getCsr(0, 0x300)! & 0xffn).toBe(1n << 3n); // MIE is not sstatus's to clear
  });
  test('satp: Sv39 and Sv48 accepted, Sv57 and others leave satp unchanged', () => {
    const sv39 = (8n << 60n) | 0x80123n;
    expect(wr(0x180, sv39)).toBe(sv39);
    expect(wr(0x180, (10n << 60n) | 0x5n)).toBe(sv39);
    expect(wr(0x180, (1n << 60n) | 0x5n)).toBe(sv39);
    const sv48 = (9n << 60n) | (0xffffn << 44n) | 0x42n;
    expect(wr(0x180, sv48)).toBe(sv48);
    expect(wr(0x180, 0n)).toBe(0n);
  });
  test('tvec modes 2 and 3 are ignored, epc clears bit 0, delegation masks', () => {
    expect(wr(0x305, 0x8000_0101n)).toBe(0x8000_0101n);
    expect(wr(0x305, 0x8000_0202n)).toBe(0x8000_0101n);
    expect(wr(0x105, 0x8000_0003n)).toBe(0n);
    expect(wr(0x341, 0x8000_0003n)).toBe(0x8000_0002n);
    expect(wr(0x141, 0x8000_0003n)).toBe(0x8000_0002n);
    expect(wr(0x302, (1n << 64n) - 1n)).toBe(0xb3ffn);
    expect(wr(0x303, (1n << 64n) - 1n)).toBe(0x222n);
    expect(wr(0x304, (1n << 64n) - 1n)).toBe(0xaaan);
  });
  test('sie/sip show and write only delegated bits', () => {
    cpu.setCsr(0, 0x303, 0x222n);
    cpu.setCsr(0, 0x304, 0n);
    cpu.setCsr(0, 0x104, (1n << 64n) - 1n);
    expect(cpu.getCsr(0, 0x304)).toBe(0x222n);
    cpu.setCsr(0, 0x303, 0x2n);
    expect(cpu.getCsr(0, 0x104)).toBe(0x2n);
    cpu.setCsr(0, 0x144, 0x222n);
    expect(cpu.getCsr(0, 0x344)).toBe(0x2n); // only SSIP is writable through sip
  });
  test('mip: STIP is software-writable until menvcfg.STCE makes it follow stimecmp', () => {
    cpu.setCsr(0, 0x30a, 0n);
    cpu.setCsr(0, 0x344, 0x20n);
    expect(cpu.getCsr(0, 0x344)).toBe(0x20n);
    cpu.setCsr(0, 0x344, 0n);
    cpu.setCsr(0, 0x30a, 1n << 63n);
    cpu.setCsr(0, 0x14d, 1000n);
    cpu.setTime(999);
    expect(cpu.getCsr(0, 0x344)! & 0x20n).toBe(0n);
    cpu.setTime(1000);
    expect(cpu.getCsr(0, 0x344)! & 0x20n).toBe(0x20n);
    cpu.setCsr(0, 0x344, 0n); // ignored for STIP now
    expect(cpu.getCsr(0, 0x344)! & 0x20n).toBe(0x20n);
  });
  test('time reads mtime; minstret counts and a write sets what the next instruction reads', () => {
    const cpu = makeCpu();
    cpu.setTime(123456);
    cpu.setPriv(0, Priv.Machine);
    exec(cpu, [csrr(5, 0xc01)]);
    expect(cpu.getX(0, 5)).toBe(123456n);
    exec(cpu, [encode32('csrrwi', { rd: 0, zimm: 0, csr: 0xb02 }), csrr(6, 0xb02), csrr(7, 0xc02)]);
    expect(cpu.getX(0, 6)).toBe(0n);
    expect(cpu.getX(0, 7)).toBe(1n);
    const before = cpu.instret(0);
    exec(cpu, [encode32('addi', { rd: 0, rs1: 0, imm_i: 0 }), encode32('addi', { rd: 0, rs1: 0, imm_i: 0 })]);
    expect(cpu.instret(0) - before).toBe(2);
  });
  test('mcountinhibit.IR stops minstret', () => {
    const cpu = makeCpu();
    cpu.setCsr(0, 0x320, 4n);
    const v = cpu.getCsr(0, 0xb02)!;
    exec(cpu, [encode32('addi', { rd: 0, rs1: 0, imm_i: 0 })]);
    expect(cpu.getCsr(0, 0xb02)).toBe(v);
    cpu.setCsr(0, 0x320, 0n);
    exec(cpu, [encode32('addi', { rd: 0, rs1: 0, imm_i: 0 })]);
    expect(cpu.getCsr(0, 0xb02)).toBe(v + 1n);
  });
  test('mhartid is the hart index; hpm counters read zero; debug triggers exist with none implemented', () => {
    const two = makeCpu({ harts: 2 });
    expect(two.getCsr(1, 0xf14)).toBe(1n);
    expect(two.getCsr(0, 0xb03)).toBe(0n);
    expect(two.getCsr(0, 0x7a1)).toBe(0n);
    expect(two.getCsr(0, 0x7a4)).toBe(1n);
  });
});

// Privileged ISA 3.1.9: mip.SEIP reads as the OR of its software-writable bit and the interrupt
// controller's signal, but a CSRRS/CSRRC read-modify-write uses only the software bit. OpenSBI's
// MSIP handler does `csrs mip, SSIP` to forward an IPI to S-mode; had the PLIC's SEIP been
// written back as a software bit, it would stay set after the PLIC drops its line, and the hart
// would take supervisor external interrupts forever (they outrank its timer and IPIs).
describe('mip read-modify-write', () => {
  const MIP = 0x344;
  const SSIP = 0x2n;
  const STIP = 0x20n;
  const SEIP = 0x200n;
  test('csrs/csrc change the software bits only: a line-driven SEIP or STIP is not latched', () => {
    const cpu = makeCpu();
    cpu.setIrq(0, Irq.SupervisorExternal, true);
    cpu.setIrq(0, Irq.SupervisorTimer, true);
    exec(cpu, [encode32('csrrsi', { rd: 5, zimm: 2, csr: MIP })]);
    expect(cpu.getX(0, 5)).toBe(SEIP | STIP); // the read is the OR with the lines
    expect(cpu.getCsr(0, MIP)).toBe(SEIP | STIP | SSIP);
    cpu.setIrq(0, Irq.SupervisorExternal, false);
    cpu.setIrq(0, Irq.SupervisorTimer, false);
    expect(cpu.getCsr(0, MIP)).toBe(SSIP);
    cpu.setIrq(0, Irq.SupervisorExternal, true);
    exec(cpu, [encode32('csrrci', { rd: 0, zimm: 2, csr: MIP })]);
    cpu.setIrq(0, Irq.SupervisorExternal, false);
    expect(cpu.getCsr(0, MIP)).toBe(0n);
    cpu.setCsr(0, 0x304, SEIP);
    expect(cpu.hasPendingInterrupt(0)).toBe(false);
  });
  test('a software-written SEIP stays until software clears it, whatever the line does', () => {
    const cpu = makeCpu();
    cpu.setX(0, 6, SEIP);
    exec(cpu, [encode32('csrrs', { rd: 0, rs1: 6, csr: MIP })]);
    cpu.setIrq(0, Irq.SupervisorExternal, true);
    cpu.setIrq(0, Irq.SupervisorExternal, false);
    expect(cpu.getCsr(0, MIP)).toBe(SEIP);
    cpu.setIrq(0, Irq.SupervisorExternal, true);
    exec(cpu, [encode32('csrrc', { rd: 0, rs1: 6, csr: MIP })]);
    expect(cpu.getCsr(0, MIP)).toBe(SEIP); // still the line's
    cpu.setIrq(0, Irq.SupervisorExternal, false);
    expect(cpu.getCsr(0, MIP)).toBe(0n);
  });
});
