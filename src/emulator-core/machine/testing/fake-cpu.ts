// A small RV64I + Zicsr interpreter implementing the RiscvCpu contract, for the board's own tests
// (the real core lives in cpu/riscv and is tested there). It runs the mask ROM and tiny test
// programs: integer instructions, loads/stores to RAM, ROM and the MmioPort (8-byte accesses
// split low word first, as the contract says), CSRs as a plain table, ECALL as Exit.FirmwareCall
// in built-in firmware mode, WFI as Exit.Wfi, and `time` from setTime. It takes no interrupts:
// a WFI ends when hasPendingInterrupt (mip & mie) says so, which is what the run loop needs.
import { Exit, Priv, type ExitReason, type IrqLine, type PrivLevel, type RiscvCpu, type RiscvCpuOptions } from '../../cpu/riscv/cpu';

const MASK64 = (1n << 64n) - 1n;
const sx = (v: bigint, bits: number) => BigInt.asIntN(bits, v);
const u64 = (v: bigint) => v & MASK64;

interface Hart {
  x: BigInt64Array;
  pc: bigint;
  priv: PrivLevel;
  csr: Map<number, bigint>;
  mip: bigint;
  instret: number;
}

/** CSRs the fake knows (value on reset); anything else is "not implemented". */
const KNOWN_CSRS: Record<number, bigint> = {
  0x100: 0n, 0x104: 0n, 0x105: 0n, 0x106: 0n, 0x140: 0n, 0x141: 0n, 0x142: 0n, 0x143: 0n, 0x180: 0n,
  0x300: 0n, 0x301: (2n << 62n) | 0x112dn /* rv64 imafdc + s,u */, 0x302: 0n, 0x303: 0n, 0x304: 0n, 0x305: 0n, 0x306: 0n,
  0x30a: 0n, 0x340: 0n, 0x344: 0n, 0x341: 0n, 0x342: 0n, 0x343: 0n, 0x3a0: 0n, 0x3b0: 0n,
  0xf11: 0n, 0xf12: 0n, 0xf13: 0n,
};

export class FakeCpu implements RiscvCpu {
  readonly harts: number;
  readonly ram: Uint8Array;
  readonly rom: Uint8Array;
  lastRunInstructions = 0;
  private time = 0;
  private readonly h: Hart[];
  private readonly ramView: DataView;
  private readonly romView: DataView;
  /** Every MMIO access, for tests that check the split of 8-byte accesses. */
  readonly mmioLog: string[] = [];

  constructor(private readonly o: RiscvCpuOptions & { sstc?: boolean }) {
    this.harts = o.harts;
    this.ram = new Uint8Array(o.ramSize);
    this.rom = new Uint8Array(o.romSize);
    this.ramView = new DataView(this.ram.buffer);
    this.romView = new DataView(this.rom.buffer);
    this.h = Array.from({ length: o.harts }, () => this.freshHart(0n));
  }

  private freshHart(pc: bigint): Hart {
    const csr = new Map<number, bigint>(Object.entries(KNOWN_CSRS).map(([k, v]) => [Number(k), v]));
    if (this.o.sstc) csr.set(0x14d, MASK64);
    return { x: new BigInt64Array(32), pc, priv: Priv.Machine, csr, mip: 0n, instret: 0 };
  }

  run(hart: number, budget: number): ExitReason {
    const s = this.h[hart]!;
    let n = 0;
    try {
      this.exitRequested = false;
      while (n < budget) {
        if (this.exitRequested) return this.done(s, n, Exit.Requested);
        const r = this.step(hart, s);
        if (r === 'wfi') {
          s.pc += 4n;
          n++;
          if (!this.hasPendingInterrupt(hart)) return this.done(s, n, Exit.Wfi);
          continue;
        }
        if (r === 'ecall') return this.done(s, n, Exit.FirmwareCall);
        n++;
      }
    } catch (e) {
      if (e instanceof FakeTrap) {
        s.csr.set(0x342, BigInt(e.cause));
        s.csr.set(0x341, s.pc);
        s.csr.set(0x343, e.tval);
        return this.done(s, n, Exit.FirmwareTrap);
      }
      throw e;
    }
    return this.done(s, n, Exit.Budget);
  }

  private done(s: Hart, n: number, exit: ExitReason): ExitReason {
    s.instret += n;
    this.lastRunInstructions = n;
    return exit;
  }

