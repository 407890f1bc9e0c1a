import { describe, expect, it } from 'vitest';
import { GuestMemory } from '../../devices/guest-memory';
import { FakeCpu } from '../testing/fake-cpu';
import { Ext, HartState, SBI_SPEC_VERSION, SbiError, SbiFirmware, type ResetKind } from './sbi';

const RAM = 0x8000_0000;

function setup(harts = 2) {
  const cpu = new FakeCpu({ harts, ramBase: RAM, ramSize: 1 << 20, romBase: 0x1000, romSize: 0x1000, mmio: { load: () => undefined, store: () => false }, builtinFirmware: true });
  const mem = new GuestMemory(RAM, cpu.ram);
  let out = '';
  const input: number[] = [];
  const resets: [ResetKind, number][] = [];
  const clock = { now: 1000n };
  const sbi = new SbiFirmware({
    cpu,
    mem,
    mtime: () => clock.now,
    consolePutchar: (b) => (out += String.fromCharCode(b)),
    consoleGetchar: () => input.shift() ?? -1,
    systemReset: (k, r) => resets.push([k, r]),
  });
  sbi.boot(0, RAM, RAM + 0x8000);
  /** Makes hart `h` call (eid, fid, args) and returns [a0, a1, outcome]. */
  const call = (h: number, eid: number, fid: number, ...args: bigint[]) => {
    args.forEach((v, i) => cpu.setX(h, 10 + i, v));
    cpu.setX(h, 17, BigInt(eid));
    cpu.setX(h, 16, BigInt(fid));
    const pc = cpu.getPc(h);
    const outcome = sbi.handleCall(h);
    return { a0: BigInt.asIntN(64, cpu.getX(h, 10)), a1: cpu.getX(h, 11), outcome, advanced: cpu.getPc(h) === pc + 4n };
  };
  return { cpu, mem, sbi, call, out: () => out, input, resets, clock };
}

