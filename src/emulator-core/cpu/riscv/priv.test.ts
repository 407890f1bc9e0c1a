// Traps, delegation, interrupts and their priorities, xRET, WFI, and the board-facing contract:
// built-in firmware exits, MMIO through the port, several harts.
import { describe, expect, test } from 'vitest';
import { Exit, Irq, Priv } from './cpu';
import { encode32 } from './isa/decode';
import { CODE, DATA, allowAllPmp, exec, makeCpu, ramView } from './testing/snippet';

const MSTATUS = 0x300;
const MIE = 1n << 3n;
const SIE = 1n << 1n;
const nop = encode32('addi', { rd: 0, rs1: 0, imm_i: 0 });
const MTVEC = DATA + 0x800;
const STVEC = DATA + 0xc00;

function setup(): ReturnType<typeof makeCpu> {
  const cpu = makeCpu();
  allowAllPmp(cpu);
  cpu.setCsr(0, 0x305, BigInt(MTVEC));
  cpu.setCsr(0, 0x105, BigInt(STVEC));
  return cpu;
}

describe('exceptions and delegation', () => {
  test('an exception in U goes to M unless medeleg delegates it to S', () => {
    const cpu = setup();
    cpu.setPriv(0, Priv.User);
    exec(cpu, [encode32('ecall')]);
    expect(cpu.getPriv(0)).toBe(Priv.Machine);
    expect(cpu.getCsr(0, 0x342)).toBe(8n);
    expect((cpu.getCsr(0, MSTATUS)! >> 11n) & 3n).toBe(0n); // MPP = U
    cpu.setCsr(0, 0x302, 1n << 8n);
    cpu.setPriv(0, Priv.User);
    exec(cpu, [encode32('ecall')]);
    expect(cpu.getPriv(0)).toBe(Priv.Supervisor);
    expect(cpu.getPc(0)).toBe(BigInt(STVEC));
    expect(cpu.getCsr(0, 0x142)).toBe(8n);
    expect(cpu.getCsr(0, 0x141)).toBe(BigInt(CODE));
    expect(cpu.getCsr(0, MSTATUS)! & (1n << 8n)).toBe(0n); // SPP = U
  });
  test('exceptions in M are never delegated; S ecall is cause 9', () => {
    const cpu = setup();
    cpu.setCsr(0, 0x302, 0xb3ffn);
    exec(cpu, [0]); // illegal
    expect(cpu.getPriv(0)).toBe(Priv.Machine);
    expect(cpu.getCsr(0, 0x342)).toBe(2n);
    cpu.setCsr(0, 0x302, 0xb1ffn);
    cpu.setPriv(0, Priv.Supervisor);
    exec(cpu, [encode32('ecall')]);
    expect(cpu.getCsr(0, 0x342)).toBe(9n);
  });
  test('trap entry stacks the interrupt enables (xPIE = xIE, xIE = 0) and xRET restores them', () => {
    const cpu = setup();
    cpu.setCsr(0, 0x302, 1n << 2n);
    cpu.setCsr(0, MSTATUS, SIE);
    cpu.setPriv(0, Priv.Supervisor);
    exec(cpu, [0]);
    let ms = cpu.getCsr(0, MSTATUS)!;
    expect([ms & SIE, ms & (1n << 5n), ms & (1n << 8n)]).toEqual([0n, 1n << 5n, 1n << 8n]);
    // sret back to S (SPP = S), then an mret to U with MPRV set clears MPRV.
    cpu.setCsr(0, 0x141, BigInt(CODE + 0x40));
    exec(cpu, [encode32('sret')], 1, STVEC);
    ms = cpu.getCsr(0, MSTATUS)!;
    expect(cpu.getPriv(0)).toBe(Priv.Supervisor);
    expect(cpu.getPc(0)).toBe(BigInt(CODE + 0x40));
    expect([ms & SIE, ms & (1n << 5n), ms & (1n << 8n)]).toEqual([SIE, 1n << 5n, 0n]);
    cpu.setPriv(0, Priv.Machine);
    cpu.setCsr(0, MSTATUS, (1n << 17n) | (1n << 7n));
    cpu.setCsr(0, 0x341, BigInt(CODE + 0x80));
    exec(cpu, [encode32('mret')]);
    ms = cpu.getCsr(0, MSTATUS)!;
    expect(cpu.getPriv(0)).toBe(Priv.User);
    expect(ms & ((1n << 17n) | MIE | (1n << 7n))).toBe(MIE | (1n << 7n));
  });
  test('xRET privilege: mret from S and sret from U are illegal; TSR makes sret illegal in S', () => {
    const cpu = setup();
    cpu.setPriv(0, Priv.Supervisor);
    exec(cpu, [encode32('mret')]);
    expect(cpu.getCsr(0, 0x342)).toBe(2n);
    cpu.setPriv(0, Priv.User);
    exec(cpu, [encode32('sret')]);
    expect(cpu.getCsr(0, 0x342)).toBe(2n);
    cpu.setCsr(0, MSTATUS, 1n << 22n);
    cpu.setCsr(0, 0x342, 0n);
    cpu.setPriv(0, Priv.Supervisor);
    exec(cpu, [encode32('sret')]);
    expect(cpu.getCsr(0, 0x342)).toBe(2n);
  });
  test('access faults on unmapped physical memory carry the address', () => {
    const cpu = setup();
    cpu.setX(0, 1, 0x4000_0000n);
    exec(cpu, [encode32('ld', { rd: 2, rs1: 1, imm_i: 8 })]);
    expect([cpu.getCsr(0, 0x342), cpu.getCsr(0, 0x343)]).toEqual([5n, 0x4000_0008n]);
    exec(cpu, [encode32('sw', { rs1: 1, rs2: 2, imm_s: 4 })]);
    expect([cpu.getCsr(0, 0x342), cpu.getCsr(0, 0x343)]).toEqual([7n, 0x4000_0004n]);
    exec(cpu, [encode32('jalr', { rd: 0, rs1: 1, imm_i: 0 }), nop]);
    expect([cpu.getCsr(0, 0x342), cpu.getCsr(0, 0x343), cpu.getCsr(0, 0x341)]).toEqual([1n, 0x4000_0000n, 0x4000_0000n]);
  });
  test('a fault leaves the destination register unchanged', () => {
    const cpu = setup();
    cpu.setX(0, 1, 0x4000_0000n);
    exec(cpu, [encode32('ld', { rd: 1, rs1: 1, imm_i: 0 })]);
    expect(cpu.getX(0, 1)).toBe(0x4000_0000n);
  });
});

