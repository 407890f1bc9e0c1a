// Goldfish RTC (QEMU virt's rtc@101000, hw/rtc/goldfish_rtc.c; Android goldfish spec): a 64-bit
// nanosecond clock since the Unix epoch and one alarm. Reading TIME_LOW latches TIME_HIGH, so a
// low-then-high read pair is consistent. Guest writes to the time shift it (QEMU's tick_offset).
// The board checks the alarm whenever it advances time (`update`).
import { extract } from './word-access';
import { checkState, saveState, type AccessSize, type IrqOutput, type MmioDevice, type SavedState, type StateDeclaration } from './device';

const TIME_LOW = 0x00;
const TIME_HIGH = 0x04;
const ALARM_LOW = 0x08;
const ALARM_HIGH = 0x0c;
const IRQ_ENABLED = 0x10;
const CLEAR_ALARM = 0x14;
const ALARM_STATUS = 0x18;
const CLEAR_INTERRUPT = 0x1c;

/** Where the RTC reads the time of day: host wall clock, or a fixed base plus guest time under -icount. */
export interface RtcTimeSource {
  /** Nanoseconds since the Unix epoch. */
  nowNs(): bigint;
}

const STATE: StateDeclaration = {
  name: 'goldfish_rtc',
  version: 1,
  fields: {
    tickOffset: { kind: 'u64' },
    alarmNext: { kind: 'u64' },
    alarmRunning: { kind: 'bool' },
    irqPending: { kind: 'bool' },
    irqEnabled: { kind: 'bool' },
    timeHigh: { kind: 'u32' },
  },
};

const mask64 = (v: bigint) => BigInt.asUintN(64, v);

export class GoldfishRtc implements MmioDevice {
  readonly name = 'rtc';
  readonly size = 0x1000;
  private tickOffset = 0n;
  private alarmNext = 0n;
  private alarmRunning = false;
  private irqPending = false;
  private irqEnabled = false;
  private timeHigh = 0;
  private irqLevel = false;

  constructor(
    private readonly time: RtcTimeSource,
    private readonly irq: IrqOutput,
  ) {}

  /** The guest-visible time in ns. */
  now(): bigint {
    return mask64(this.time.nowNs() + this.tickOffset);
  }

  /** Nanoseconds until the armed alarm fires (undefined: none armed). */
  nsUntilAlarm(): bigint | undefined {
    if (!this.alarmRunning) return undefined;
    const d = this.alarmNext - this.now();
    return d > 0n ? d : 0n;
  }

  /** Fires the alarm if its time has come. */
  update(): void {
    if (this.alarmRunning && this.now() >= this.alarmNext) {
      this.alarmRunning = false;
      this.irqPending = true;
    }
    this.drive();
  }

  read(offset: number, size: AccessSize): number {
    const aligned = offset & ~3;
    let word: number;
    switch (aligned) {
      case TIME_LOW: {
        const t = this.now();
        this.timeHigh = Number(t >> 32n);
        word = Number(t & 0xffff_ffffn);
        break;
      }
      case TIME_HIGH:
        word = this.timeHigh;
        break;
      case ALARM_LOW:
        word = Number(this.alarmNext & 0xffff_ffffn);
        break;
      case ALARM_HIGH:
        word = Number(this.alarmNext >> 32n);
        break;
      case IRQ_ENABLED:
        word = this.irqEnabled ? 1 : 0;
        break;
      case ALARM_STATUS:
        word = this.alarmRunning ? 1 : 0;
        break;
      default:
        word = 0;
    }
    return extract(word, offset & 3, size);
  }

  write(offset: number, _size: AccessSize, value: number): void {
    const v = BigInt(value >>> 0);
    switch (offset & ~3) {
      case TIME_LOW: {
        const cur = this.now();
        this.tickOffset = mask64(this.tickOffset + ((cur & ~0xffff_ffffn) | v) - cur);
        break;
      }
      case TIME_HIGH: {
        const cur = this.now();
        this.tickOffset = mask64(this.tickOffset + ((cur & 0xffff_ffffn) | (v << 32n)) - cur);
        break;
      }
      case ALARM_LOW:
        // Writing the low half arms the alarm (the driver writes ALARM_HIGH first).
        this.alarmNext = (this.alarmNext & ~0xffff_ffffn) | v;
        this.alarmRunning = true;
        this.update();
        break;
      case ALARM_HIGH:
        this.alarmNext = (this.alarmNext & 0xffff_ffffn) | (v << 32n);
        break;
      case IRQ_ENABLED:
        this.irqEnabled = (value & 1) === 1;
        this.drive();
        break;
      case CLEAR_ALARM:
        this.alarmRunning = false;
        break;
      case CLEAR_INTERRUPT:
        this.irqPending = false;
        this.drive();
        break;
    }
  }

  reset(): void {
    // The time of day survives a reset, like a battery-backed clock (QEMU keeps tick_offset too).
    this.alarmNext = 0n;
    this.alarmRunning = false;
    this.irqPending = false;
    this.irqEnabled = false;
    this.timeHigh = 0;
    this.drive();
  }

  saveState(): SavedState {
    return saveState(STATE, {
      tickOffset: this.tickOffset,
      alarmNext: this.alarmNext,
      alarmRunning: this.alarmRunning,
      irqPending: this.irqPending,
      irqEnabled: this.irqEnabled,
      timeHigh: this.timeHigh,
    });
  }

  loadState(state: SavedState): void {
    const f = checkState(STATE, state);
    this.tickOffset = f.tickOffset as bigint;
    this.alarmNext = f.alarmNext as bigint;
    this.alarmRunning = f.alarmRunning as boolean;
    this.irqPending = f.irqPending as boolean;
    this.irqEnabled = f.irqEnabled as boolean;
    this.timeHigh = f.timeHigh as number;
    this.drive();
  }

  private drive(): void {
    const level = this.irqPending && this.irqEnabled;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq(level);
    }
  }
}