describe('built-in SBI v2.0', () => {
  it('boots hart 0 in S-mode with a0 = hartid, a1 = FDT; the others are stopped', () => {
    const { cpu, sbi } = setup();
    expect(cpu.getPriv(0)).toBe(1);
    expect(cpu.getPc(0)).toBe(BigInt(RAM));
    expect(cpu.getX(0, 11)).toBe(BigInt(RAM + 0x8000));
    expect(sbi.hartState(0)).toBe(HartState.Started);
    expect(sbi.hartState(1)).toBe(HartState.Stopped);
  });

  it('answers the base extension: version 2.0, probes, and machine ids', () => {
    const { call } = setup();
    expect(call(0, Ext.Base, 0)).toMatchObject({ a0: 0n, a1: SBI_SPEC_VERSION, advanced: true });
    for (const eid of [Ext.Time, Ext.Ipi, Ext.Rfence, Ext.Hsm, Ext.Srst, Ext.Dbcn, Ext.LegacyPutchar]) expect(call(0, Ext.Base, 3, BigInt(eid)).a1).toBe(1n);
    expect(call(0, Ext.Base, 3, 0x504d55n /* PMU */).a1).toBe(0n);
    expect(call(0, Ext.Base, 3, (1n << 32n) | 0x10n).a1).toBe(0n);
    expect(call(0, Ext.Base, 9).a0).toBe(SbiError.NotSupported);
    expect(call(0, 0x0a000000, 0).a0).toBe(SbiError.NotSupported);
  });

  it('starts, reports, suspends and stops harts (HSM) with the spec errors', () => {
    const { call, cpu, sbi } = setup();
    expect(call(0, Ext.Hsm, 0, 5n, BigInt(RAM), 0n).a0).toBe(SbiError.InvalidParam);
    expect(call(0, Ext.Hsm, 0, 1n, 0x1000n, 0n).a0).toBe(SbiError.InvalidAddress);
    expect(call(0, Ext.Hsm, 2, 1n).a1).toBe(BigInt(HartState.Stopped));
    expect(call(0, Ext.Hsm, 0, 1n, BigInt(RAM + 0x100), 0x1234n).a0).toBe(0n);
    expect(cpu.getPc(1)).toBe(BigInt(RAM + 0x100));
    expect([cpu.getX(1, 10), cpu.getX(1, 11), cpu.getPriv(1)]).toEqual([1n, 0x1234n, 1]);
    expect(call(0, Ext.Hsm, 0, 1n, BigInt(RAM), 0n).a0).toBe(SbiError.AlreadyAvailable);
    expect(call(0, Ext.Hsm, 2, 1n).a1).toBe(BigInt(HartState.Started));
    // Retentive suspend: returns SUCCESS when an enabled interrupt is pending.
    expect(call(1, Ext.Hsm, 3, 0n, 0n, 0n)).toMatchObject({ outcome: 'suspended', a0: 0n, advanced: true });
    expect(sbi.hartState(1)).toBe(HartState.Suspended);
    expect(sbi.wakeIfPending(1)).toBe(false);
    cpu.setCsr(1, 0x104, 1n << 1n); // sie.SSIE
    call(0, Ext.Ipi, 0, 0b10n, 0n);
    expect(sbi.wakeIfPending(1)).toBe(true);
    expect(sbi.hartState(1)).toBe(HartState.Started);
    // Non-retentive suspend resumes at resume_addr with a0 = hartid, a1 = opaque.
    expect(call(1, Ext.Hsm, 3, 0x8000_0000n, BigInt(RAM + 0x200), 7n).outcome).toBe('suspended');
    expect(sbi.wakeIfPending(1)).toBe(true);
    expect([cpu.getPc(1), cpu.getX(1, 10), cpu.getX(1, 11)]).toEqual([BigInt(RAM + 0x200), 1n, 7n]);
    expect(call(1, Ext.Hsm, 3, 0x1n, 0n, 0n).a0).toBe(SbiError.InvalidParam);
    expect(call(1, Ext.Hsm, 3, 0x1000_0000n, 0n, 0n).a0).toBe(SbiError.NotSupported);
    expect(call(1, Ext.Hsm, 1).outcome).toBe('stopped');
    expect(sbi.hartState(1)).toBe(HartState.Stopped);
  });

  it('sends IPIs as mip.SSIP to the harts of (mask, base), refusing harts that do not exist', () => {
    const { call, cpu } = setup();
    expect(call(0, Ext.Ipi, 0, 0b1n, 1n).a0).toBe(0n);
    expect(cpu.getCsr(1, 0x344)! & 2n).toBe(2n);
    expect(cpu.getCsr(0, 0x344)! & 2n).toBe(0n);
    expect(call(0, Ext.Ipi, 0, 0b100n, 0n).a0).toBe(SbiError.InvalidParam);
    expect(call(0, Ext.Ipi, 0, 0n, (1n << 64n) - 1n).a0).toBe(0n); // base -1: all harts
    expect(cpu.getCsr(0, 0x344)! & 2n).toBe(2n);
    expect(call(0, Ext.LegacyClearIpi, 0).a0).toBe(0n);
    expect(cpu.getCsr(0, 0x344)! & 2n).toBe(0n);
    expect(call(0, Ext.Rfence, 1, 0b11n, 0n, 0n, 4096n).a0).toBe(0n);
    expect(call(0, Ext.Rfence, 3, 0b11n, 0n).a0).toBe(SbiError.NotSupported); // hfence: no H extension
  });

  it('arms the S-mode timer and raises STIP when it expires', () => {
    const { call, cpu, sbi, clock } = setup();
    expect(call(0, Ext.Time, 0, 5000n).a0).toBe(0n);
    expect(sbi.nextTimer(0)).toBe(5000n);
    expect(cpu.getCsr(0, 0x344)! & (1n << 5n)).toBe(0n);
    clock.now = 5000n;
    sbi.checkTimers(clock.now);
    expect(cpu.getCsr(0, 0x344)! & (1n << 5n)).toBe(1n << 5n);
    expect(sbi.nextTimer(0)).toBeUndefined();
    call(0, Ext.LegacySetTimer, 0, 9000n);
    expect(cpu.getCsr(0, 0x344)! & (1n << 5n)).toBe(0n);
    call(0, Ext.Time, 0, 10n); // in the past: fires at once
    expect(cpu.getCsr(0, 0x344)! & (1n << 5n)).toBe(1n << 5n);
  });

  it('resets the system on SRST with valid type and reason only', () => {
    const { call, resets } = setup();
    expect(call(0, Ext.Srst, 0, 3n, 0n).a0).toBe(SbiError.InvalidParam);
    expect(call(0, Ext.Srst, 0, 0xf000_0000n, 0n).a0).toBe(SbiError.NotSupported);
    expect(call(0, Ext.Srst, 0, 0n, 2n).a0).toBe(SbiError.InvalidParam);
    expect(call(0, Ext.Srst, 0, 1n, 0n).outcome).toBe('reset');
    expect(call(0, Ext.Srst, 0, 0n, 1n).outcome).toBe('reset');
    expect(resets).toEqual([
      ['cold-reboot', 0],
      ['shutdown', 1],
    ]);
  });

  it('writes and reads the debug console through checked physical buffers', () => {
    const { call, mem, out, input } = setup();
    mem.writeBytes(RAM + 0x1000, new TextEncoder().encode('hello'));
    expect(call(0, Ext.Dbcn, 0, 5n, BigInt(RAM + 0x1000), 0n)).toMatchObject({ a0: 0n, a1: 5n });
    expect(call(0, Ext.Dbcn, 2, 0x21n).a0).toBe(0n);
    expect(out()).toBe('hello!');
    expect(call(0, Ext.Dbcn, 0, 16n, BigInt(RAM + (1 << 20) - 8), 0n).a0).toBe(SbiError.InvalidParam);
    expect(call(0, Ext.Dbcn, 0, 1n, 0x1000n, 0n).a0).toBe(SbiError.InvalidParam);
    expect(call(0, Ext.Dbcn, 0, 1n, BigInt(RAM), 1n).a0).toBe(SbiError.InvalidParam);
    input.push(0x41, 0x42);
    expect(call(0, Ext.Dbcn, 1, 8n, BigInt(RAM + 0x2000), 0n)).toMatchObject({ a0: 0n, a1: 2n });
    expect([...mem.slice(RAM + 0x2000, 2)]).toEqual([0x41, 0x42]);
    expect(call(0, Ext.LegacyGetchar, 0).a0).toBe(-1n);
    input.push(0x7a);
    expect(call(0, Ext.LegacyGetchar, 0).a0).toBe(0x7an);
    expect(call(0, Ext.LegacyPutchar, 0, 0x3fn).a0).toBe(0n);
    expect(out()).toBe('hello!?');
  });
});
