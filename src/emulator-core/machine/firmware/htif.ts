// HTIF, the Berkeley host-target interface of Spike and riscv-tests, as bare-metal ELF programs
// use it: a 64-bit `tohost` word in RAM that the program writes and the host clears, and an
// optional `fromhost` word for replies. tohost = device(63:56) | command(55:48) | payload(47:0):
//   device 0, command 0, payload odd:  exit with status payload >> 1 (0: pass, else the failing test)
//   device 0, command 0, payload even: a pointer to a "magic mem" syscall block (riscv-pk's
//     frontend syscalls); only SYS_write (64) to stdout/stderr is served, others return -ENOSYS
//   device 1 (console), command 1:     putchar(payload & 0xff)
// Since tohost lives in RAM, the board polls it between runs instead of trapping the store.
import type { GuestMemory } from '../../devices/guest-memory';

export type HtifEvent = { kind: 'exit'; code: number };

const SYS_WRITE = 64n;
const ENOSYS = 38n;

export class Htif {
  constructor(
    private readonly mem: GuestMemory,
    private readonly tohost: number,
    private readonly fromhost: number | undefined,
    private readonly putchar: (byte: number) => void,
  ) {
    if (!mem.contains(tohost, 8)) throw new RangeError(`tohost at 0x${tohost.toString(16)} is outside RAM`);
    if (fromhost !== undefined && !mem.contains(fromhost, 8)) throw new RangeError(`fromhost at 0x${fromhost.toString(16)} is outside RAM`);
  }

  /** Serves a pending tohost command, if any. */
  poll(): HtifEvent | undefined {
    const v = this.mem.readU64(this.tohost);
    if (v === 0n) return undefined;
    this.mem.writeU64(this.tohost, 0n);
    const device = Number(v >> 56n);
    const command = Number((v >> 48n) & 0xffn);
    const payload = v & 0xffff_ffff_ffffn;
    if (device === 0 && command === 0) {
      if (payload & 1n) return { kind: 'exit', code: Number((payload >> 1n) & 0x7fff_ffffn) };
      this.syscall(Number(payload));
      this.reply(1n);
      return undefined;
    }
    if (device === 1 && command === 1) {
      this.putchar(Number(payload & 0xffn));
      this.reply((1n << 56n) | (1n << 48n));
    }
    // device 1 command 0 (getchar) and unknown devices get no reply, as on Spike without input.
    return undefined;
  }

  private syscall(addr: number): void {
    if (!this.mem.contains(addr, 64)) return;
    const no = this.mem.readU64(addr);
    const arg = (i: number) => this.mem.readU64(addr + 8 * (i + 1));
    let ret = -ENOSYS;
    if (no === SYS_WRITE && (arg(0) === 1n || arg(0) === 2n)) {
      const buf = Number(arg(1));
      const len = Number(arg(2) > 1n << 20n ? 1n << 20n : arg(2));
      if (this.mem.contains(buf, len)) {
        for (const b of this.mem.slice(buf, len)) this.putchar(b);
        ret = BigInt(len);
      } else {
        ret = -14n; // -EFAULT
      }
    }
    this.mem.writeU64(addr, ret);
  }

  private reply(v: bigint): void {
    if (this.fromhost !== undefined) this.mem.writeU64(this.fromhost, v);
  }
}
