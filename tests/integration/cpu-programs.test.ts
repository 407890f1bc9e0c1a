// The CPU core alone (no board) runs bare-metal programs built at test time from
// tests/fixtures/riscv/*.S: traps and delegation, interrupts, Sv39/Sv48 paging, PMP, atomics,
// compressed code, CSRs. Each program reports through HTIF tohost (1 = pass, else the failed check).
import { describe, expect, test } from 'vitest';
import { runBareMetal } from '../../src/emulator-core/cpu/riscv/testing/bare-metal';
import { buildProgram } from '../fixtures/riscv/build';

function expectPass(source: string, opts: Parameters<typeof runBareMetal>[1] = {}): void {
  const r = runBareMetal(buildProgram(source), { maxInstructions: 5_000_000, ...opts });
  const where = `pc 0x${r.cpu.getPc(0).toString(16)}, mcause ${r.cpu.getCsr(0, 0x342)}, scause ${r.cpu.getCsr(0, 0x142)}`;
  expect(r.status === 'pass' ? 'pass' : `${r.status} at check ${r.code} (${where})`).toBe('pass');
}

describe('bare-metal programs', () => {
  test('traps and delegation', () => expectPass('traps.S'));
  test('interrupts: sip, Sstc timer + WFI, lines, priority, vectored mtvec', () =>
    expectPass('interrupts.S', { irqWord: true, slice: 1000 }));
  test('Sv39 and Sv48 paging: A/D updates, page faults, WARL satp', () => expectPass('mmu.S'));
  test('PMP: protected, read-only and open regions for S; a locked entry binds M', () => expectPass('pmp.S'));
  test('atomics: LR/SC loop, AMOs of both widths', () => expectPass('atomics.S'));
  test('compressed code computes what uncompressed code does', () => expectPass('compressed.S'));
});

