import { describe, expect, it } from 'vitest';
import { Uart16550, UartRegs as R } from './uart16550';

function setup() {
  const out: number[] = [];
  const irq: boolean[] = [];
  const uart = new Uart16550((l) => irq.push(l), (b) => out.push(b));
  const level = () => irq[irq.length - 1] ?? false;
  return { uart, out, irq, level };
}

describe('ns16550a UART', () => {
  it("passes Linux 8250 autoconfig's probes: IER scratch, loopback MSR, 16550A FIFO id", () => {
    const { uart } = setup();
    uart.write(R.IER_DLM, 1, 0);
    expect(uart.read(R.IER_DLM, 1) & 0x0f).toBe(0);
    uart.write(R.IER_DLM, 1, 0x0f);
    expect(uart.read(R.IER_DLM, 1) & 0x0f).toBe(0x0f);
    uart.write(R.IER_DLM, 1, 0);
    uart.write(R.MCR, 1, 0x10 | 0x0a); // LOOP | OUT2 | RTS
    expect(uart.read(R.MSR, 1) & 0xf0).toBe(0x80 | 0x10); // DCD | CTS
    uart.write(R.MCR, 1, 0);
    uart.write(R.IIR_FCR, 1, 0x01);
    expect(uart.read(R.IIR_FCR, 1) >> 6).toBe(3);
    uart.write(R.IIR_FCR, 1, 0);
    expect(uart.read(R.IIR_FCR, 1) >> 6).toBe(0);
  });

  it('gives the divisor latch at offsets 0/1 while LCR.DLAB is set', () => {
    const { uart, out } = setup();
    uart.write(R.LCR, 1, 0x80);
    uart.write(0, 1, 0x0c);
    uart.write(1, 1, 0x01);
    expect(uart.read(0, 1)).toBe(0x0c);
    expect(uart.read(1, 1)).toBe(0x01);
    uart.write(R.LCR, 1, 0x03);
    expect(uart.read(1, 1)).toBe(0);
    expect(out).toEqual([]);
  });

  it('transmits THR bytes and re-asserts THRE when ETBEI is enabled (UART_BUG_THRE test)', () => {
    const { uart, out, level } = setup();
    uart.write(R.IER_DLM, 1, 0x02);
    expect(uart.read(R.IIR_FCR, 1) & 0x0f).toBe(0x02);
    expect(uart.read(R.IIR_FCR, 1) & 0x0f).toBe(0x01); // reading IIR acknowledged THRE
    uart.write(R.IER_DLM, 1, 0);
    uart.write(R.IER_DLM, 1, 0x02);
    expect(uart.read(R.IIR_FCR, 1) & 0x0f).toBe(0x02);
    uart.write(0, 1, 0x41);
    uart.write(0, 1, 0x42);
    expect(out).toEqual([0x41, 0x42]);
    expect(uart.read(R.LSR, 1) & 0x60).toBe(0x60);
    expect(level()).toBe(true);
    uart.write(R.IER_DLM, 1, 0);
    expect(level()).toBe(false);
  });

  it('receives through the FIFO: RDI at the trigger level, CTI below it, no overrun on a long paste', () => {
    const { uart, level } = setup();
    uart.write(R.IIR_FCR, 1, 0x81); // FIFO on, trigger 8
    uart.write(R.IER_DLM, 1, 0x01);
    uart.pushInput(new TextEncoder().encode('hi'));
    expect(level()).toBe(true);
    expect(uart.read(R.IIR_FCR, 1) & 0x0f).toBe(0x0c);
    const paste = Uint8Array.from({ length: 100 }, (_, i) => i);
    uart.pushInput(paste);
    expect(uart.read(R.IIR_FCR, 1) & 0x0f).toBe(0x04);
    const got: number[] = [];
    while (uart.read(R.LSR, 1) & 1) got.push(uart.read(0, 1));
    expect(got).toEqual([0x68, 0x69, ...paste]);
    expect(uart.read(R.LSR, 1) & 0x02).toBe(0); // no overrun
    expect(level()).toBe(false);
    expect(uart.pendingInput).toBe(0);
  });

  it('holds one byte at a time with the FIFO off', () => {
    const { uart } = setup();
    uart.pushInput([1, 2]);
    expect(uart.read(R.LSR, 1) & 1).toBe(1);
    expect(uart.read(0, 1)).toBe(1);
    expect(uart.read(0, 1)).toBe(2);
    expect(uart.read(R.LSR, 1) & 1).toBe(0);
  });

  it('loops transmitted bytes back in loopback mode', () => {
    const { uart, out } = setup();
    uart.write(R.MCR, 1, 0x10);
    uart.write(0, 1, 0x55);
    expect(out).toEqual([]);
    expect(uart.read(0, 1)).toBe(0x55);
  });

  it('round-trips its state', () => {
    const a = setup();
    a.uart.write(R.IIR_FCR, 1, 0xc1);
    a.uart.write(R.IER_DLM, 1, 0x05);
    a.uart.write(R.SCR, 1, 0x5a);
    a.uart.pushInput([7, 8, 9]);
    const b = setup();
    b.uart.loadState(a.uart.saveState());
    expect(b.uart.saveState()).toEqual(a.uart.saveState());
    expect(b.uart.read(0, 1)).toBe(7);
  });
});
