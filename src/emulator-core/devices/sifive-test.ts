// SiFive test finisher (QEMU virt's test@100000, hw/misc/sifive_test.c), the syscon behind the
// FDT's poweroff (0x5555) and reboot (0x7777) nodes. A 32-bit write to offset 0: the low 16 bits
// are a status, the high 16 bits an exit code for FAIL (0x3333). QEMU exits with that code on
// FAIL, 0 on PASS, and resets the machine on RESET; the board does the same through `onEvent`.
import { checkState, saveState, type AccessSize, type MmioDevice, type SavedState, type StateDeclaration } from './device';

export const TestStatus = { Fail: 0x3333, Pass: 0x5555, Reset: 0x7777 } as const;

export type FinisherEvent = { kind: 'pass' } | { kind: 'fail'; code: number } | { kind: 'reset' };

const STATE: StateDeclaration = { name: 'riscv.sifive.test', version: 1, fields: {} };

export class SifiveTest implements MmioDevice {
  readonly name = 'test';
  readonly size = 0x1000;

  constructor(private readonly onEvent: (event: FinisherEvent) => void) {}

  read(_offset: number, _size: AccessSize): number {
    return 0;
  }

  write(offset: number, size: AccessSize, value: number): void {
    // Only a whole-word write at offset 0 is a command; Linux's syscon-poweroff writes 32 bits.
    if (offset !== 0 || size !== 4) return;
    const status = value & 0xffff;
    const code = (value >>> 16) & 0xffff;
    switch (status) {
      case TestStatus.Fail:
        this.onEvent({ kind: 'fail', code });
        return;
      case TestStatus.Pass:
        this.onEvent({ kind: 'pass' });
        return;
      case TestStatus.Reset:
        this.onEvent({ kind: 'reset' });
        return;
    }
  }

  reset(): void {}

  saveState(): SavedState {
    return saveState(STATE, {});
  }

  loadState(state: SavedState): void {
    checkState(STATE, state);
  }
}
