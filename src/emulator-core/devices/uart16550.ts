// NS16550A UART (QEMU virt's serial@10000000, hw/char/serial.c), as Linux's 8250 driver expects:
// the autoconfig probe (IER scratch test, MCR loopback -> MSR, FIFO type from IIR bits 7:6), THRE
// interrupts that re-assert when IER.ETBEI goes 0 -> 1 (the driver's UART_BUG_THRE test), a 16-byte
// receive FIFO with trigger levels. Transmission is instantaneous (no baud-rate timing, as QEMU
// without a chardev backpressure). Host input waits in a queue outside the FIFO and enters it only as
// the FIFO drains, like QEMU's chardev can_receive, so a paste is never lost to an overrun.
// The receive timeout (CTI) is reported as soon as the FIFO holds fewer bytes than the trigger
// level: the guest sees the same IIR sequence as after QEMU's 4-character timeout, without a timer.
import { checkState, saveState, type AccessSize, type IrqOutput, type MmioDevice, type SavedState, type StateDeclaration } from './device';

// Register offsets (reg-shift 0). With LCR.DLAB set, 0 and 1 are the divisor latch.
const RBR_THR_DLL = 0;
const IER_DLM = 1;
const IIR_FCR = 2;
const LCR = 3;
const MCR = 4;
const LSR = 5;
const MSR = 6;
const SCR = 7;

const IER_RDI = 0x01;
const IER_THRI = 0x02;
const IER_RLSI = 0x04;
const IER_MSI = 0x08;

const IIR_NO_INT = 0x01;
const IIR_MSI = 0x00;
const IIR_THRI = 0x02;
const IIR_RDI = 0x04;
const IIR_RLSI = 0x06;
const IIR_CTI = 0x0c;
const IIR_FIFO_ENABLED = 0xc0;

const FCR_FE = 0x01;
const FCR_RFR = 0x02;
const FCR_XFR = 0x04;

const LCR_DLAB = 0x80;

const MCR_LOOP = 0x10;
const MCR_OUT2 = 0x08;

const LSR_DR = 0x01;
const LSR_OE = 0x02;
const LSR_BI = 0x10;
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;
const LSR_INT_ANY = 0x1e;

const MSR_DCTS = 0x01;
const MSR_DCD = 0x80;
const MSR_DSR = 0x20;
const MSR_CTS = 0x10;
const MSR_ANY_DELTA = 0x0f;

const FIFO_SIZE = 16;
/** Receive trigger levels selected by FCR bits 7:6. */
const TRIGGER_LEVELS = [1, 4, 8, 14] as const;
/** Host input held back while the FIFO is full; beyond this the oldest input is dropped. */
const MAX_HOST_QUEUE = 1 << 20;

const STATE: StateDeclaration = {
  name: 'ns16550a',
  version: 1,
  fields: {
    divider: { kind: 'u16' },
    ier: { kind: 'u8' },
    lcr: { kind: 'u8' },
    mcr: { kind: 'u8' },
    lsr: { kind: 'u8' },
    msr: { kind: 'u8' },
    scr: { kind: 'u8' },
    fcr: { kind: 'u8' },
    thrIpending: { kind: 'bool' },
    rxFifo: { kind: 'bytes' },
  },
};

export class Uart16550 implements MmioDevice {
  readonly name = 'uart0';
  readonly size = 0x100;

  private divider = 0;
  private ier = 0;
  private lcr = 0;
  private mcr = MCR_OUT2;
  private lsr = LSR_TEMT | LSR_THRE;
  private msr = MSR_DCD | MSR_DSR | MSR_CTS;
  private scr = 0;
  private fcr = 0;
  private thrIpending = false;
  private rxFifo: number[] = [];
  private hostQueue: number[] = [];
  private hostQueueHead = 0;
  private irqLevel = false;

  /**
   * @param irq the UART's interrupt line (PLIC source 10 on virt)
   * @param transmit receives every byte the guest writes to THR (outside loopback mode)
   */
  constructor(
    private readonly irq: IrqOutput,
    private readonly transmit: (byte: number) => void,
  ) {}

