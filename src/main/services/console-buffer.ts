// The bytes a VM's serial line produced, kept so that a console window opened late (or reopened,
// or a page reload in web mode) shows the scrollback, and a crash report can quote the last lines.
export class ConsoleBuffer {
  private chunks: Uint8Array[] = [];
  private size = 0;

  constructor(private readonly capacity = 256 * 1024) {}

  push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.size += bytes.length;
    while (this.size > this.capacity && this.chunks.length > 1) {
      this.size -= this.chunks.shift()!.length;
    }
  }

  snapshot(): Uint8Array {
    return Buffer.concat(this.chunks);
  }

  /** The last `count` non-empty lines, without terminal escape sequences. */
  lastLines(count: number): string[] {
    const text = Buffer.from(this.snapshot())
      .toString('utf8')
      // CSI sequences and other ESC-prefixed controls: a crash report is plain text.
      .replace(/\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]/g, '');
    return text
      .split(/\r?\n|\r/)
      .map((l) => l.trimEnd())
      .filter((l) => l.length > 0)
      .slice(-count);
  }
}