describe('interrupts', () => {
  test('taken at the next instruction boundary by priority: MEI > MSI > MTI > SEI > SSI > STI', () => {
    const cpu = setup();
    cpu.setCsr(0, 0x304, 0xaaan);
    cpu.setCsr(0, MSTATUS, MIE);
    writeNops(cpu);
    const order = [Irq.MachineExternal, Irq.MachineSoftware, Irq.MachineTimer, Irq.SupervisorExternal, Irq.SupervisorSoftware, Irq.SupervisorTimer];
    for (const l of order) cpu.setIrq(0, l, true);
    for (const l of order) {
      cpu.setCsr(0, MSTATUS, MIE);
      cpu.setPc(0, BigInt(CODE));
      cpu.run(0, 1);
      expect(cpu.getCsr(0, 0x342)).toBe((1n << 63n) | BigInt(l));
      cpu.setIrq(0, l, false);
    }
  });
  test('M interrupts are enabled below M regardless of MIE; S interrupts need delegation and SIE in S', () => {
    const cpu = setup();
    writeNops(cpu);
    cpu.setCsr(0, 0x304, 0xaaan);
    cpu.setCsr(0, 0x303, 0x222n);
    cpu.setIrq(0, Irq.SupervisorExternal, true);
    cpu.setPriv(0, Priv.Supervisor);
    cpu.run(0, 2);
    expect(cpu.getPc(0)).toBe(BigInt(CODE + 8)); // SIE = 0: not taken in S
    cpu.setPriv(0, Priv.User);
    cpu.run(0, 1);
    expect(cpu.getPriv(0)).toBe(Priv.Supervisor);
    expect(cpu.getCsr(0, 0x142)).toBe((1n << 63n) | 9n);
    cpu.setIrq(0, Irq.SupervisorExternal, false);
    cpu.setIrq(0, Irq.MachineTimer, true);
    cpu.setPc(0, BigInt(CODE));
    cpu.run(0, 1);
    expect(cpu.getPriv(0)).toBe(Priv.Machine);
    expect(cpu.getCsr(0, 0x342)).toBe((1n << 63n) | 7n);
  });
  test('vectored mode adds 4 x cause for interrupts only', () => {
    const cpu = setup();
    writeNops(cpu);
    cpu.setCsr(0, 0x305, BigInt(MTVEC) | 1n);
    cpu.setCsr(0, 0x304, 0xaaan);
    cpu.setCsr(0, MSTATUS, MIE);
    cpu.setIrq(0, Irq.MachineTimer, true);
    cpu.run(0, 1);
    expect(cpu.getCsr(0, 0x341)).toBe(BigInt(CODE));
    expect(cpu.getPc(0)).toBe(BigInt(MTVEC + 4 + 7 * 4)); // handler ran one instruction
  });
  test('a CSR write that enables a pending interrupt takes it before the next instruction', () => {
    const cpu = setup();
    writeNops(cpu);
    cpu.setCsr(0, 0x304, 0x80n);
    cpu.setIrq(0, Irq.MachineTimer, true);
    cpu.setX(0, 5, MIE);
    exec(cpu, [encode32('csrrs', { rd: 0, rs1: 5, csr: MSTATUS }), nop], 1);
    expect(cpu.getPc(0)).toBe(BigInt(MTVEC)); // the trap was entered right after the csrrs
    expect(cpu.getCsr(0, 0x341)).toBe(BigInt(CODE + 4));
  });
  test('Sstc: STIP from time >= stimecmp, taken in S when delegated', () => {
    const cpu = setup();
    writeNops(cpu);
    cpu.setCsr(0, 0x30a, 1n << 63n);
    cpu.setCsr(0, 0x303, 0x222n);
    cpu.setCsr(0, 0x304, 0x20n);
    cpu.setCsr(0, 0x14d, 5000n);
    cpu.setCsr(0, MSTATUS, SIE);
    cpu.setPriv(0, Priv.Supervisor);
    cpu.setTime(4999);
    cpu.run(0, 1);
    expect(cpu.getPc(0)).toBe(BigInt(CODE + 4));
    cpu.setTime(5000);
    expect(cpu.hasPendingInterrupt(0)).toBe(true);
    cpu.run(0, 1);
    expect(cpu.getCsr(0, 0x142)).toBe((1n << 63n) | 5n);
  });
  test('an MMIO access that raises a line is followed by the interrupt, not by the next instruction', () => {
    const ref: { cpu?: ReturnType<typeof makeCpu> } = {};
    const cpu = makeCpu({
      mmio: {
        load: () => 0,
        store: () => {
          ref.cpu!.setIrq(0, Irq.MachineExternal, true);
          return true;
        },
      },
    });
    ref.cpu = cpu;
    cpu.setCsr(0, 0x305, BigInt(MTVEC));
    cpu.setCsr(0, 0x304, 0x800n);
    cpu.setCsr(0, MSTATUS, MIE);
    cpu.setX(0, 1, 0x1000_0000n);
    exec(cpu, [encode32('sw', { rs1: 1, rs2: 0, imm_s: 0 }), nop], 1);
    expect(cpu.getPc(0)).toBe(BigInt(MTVEC));
    expect(cpu.getCsr(0, 0x341)).toBe(BigInt(CODE + 4));
  });
});