  setTime(mtime: number): void {
    this.time = mtime;
  }
  private exitRequested = false;
  requestExit(): void {
    this.exitRequested = true;
  }
  setIrq(hart: number, line: IrqLine, level: boolean): void {
    const bit = 1n << BigInt(line);
    const s = this.h[hart]!;
    s.mip = level ? s.mip | bit : s.mip & ~bit;
  }
  hasPendingInterrupt(hart: number): boolean {
    const s = this.h[hart]!;
    let pending = (s.mip | (s.csr.get(0x344) ?? 0n)) & (s.csr.get(0x304) ?? 0n);
    if (this.o.sstc && BigInt(this.time) >= (s.csr.get(0x14d) ?? MASK64)) pending |= (1n << 5n) & (s.csr.get(0x304) ?? 0n);
    return pending !== 0n;
  }
  resetHart(hart: number, pc: bigint): void {
    this.h[hart] = this.freshHart(pc);
  }
  getPc(hart: number): bigint {
    return this.h[hart]!.pc;
  }
  setPc(hart: number, pc: bigint): void {
    this.h[hart]!.pc = u64(pc);
  }
  getX(hart: number, reg: number): bigint {
    return reg === 0 ? 0n : u64(this.h[hart]!.x[reg]!);
  }
  setX(hart: number, reg: number, value: bigint): void {
    if (reg !== 0) this.h[hart]!.x[reg] = sx(value, 64);
  }
  getF(): bigint {
    return 0n;
  }
  setF(): void {}
  getCsr(hart: number, csr: number): bigint | undefined {
    if (csr === 0x104) csr = 0x304; // sie is mie's S-mode view
    if (csr === 0xf14) return BigInt(hart);
    if (csr === 0xc01) return BigInt(this.time);
    if (csr === 0x344) return this.h[hart]!.mip | (this.h[hart]!.csr.get(0x344) ?? 0n);
    return this.h[hart]!.csr.get(csr);
  }
  setCsr(hart: number, csr: number, value: bigint): boolean {
    if (csr === 0x104) csr = 0x304;
    if (csr === 0x344) value &= 0x222n; // mip: only the software-writable S bits
    const s = this.h[hart]!;
    if (!s.csr.has(csr)) return false;
    s.csr.set(csr, u64(value));
    return true;
  }
  getPriv(hart: number): PrivLevel {
    return this.h[hart]!.priv;
  }
  setPriv(hart: number, priv: PrivLevel): void {
    this.h[hart]!.priv = priv;
  }
  instret(hart: number): number {
    return this.h[hart]!.instret;
  }
  flushTlb(): void {}

  // ---- the interpreter ----------------------------------------------------------------------

  private step(hart: number, s: Hart): 'ok' | 'wfi' | 'ecall' {
    const insn = Number(this.load(s.pc, 4, true)) >>> 0;
    const op = insn & 0x7f;
    const rd = (insn >>> 7) & 31;
    const f3 = (insn >>> 12) & 7;
    const rs1 = (insn >>> 15) & 31;
    const rs2 = (insn >>> 20) & 31;
    const f7 = insn >>> 25;
    const x = (r: number) => (r === 0 ? 0n : s.x[r]!);
    const set = (r: number, v: bigint) => {
      if (r !== 0) s.x[r] = sx(v, 64);
    };
    const immI = BigInt(insn >> 20);
    const immS = BigInt(((insn >> 25) << 5) | ((insn >>> 7) & 31));
    const immB = BigInt(((insn >> 31) << 12) | (((insn >>> 7) & 1) << 11) | (((insn >>> 25) & 0x3f) << 5) | (((insn >>> 8) & 0xf) << 1));
    const immU = BigInt(insn & 0xfffff000) << 0n;
    const immJ = BigInt(((insn >> 31) << 20) | (((insn >>> 12) & 0xff) << 12) | (((insn >>> 20) & 1) << 11) | (((insn >>> 21) & 0x3ff) << 1));
    let next = s.pc + 4n;
    switch (op) {
      case 0x37: // LUI
        set(rd, sx(immU, 32));
        break;
      case 0x17: // AUIPC
        set(rd, s.pc + sx(immU, 32));
        break;
      case 0x6f: // JAL
        set(rd, next);
        next = s.pc + immJ;
        break;
      case 0x67: // JALR
        set(rd, next);
        next = (x(rs1) + immI) & ~1n;
        break;
      case 0x63: {
        const a = x(rs1);
        const b = x(rs2);
        const taken = [a === b, a !== b, false, false, a < b, a >= b, u64(a) < u64(b), u64(a) >= u64(b)][f3];
        if (taken) next = s.pc + immB;
        break;
      }
      case 0x03: {
        const size = [1, 2, 4, 8, 1, 2, 4][f3]!;
        const v = this.load(u64(x(rs1) + immI), size as 1 | 2 | 4 | 8, false);
        set(rd, f3 < 4 && size < 8 ? sx(v, size * 8) : v);
        break;
      }
      case 0x23:
        this.store(u64(x(rs1) + immS), [1, 2, 4, 8][f3] as 1 | 2 | 4 | 8, u64(x(rs2)));
        break;
      case 0x13:
      case 0x1b: {
        const w = op === 0x1b;
        const a = x(rs1);
        const sh = BigInt(w ? rs2 : (insn >>> 20) & 63);
        let v: bigint;
        switch (f3) {
          case 0: v = a + immI; break;
          case 1: v = a << sh; break;
          case 2: v = a < immI ? 1n : 0n; break;
          case 3: v = u64(a) < u64(immI) ? 1n : 0n; break;
          case 4: v = a ^ immI; break;
          case 5: v = insn & 0x4000_0000 ? (w ? sx(a, 32) : a) >> sh : (w ? a & 0xffff_ffffn : u64(a)) >> sh; break;
          case 6: v = a | immI; break;
          default: v = a & immI;
        }
        set(rd, w ? sx(v, 32) : v);
        break;
      }
      case 0x33:
      case 0x3b: {
        const w = op === 0x3b;
        const a = x(rs1);
        const b = x(rs2);
        const sh = w ? b & 31n : b & 63n;
        let v: bigint;
        if (f7 === 1) {
          if (f3 !== 0) throw new FakeTrap(2, BigInt(insn));
          v = a * b; // MUL/MULW, the only M instruction the tests use
        } else {
          switch (f3) {
            case 0: v = f7 & 0x20 ? a - b : a + b; break;
            case 1: v = a << sh; break;
            case 2: v = a < b ? 1n : 0n; break;
            case 3: v = u64(a) < u64(b) ? 1n : 0n; break;
            case 4: v = a ^ b; break;
            case 5: v = f7 & 0x20 ? (w ? sx(a, 32) : a) >> sh : (w ? a & 0xffff_ffffn : u64(a)) >> sh; break;
            case 6: v = a | b; break;
            default: v = a & b;
          }
        }
        set(rd, w ? sx(v, 32) : v);
        break;
      }
      case 0x0f: // FENCE, FENCE.I
        break;
      case 0x73: {
        if (f3 === 0) {
          if (insn === 0x00000073) {
            if (this.o.builtinFirmware && s.priv !== Priv.Machine) return 'ecall';
            throw new FakeTrap(8 + s.priv, 0n);
          }
          if (insn === 0x10500073) return 'wfi';
          throw new FakeTrap(2, BigInt(insn));
        }
        const csr = insn >>> 20;
        const old = this.getCsr(hart, csr);
        if (old === undefined) throw new FakeTrap(2, BigInt(insn));
        const src = f3 & 4 ? BigInt(rs1) : x(rs1);
        const op3 = f3 & 3;
        // CSRRS/CSRRC on mip modify the software bits, not the lines OR'd into the read.
        const base = csr === 0x344 ? (s.csr.get(0x344) ?? 0n) : old;
        const nv = op3 === 1 ? src : op3 === 2 ? base | src : base & ~src;
        if (!(op3 !== 1 && rs1 === 0)) this.setCsr(hart, csr, nv);
        set(rd, old);
        break;
      }
      default:
        throw new FakeTrap(2, BigInt(insn));
    }
    s.pc = u64(next);
    return 'ok';
  }