  /** Bytes typed on the host side of the serial line. */
  pushInput(bytes: Uint8Array | readonly number[]): void {
    for (const b of bytes) this.hostQueue.push(b & 0xff);
    const excess = this.hostQueue.length - this.hostQueueHead - MAX_HOST_QUEUE;
    if (excess > 0) this.hostQueueHead += excess;
    this.fillFifo();
    this.updateIrq();
  }

  /** Host input not yet taken by the guest. */
  get pendingInput(): number {
    return this.hostQueue.length - this.hostQueueHead + this.rxFifo.length;
  }

  read(offset: number, _size: AccessSize): number {
    switch (offset & 7) {
      case RBR_THR_DLL:
        if (this.lcr & LCR_DLAB) return this.divider & 0xff;
        return this.readRbr();
      case IER_DLM:
        return this.lcr & LCR_DLAB ? (this.divider >>> 8) & 0xff : this.ier;
      case IIR_FCR: {
        const iir = this.currentIir();
        // Reading IIR acknowledges a THRE interrupt (16550 datasheet; QEMU serial_ioport_read).
        if ((iir & 0x0f) === IIR_THRI) {
          this.thrIpending = false;
          this.updateIrq();
        }
        return iir;
      }
      case LCR:
        return this.lcr;
      case MCR:
        return this.mcr;
      case LSR: {
        const v = this.lsr;
        if (this.lsr & (LSR_BI | LSR_OE)) {
          this.lsr &= ~(LSR_BI | LSR_OE);
          this.updateIrq();
        }
        return v;
      }
      case MSR:
        if (this.mcr & MCR_LOOP) {
          // Loopback: the modem outputs feed the inputs (DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD).
          return ((this.mcr & 0x0c) << 4) | ((this.mcr & 0x02) << 3) | ((this.mcr & 0x01) << 5);
        } else {
          const v = this.msr;
          if (v & MSR_ANY_DELTA) {
            this.msr &= 0xf0;
            this.updateIrq();
          }
          return v;
        }
      default:
        return this.scr;
    }
  }

  write(offset: number, _size: AccessSize, value: number): void {
    const v = value & 0xff;
    switch (offset & 7) {
      case RBR_THR_DLL:
        if (this.lcr & LCR_DLAB) {
          this.divider = (this.divider & 0xff00) | v;
          return;
        }
        this.writeThr(v);
        return;
      case IER_DLM: {
        if (this.lcr & LCR_DLAB) {
          this.divider = (this.divider & 0x00ff) | (v << 8);
          return;
        }
        const changed = (this.ier ^ v) & 0x0f;
        this.ier = v & 0x0f;
        if (changed & IER_THRI) this.thrIpending = (this.ier & IER_THRI) !== 0 && (this.lsr & LSR_THRE) !== 0;
        this.updateIrq();
        return;
      }
      case IIR_FCR:
        this.writeFcr(v);
        return;
      case LCR:
        this.lcr = v;
        return;
      case MCR:
        this.mcr = v & 0x1f;
        return;
      case LSR:
      case MSR:
        return; // read-only (QEMU ignores these writes too)
      default:
        this.scr = v;
    }
  }

  reset(): void {
    this.divider = 0;
    this.ier = 0;
    this.lcr = 0;
    this.mcr = MCR_OUT2;
    this.lsr = LSR_TEMT | LSR_THRE;
    this.msr = MSR_DCD | MSR_DSR | MSR_CTS;
    this.scr = 0;
    this.fcr = 0;
    this.thrIpending = false;
    this.rxFifo = [];
    this.fillFifo();
    this.updateIrq();
  }

  saveState(): SavedState {
    return saveState(STATE, {
      divider: this.divider,
      ier: this.ier,
      lcr: this.lcr,
      mcr: this.mcr,
      lsr: this.lsr,
      msr: this.msr,
      scr: this.scr,
      fcr: this.fcr,
      thrIpending: this.thrIpending,
      rxFifo: Uint8Array.from(this.rxFifo),
    });
  }

  loadState(state: SavedState): void {
    const f = checkState(STATE, state);
    const rx = f.rxFifo as Uint8Array;
    if (rx.length > FIFO_SIZE) throw new Error(`${STATE.name}.rxFifo: more than ${FIFO_SIZE} bytes`);
    this.divider = f.divider as number;
    this.ier = (f.ier as number) & 0x0f;
    this.lcr = f.lcr as number;
    this.mcr = (f.mcr as number) & 0x1f;
    this.lsr = f.lsr as number;
    this.msr = f.msr as number;
    this.scr = f.scr as number;
    this.fcr = f.fcr as number;
    this.thrIpending = f.thrIpending as boolean;
    this.rxFifo = [...rx];
    this.updateIrq();
  }