describe('WFI', () => {
  test('sleeps (Exit.Wfi, pc after it) unless an enabled interrupt is pending; wakes on mip & mie', () => {
    const cpu = setup();
    writeNops(cpu);
    cpu.setCsr(0, 0x304, 0x80n);
    expect(exec(cpu, [encode32('wfi'), nop], 5)).toBe(Exit.Wfi);
    expect(cpu.getPc(0)).toBe(BigInt(CODE + 4));
    expect(cpu.lastRunInstructions).toBe(1);
    expect(cpu.hasPendingInterrupt(0)).toBe(false);
    cpu.setIrq(0, Irq.MachineTimer, true);
    expect(cpu.hasPendingInterrupt(0)).toBe(true); // MIE = 0 does not matter for waking
    expect(exec(cpu, [encode32('wfi'), nop], 2)).toBe(Exit.Budget);
    expect(cpu.getPc(0)).toBe(BigInt(CODE + 8));
  });
  test('illegal in U, and in S with TW', () => {
    const cpu = setup();
    cpu.setPriv(0, Priv.User);
    exec(cpu, [encode32('wfi')]);
    expect(cpu.getCsr(0, 0x342)).toBe(2n);
    cpu.setCsr(0, MSTATUS, 1n << 21n);
    cpu.setCsr(0, 0x342, 0n);
    cpu.setPriv(0, Priv.Supervisor);
    exec(cpu, [encode32('wfi')]);
    expect(cpu.getCsr(0, 0x342)).toBe(2n);
  });
});

