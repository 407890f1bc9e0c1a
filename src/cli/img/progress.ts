// qemu-img's -p progress line (util/qemu-progress.c, simple printer): "    (42.00/100%)\r",
// printed again whenever it moves by at least `minSkip` percent (1 for convert, 2 for compare
// and rebase), then a newline at the end.
export class Progress {
  private last = -1;

  start(): void {
    this.print(0);
  }

  constructor(private readonly minSkip = 1) {}

  update(percent: number, force = false): void {
    const current = Math.min(100, percent);
    if (force || current - this.last >= this.minSkip) this.print(current);
  }

  /** The newline that ends the progress line (qemu_progress_end). */
  finish(): void {
    process.stdout.write('\n');
  }

  private print(p: number): void {
    this.last = p;
    process.stdout.write(`    (${cFixed(p, 2)}/100%)\r`);
  }
}

/** printf("%.<digits>f"): rounds the exact binary value, ties to even (toFixed rounds ties up). */
export function cFixed(x: number, digits: number): string {
  const exact = Math.abs(x).toFixed(60); // exact: a double < 2^53 has at most 52 fractional binary digits
  const dot = exact.indexOf('.');
  const keep = exact.slice(0, dot + 1 + digits);
  const rest = exact.slice(dot + 1 + digits);
  const half = rest[0]! > '5' || (rest[0] === '5' && /[1-9]/.test(rest.slice(1)));
  const tie = rest[0] === '5' && !/[1-9]/.test(rest.slice(1));
  const lastDigit = Number(keep.replace('.', '').slice(-1));
  const up = half || (tie && lastDigit % 2 === 1);
  let out = keep.endsWith('.') ? keep.slice(0, -1) : keep;
  if (up) {
    const scaled = BigInt(out.replace('.', '')) + 1n;
    const str = scaled.toString().padStart(digits + 1, '0');
    out = digits ? `${str.slice(0, -digits)}.${str.slice(-digits)}` : str;
  }
  return (x < 0 ? '-' : '') + out;
}