  private region(addr: bigint, size: number): [DataView, number] | undefined {
    const a = Number(addr);
    const { ramBase, romBase } = this.o;
    if (a >= ramBase && a + size <= ramBase + this.ram.length) return [this.ramView, a - ramBase];
    if (a >= romBase && a + size <= romBase + this.rom.length) return [this.romView, a - romBase];
    return undefined;
  }

  private load(addr: bigint, size: 1 | 2 | 4 | 8, fetch: boolean): bigint {
    const r = this.region(addr, size);
    if (r) {
      const [dv, off] = r;
      return size === 8 ? dv.getBigUint64(off, true) : BigInt(size === 4 ? dv.getUint32(off, true) : size === 2 ? dv.getUint16(off, true) : dv.getUint8(off));
    }
    if (fetch) throw new FakeTrap(1, addr);
    if (size === 8) return this.load(addr, 4, false) | (this.load(addr + 4n, 4, false) << 32n);
    const v = this.o.mmio.load(Number(addr), size);
    this.mmioLog.push(`r${size} ${addr.toString(16)}`);
    if (v === undefined) throw new FakeTrap(5, addr);
    return BigInt(v >>> 0);
  }

  private store(addr: bigint, size: 1 | 2 | 4 | 8, v: bigint): void {
    const r = this.region(addr, size);
    if (r) {
      const [dv, off] = r;
      if (size === 8) dv.setBigUint64(off, v, true);
      else if (size === 4) dv.setUint32(off, Number(v & 0xffff_ffffn), true);
      else if (size === 2) dv.setUint16(off, Number(v & 0xffffn), true);
      else dv.setUint8(off, Number(v & 0xffn));
      return;
    }
    if (size === 8) {
      this.store(addr, 4, v & 0xffff_ffffn);
      this.store(addr + 4n, 4, v >> 32n);
      return;
    }
    this.mmioLog.push(`w${size} ${addr.toString(16)}`);
    if (!this.o.mmio.store(Number(addr), size, Number(v & 0xffff_ffffn))) throw new FakeTrap(7, addr);
  }
}

class FakeTrap {
  constructor(
    readonly cause: number,
    readonly tval: bigint,
  ) {}
}