describe('built-in firmware', () => {
  test('harts reset into S-mode with OpenSBI-like delegation; S ECALL exits with pc at the ECALL', () => {
    const cpu = makeCpu({ builtinFirmware: true });
    expect(cpu.getPriv(0)).toBe(Priv.Supervisor);
    expect(cpu.getCsr(0, 0x302)).toBe(0xb1ffn);
    expect(cpu.getCsr(0, 0x303)).toBe(0x222n);
    expect(cpu.getCsr(0, 0x30a)! >> 63n).toBe(1n);
    cpu.setX(0, 17, 0x10n);
    const exit = exec(cpu, [nop, encode32('ecall'), nop], 3);
    expect(exit).toBe(Exit.FirmwareCall);
    expect(cpu.getPc(0)).toBe(BigInt(CODE + 4));
    expect(cpu.getPriv(0)).toBe(Priv.Supervisor);
    expect(cpu.lastRunInstructions).toBe(2);
    expect(cpu.getCsr(0, 0x342)).toBe(0n); // no M trap state was written
  });
  test('U ECALL and other exceptions go to S (delegated); a trap into M exits FirmwareTrap', () => {
    const cpu = makeCpu({ builtinFirmware: true });
    cpu.setCsr(0, 0x105, BigInt(STVEC));
    cpu.setPriv(0, Priv.User);
    exec(cpu, [encode32('ecall')]);
    expect(cpu.getPriv(0)).toBe(Priv.Supervisor);
    expect(cpu.getCsr(0, 0x142)).toBe(8n);
    cpu.setCsr(0, 0x302, 0n); // the kernel cannot do this, but the board can: exceptions now reach M
    expect(exec(cpu, [0, nop], 2)).toBe(Exit.FirmwareTrap);
    expect(cpu.getCsr(0, 0x342)).toBe(2n);
    expect(cpu.getCsr(0, 0x341)).toBe(BigInt(CODE));
  });
});

