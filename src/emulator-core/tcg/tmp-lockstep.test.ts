import { test, expect } from 'vitest';
import { buildProgram } from '../../../tests/fixtures/riscv/build';
import { runLockstep } from './testing/lockstep';
for (const [src, irq, slice] of [['traps.S', false, 10000], ['interrupts.S', true, 1000], ['mmu.S', false, 10000], ['pmp.S', false, 10000], ['atomics.S', false, 10000], ['compressed.S', false, 10000]] as const) {
  test(src, () => {
    const r = runLockstep(buildProgram(src), { irqWord: irq, slice });
    expect(r.mismatch).toBeUndefined();
    expect(r.status).toBe('pass');
  });
}
