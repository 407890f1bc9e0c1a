// qemu-img's -p progress line (util/qemu-progress.c, simple printer): "    (42.00/100%)\r",
// printed again whenever it moves by at least one percent, and a newline at the end.
export class Progress {
  private last = -1;
  private current = 0;

  start(): void {
    this.print(0);
  }

  update(percent: number): void {
    this.current = Math.min(100, percent);
    if (this.current - this.last >= 1 || (this.current === 100 && this.last !== 100)) this.print(this.current);
  }

  finish(): void {
    process.stdout.write('\n');
  }

  private print(p: number): void {
    this.last = p;
    process.stdout.write(`    (${p.toFixed(2)}/100%)\r`);
  }
}