describe('several harts and the MMIO port', () => {
  test('harts have their own registers, CSRs and privilege', () => {
    const cpu = makeCpu({ harts: 3 });
    allowAllPmp(cpu, 2);
    for (let h = 0; h < 3; h++) cpu.setX(h, 5, BigInt(h * 100));
    cpu.setPriv(2, Priv.Supervisor);
    for (let h = 0; h < 3; h++) {
      cpu.setPc(h, BigInt(CODE));
      writeNops(cpu);
      ramView(cpu).setUint32(0, encode32('addi', { rd: 5, rs1: 5, imm_i: 1 }), true);
      cpu.run(h, 1);
    }
    expect([0, 1, 2].map((h) => cpu.getX(h, 5))).toEqual([1n, 101n, 201n]);
    expect([0, 1, 2].map((h) => cpu.getCsr(h, 0xf14))).toEqual([0n, 1n, 2n]);
    expect([0, 1, 2].map((h) => cpu.getPriv(h))).toEqual([Priv.Machine, Priv.Machine, Priv.Supervisor]);
  });
  test('8-byte device accesses are split into two 4-byte ones, low word first', () => {
    const log: string[] = [];
    const cpu = makeCpu({
      mmio: {
        load: (a, size) => (log.push(`load ${a.toString(16)} ${size}`), a & 0xff),
        store: (a, size, v) => (log.push(`store ${a.toString(16)} ${size} ${v.toString(16)}`), true),
      },
    });
    cpu.setX(0, 1, 0x1000_0000n);
    cpu.setX(0, 2, 0x1122_3344_5566_7788n);
    exec(cpu, [encode32('sd', { rs1: 1, rs2: 2, imm_s: 8 }), encode32('ld', { rd: 3, rs1: 1, imm_i: 16 }), encode32('lhu', { rd: 4, rs1: 1, imm_i: 2 })]);
    expect(log).toEqual([
      'store 10000008 4 55667788', 'store 1000000c 4 11223344', 'load 10000010 4', 'load 10000014 4', 'load 10000002 2',
    ]);
    expect(cpu.getX(0, 3)).toBe((0x14n << 32n) | 0x10n);
    expect(cpu.getX(0, 4)).toBe(2n);
  });
  test('ROM is readable and executable; writes to it are ignored', () => {
    const cpu = makeCpu();
    new DataView(cpu.rom.buffer, cpu.rom.byteOffset).setUint32(0, encode32('addi', { rd: 5, rs1: 0, imm_i: 77 }), true);
    cpu.setX(0, 1, 0x1000n);
    cpu.setPc(0, 0x1000n);
    cpu.run(0, 1);
    expect(cpu.getX(0, 5)).toBe(77n);
    exec(cpu, [encode32('sw', { rs1: 1, rs2: 1, imm_s: 0 }), encode32('lw', { rd: 6, rs1: 1, imm_i: 0 })]);
    expect(cpu.getX(0, 6)).toBe(BigInt(encode32('addi', { rd: 5, rs1: 0, imm_i: 77 })));
    expect(cpu.getCsr(0, 0x342)).toBe(0n);
  });
});

describe('debugger breakpoints', () => {
  test('run() stops before a breakpoint, resumes through it, and ignores cleared ones', () => {
    const cpu = setup();
    writeNops(cpu);
    cpu.setBreakpoints!([BigInt(CODE + 8), BigInt(CODE + 40)]);
    cpu.setPc(0, BigInt(CODE));
    expect(cpu.run(0, 100)).toBe(Exit.Breakpoint);
    expect(cpu.getPc(0)).toBe(BigInt(CODE + 8));
    expect(cpu.lastRunInstructions).toBe(2);
    // Resuming from the breakpoint executes it and stops at the next one.
    expect(cpu.run(0, 100)).toBe(Exit.Breakpoint);
    expect(cpu.getPc(0)).toBe(BigInt(CODE + 40));
    expect(cpu.lastRunInstructions).toBe(8);
    // A single step from a breakpoint executes exactly that instruction.
    expect(cpu.run(0, 1)).toBe(Exit.Budget);
    expect(cpu.getPc(0)).toBe(BigInt(CODE + 44));
    cpu.setBreakpoints!([]);
    cpu.setPc(0, BigInt(CODE));
    expect(cpu.run(0, 100)).toBe(Exit.Budget);
    expect(cpu.getPc(0)).toBe(BigInt(CODE + 400));
  });
});

/** Fills the first 4 KiB of code and the trap vectors with NOPs. */
function writeNops(cpu: ReturnType<typeof makeCpu>): void {
  const v = ramView(cpu);
  for (let off = 0; off < 0x1000; off += 4) v.setUint32(off, nop, true);
  for (let off = MTVEC - CODE; off < MTVEC - CODE + 0x800; off += 4) v.setUint32(off, nop, true);
}
