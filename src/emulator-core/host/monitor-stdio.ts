// `-monitor stdio`, and the monitor behind Ctrl-A c on a muxed line (-nographic, -serial
// mon:stdio): QEMU's human monitor on the terminal. It prints QEMU's banner and "(qemu) " prompt, reads command lines (the terminal edits and echoes them, as it is left in cooked
// mode) and runs them one at a time (a savevm finishes before the next line is read). End of
// input ends the monitor, not the VM, as with QEMU.
import { runHmp, type HmpBackend } from '../monitor/hmp';

export const MONITOR_BANNER = "QEMU 7.2.0 monitor (vivarium) - type 'help' for more information\r\n";
const PROMPT = '(qemu) ';

export class HmpConsole {
  private buffered = '';
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly backend: HmpBackend,
    private readonly write: (text: string) => void,
  ) {}

  private started = false;

  start(): void {
    this.started = true;
    this.write(MONITOR_BANNER + PROMPT);
  }

  /** On a muxed line (Ctrl-A c): the monitor takes the input; its prompt shows (the banner first). */
  focus(monitor: boolean): void {
    if (!monitor) return;
    if (!this.started) this.start();
    else this.write('\r\n' + PROMPT);
  }

  /** Input bytes (a terminal's lines, or a pipe's). */
  feed(text: string): void {
    this.buffered += text;
    for (let nl = this.buffered.search(/[\r\n]/); nl >= 0; nl = this.buffered.search(/[\r\n]/)) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      if (line === '' && this.buffered.startsWith('\n')) continue;
      this.queue = this.queue.then(async () => {
        if (this.closed) return;
        const out = await runHmp(this.backend, line);
        if (!this.closed) this.write(out + PROMPT);
      });
    }
  }

  /** Resolves when every command given so far has run (tests). */
  settled(): Promise<void> {
    return this.queue;
  }

  close(): void {
    this.closed = true;
  }
}

/** Binds an HmpConsole to process.stdin/stdout. */
export function openStdioMonitor(backend: HmpBackend): { close(): void } {
  const console = new HmpConsole(backend, (t) => process.stdout.write(t));
  const onData = (d: Buffer) => console.feed(d.toString('utf8'));
  process.stdin.on('data', onData);
  process.stdin.resume();
  console.start();
  return {
    close() {
      console.close();
      process.stdin.off('data', onData);
      process.stdin.pause();
    },
  };
}
