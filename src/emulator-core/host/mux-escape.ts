// QEMU's character-device multiplexer escape (chardev/char-mux.c), as `-nographic` and
// `-serial mon:stdio` give it: Ctrl-A is the escape; Ctrl-A x quits, Ctrl-A h (or ?) prints the
// help, Ctrl-A Ctrl-A sends one Ctrl-A to the guest. Other QEMU escapes (c: monitor, s: commit
// disks, b: break, t: timestamps) have nothing behind them yet and are dropped, as QEMU drops
// escapes it does not know.

export const CTRL_A = 0x01;

export type MuxAction = { kind: 'quit' } | { kind: 'help' };

export const MUX_HELP = [
  'C-a h    print this help',
  'C-a x    exit emulator',
  'C-a C-a  sends C-a',
  '',
].join('\r\n');

export class MuxEscape {
  private pendingEscape = false;

  /** Splits host input into bytes for the guest and escape commands, in order. */
  feed(input: Uint8Array): { toGuest: Uint8Array; actions: MuxAction[] } {
    const out: number[] = [];
    const actions: MuxAction[] = [];
    for (const b of input) {
      if (this.pendingEscape) {
        this.pendingEscape = false;
        if (b === CTRL_A) out.push(CTRL_A);
        else if (b === 0x78 /* x */) actions.push({ kind: 'quit' });
        else if (b === 0x68 /* h */ || b === 0x3f /* ? */) actions.push({ kind: 'help' });
        continue;
      }
      if (b === CTRL_A) this.pendingEscape = true;
      else out.push(b);
    }
    return { toGuest: Uint8Array.from(out), actions };
  }
}
