// QEMU's character-device multiplexer escape (chardev/char-mux.c), as `-nographic` and
// `-serial mon:stdio` give it: Ctrl-A is the escape; Ctrl-A x quits, Ctrl-A h (or ?) prints the
// help, Ctrl-A Ctrl-A sends one Ctrl-A to the guest. Other QEMU escapes (c: monitor, s: commit
// disks, b: break, t: timestamps) have nothing behind them yet and are dropped, as QEMU drops
// escapes it does not know.

export const CTRL_A = 0x01;

export type MuxAction = { kind: 'quit' } | { kind: 'help' } | { kind: 'focus'; monitor: boolean };

export const MUX_HELP = [
  'C-a h    print this help',
  'C-a x    exit emulator',
  'C-a C-a  sends C-a',
  '',
].join('\r\n');

export const MUX_HELP_MONITOR = MUX_HELP.replace('C-a C-a', 'C-a c    switch between console and monitor\r\nC-a C-a');

export class MuxEscape {
  private pendingEscape = false;
  private monitorFocus = false;

  /** `monitor`: a monitor shares the line (Ctrl-A c reaches it). */
  constructor(private readonly monitor = false) {}

  /**
   * Splits host input into bytes for the guest, bytes for the monitor (only with one) and escape
   * commands, in order.
   */
  feed(input: Uint8Array): { toGuest: Uint8Array; toMonitor?: Uint8Array; actions: MuxAction[] } {
    const out: number[] = [];
    const mon: number[] = [];
    const actions: MuxAction[] = [];
    const to = (b: number) => (this.monitorFocus ? mon : out).push(b);
    for (const b of input) {
      if (this.pendingEscape) {
        this.pendingEscape = false;
        if (b === CTRL_A) to(CTRL_A);
        else if (b === 0x78 /* x */) actions.push({ kind: 'quit' });
        else if (b === 0x68 /* h */ || b === 0x3f /* ? */) actions.push({ kind: 'help' });
        else if (b === 0x63 /* c */ && this.monitor) {
          this.monitorFocus = !this.monitorFocus;
          actions.push({ kind: 'focus', monitor: this.monitorFocus });
        }
        continue;
      }
      if (b === CTRL_A) this.pendingEscape = true;
      else to(b);
    }
    return this.monitor ? { toGuest: Uint8Array.from(out), toMonitor: Uint8Array.from(mon), actions } : { toGuest: Uint8Array.from(out), actions };
  }
}