  private fifoEnabled(): boolean {
    return (this.fcr & FCR_FE) !== 0;
  }

  private readRbr(): number {
    const v = this.rxFifo.shift() ?? 0;
    this.fillFifo();
    if (this.rxFifo.length === 0) this.lsr &= ~(LSR_DR | LSR_BI);
    this.updateIrq();
    return v;
  }

  private writeThr(v: number): void {
    if (this.mcr & MCR_LOOP) {
      // Loopback: the byte comes straight back to the receiver, nothing leaves the UART.
      if (this.rxFifo.length < this.capacity()) this.rxFifo.push(v);
      else this.lsr |= LSR_OE;
      this.lsr |= LSR_DR;
    } else {
      this.transmit(v);
    }
    // Sent at once: THR and the shift register are empty again, which raises THRE.
    this.lsr |= LSR_THRE | LSR_TEMT;
    this.thrIpending = true;
    this.updateIrq();
  }

  private writeFcr(v: number): void {
    if ((v ^ this.fcr) & FCR_FE) {
      // Enabling or disabling the FIFOs clears them (16550 datasheet, FCR bit 0).
      v |= FCR_RFR | FCR_XFR;
    }
    if (v & FCR_RFR) {
      this.rxFifo = [];
      this.lsr &= ~(LSR_DR | LSR_BI);
    }
    this.fcr = v & 0xc9; // FE, DMA mode, trigger level; the reset bits self-clear
    this.fillFifo();
    this.updateIrq();
  }

  private capacity(): number {
    return this.fifoEnabled() ? FIFO_SIZE : 1;
  }

  /** Moves queued host input into the FIFO as far as it has room (in loopback the line is cut off). */
  private fillFifo(): void {
    if (this.mcr & MCR_LOOP) return;
    const cap = this.capacity();
    while (this.rxFifo.length < cap && this.hostQueueHead < this.hostQueue.length) {
      this.rxFifo.push(this.hostQueue[this.hostQueueHead++]!);
    }
    if (this.hostQueueHead === this.hostQueue.length) {
      this.hostQueue = [];
      this.hostQueueHead = 0;
    } else if (this.hostQueueHead > 4096) {
      this.hostQueue = this.hostQueue.slice(this.hostQueueHead);
      this.hostQueueHead = 0;
    }
    if (this.rxFifo.length > 0) this.lsr |= LSR_DR;
  }

  /** The interrupt identification by priority (16550 datasheet table 4; QEMU serial_update_irq). */
  private pendingId(): number {
    const trigger = TRIGGER_LEVELS[(this.fcr >>> 6) & 3];
    const hasData = (this.lsr & LSR_DR) !== 0;
    if (this.ier & IER_RLSI && this.lsr & LSR_INT_ANY) return IIR_RLSI;
    if (this.ier & IER_RDI && hasData) {
      if (!this.fifoEnabled() || this.rxFifo.length >= trigger) return IIR_RDI;
      return IIR_CTI;
    }
    if (this.ier & IER_THRI && this.thrIpending) return IIR_THRI;
    if (this.ier & IER_MSI && this.msr & MSR_ANY_DELTA) return IIR_MSI;
    return IIR_NO_INT;
  }

  private currentIir(): number {
    return this.pendingId() | (this.fifoEnabled() ? IIR_FIFO_ENABLED : 0);
  }

  private updateIrq(): void {
    const level = this.pendingId() !== IIR_NO_INT;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq(level);
    }
  }
}

/** Exported for tests: register offsets and bits the driver-level tests speak in. */
export const UartRegs = { RBR_THR_DLL, IER_DLM, IIR_FCR, LCR, MCR, LSR, MSR, SCR } as const;
export const UartBits = { IER_RDI, IER_THRI, IIR_NO_INT, IIR_THRI, IIR_RDI, IIR_CTI, LSR_DR, LSR_THRE, MSR_DCTS } as const;
