// SiFive CLINT (QEMU virt's clint@2000000, hw/intc/riscv_aclint.c in its SiFive-compatible layout):
// per-hart msip words at 0x0000, mtimecmp at 0x4000 + 8*hart, mtime at 0xbff8. mtime runs at
// 10 MHz from the board's guest clock; a write to mtime shifts it, as QEMU's time_delta does.
// MTIP is a level (mtime >= mtimecmp), re-evaluated on every write and whenever the board
// advances time (`update`), which it does at least once per slice.
import { extract, insert } from './word-access';
import { checkState, saveState, type AccessSize, type GuestClock, type MmioDevice, type SavedState, type StateDeclaration } from './device';

const MSIP_BASE = 0x0000;
const MTIMECMP_BASE = 0x4000;
const MTIME = 0xbff8;
export const CLINT_SIZE = 0x10000;

const U64_MAX = (1n << 64n) - 1n;

export interface ClintOutputs {
  /** Machine software interrupt (mip.MSIP) of one hart. */
  msip(hart: number, level: boolean): void;
  /** Machine timer interrupt (mip.MTIP) of one hart. */
  mtip(hart: number, level: boolean): void;
}

function declaration(harts: number): StateDeclaration {
  return {
    name: 'riscv.aclint.sifive-clint',
    version: 1,
    fields: {
      msip: { kind: 'u32[]', length: harts },
      mtimecmp: { kind: 'u64[]', length: harts },
      timeOffset: { kind: 'u64' },
    },
  };
}

export class Clint implements MmioDevice {
  readonly name = 'clint';
  readonly size = CLINT_SIZE;
  private readonly decl: StateDeclaration;
  private msip: number[];
  private mtimecmp: bigint[];
  private mtipLevel: boolean[];
  /** Added to the guest clock (two's complement, mod 2^64) after a guest write to mtime. */
  private timeOffset = 0n;

  constructor(
    readonly harts: number,
    private readonly clock: GuestClock,
    private readonly out: ClintOutputs,
  ) {
    this.decl = declaration(harts);
    this.msip = new Array<number>(harts).fill(0);
    this.mtimecmp = new Array<bigint>(harts).fill(U64_MAX);
    this.mtipLevel = new Array<boolean>(harts).fill(false);
  }

  /** mtime as the guest sees it (also what the board gives the CPU's `time` CSR). */
  mtime(): bigint {
    return BigInt.asUintN(64, BigInt(this.clock.mtime()) + this.timeOffset);
  }

  /** The hart's mtimecmp (for the run loop: when a sleeping hart must wake). */
  timecmp(hart: number): bigint {
    return this.mtimecmp[hart]!;
  }

  /** Re-evaluates every hart's MTIP against the current mtime. */
  update(): void {
    const now = this.mtime();
    for (let h = 0; h < this.harts; h++) this.setMtip(h, now >= this.mtimecmp[h]!);
  }

  read(offset: number, size: AccessSize): number {
    const word = this.readWord(offset & ~3);
    return extract(word, offset & 3, size);
  }

  write(offset: number, size: AccessSize, value: number): void {
    const aligned = offset & ~3;
    const word = size === 4 ? value >>> 0 : insert(this.readWord(aligned), offset & 3, size, value);
    this.writeWord(aligned, word);
  }

  reset(): void {
    this.timeOffset = 0n;
    for (let h = 0; h < this.harts; h++) {
      this.msip[h] = 0;
      this.out.msip(h, false);
      this.mtimecmp[h] = U64_MAX;
    }
    this.mtipLevel.fill(true); // force the outputs to be driven low by update()
    this.update();
  }

  saveState(): SavedState {
    return saveState(this.decl, { msip: [...this.msip], mtimecmp: [...this.mtimecmp], timeOffset: this.timeOffset });
  }

  loadState(state: SavedState): void {
    const f = checkState(this.decl, state);
    this.msip = [...(f.msip as number[])].map((v) => v & 1);
    this.mtimecmp = [...(f.mtimecmp as bigint[])];
    this.timeOffset = f.timeOffset as bigint;
    for (let h = 0; h < this.harts; h++) this.out.msip(h, this.msip[h] === 1);
    this.mtipLevel.fill(true);
    this.update();
  }

  private readWord(offset: number): number {
    if (offset >= MSIP_BASE && offset < MSIP_BASE + 4 * this.harts) return this.msip[offset >>> 2]!;
    if (offset >= MTIMECMP_BASE && offset < MTIMECMP_BASE + 8 * this.harts) {
      const v = this.mtimecmp[(offset - MTIMECMP_BASE) >>> 3]!;
      return Number(offset & 4 ? v >> 32n : v & 0xffff_ffffn);
    }
    if (offset === MTIME || offset === MTIME + 4) {
      const v = this.mtime();
      return Number(offset & 4 ? v >> 32n : v & 0xffff_ffffn);
    }
    return 0; // unimplemented registers read as zero, as in QEMU
  }

  private writeWord(offset: number, value: number): void {
    if (offset >= MSIP_BASE && offset < MSIP_BASE + 4 * this.harts) {
      const hart = offset >>> 2;
      this.msip[hart] = value & 1;
      this.out.msip(hart, (value & 1) === 1);
      return;
    }
    if (offset >= MTIMECMP_BASE && offset < MTIMECMP_BASE + 8 * this.harts) {
      const hart = (offset - MTIMECMP_BASE) >>> 3;
      this.mtimecmp[hart] = replaceHalf(this.mtimecmp[hart]!, offset & 4, value);
      this.setMtip(hart, this.mtime() >= this.mtimecmp[hart]!);
      return;
    }
    if (offset === MTIME || offset === MTIME + 4) {
      const wanted = replaceHalf(this.mtime(), offset & 4, value);
      this.timeOffset = BigInt.asUintN(64, wanted - BigInt(this.clock.mtime()));
      this.update();
    }
  }

  private setMtip(hart: number, level: boolean): void {
    if (this.mtipLevel[hart] === level) return;
    this.mtipLevel[hart] = level;
    this.out.mtip(hart, level);
  }
}

function replaceHalf(v: bigint, high: number, word: number): bigint {
  const w = BigInt(word >>> 0);
  return high ? (v & 0xffff_ffffn) | (w << 32n) : (v & ~0xffff_ffffn) | w;
}
