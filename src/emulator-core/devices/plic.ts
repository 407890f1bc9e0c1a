// SiFive PLIC as QEMU 7.2's virt instantiates it (hw/intc/sifive_plic.c, hart-config "MS" per
// hart): 96 sources including the reserved source 0 (riscv,ndev = 96), priorities 0..7 (3 bits,
// WARL), two contexts per hart numbered hart*2 (M) and hart*2+1 (S), so the FDT's
// interrupts-extended lists <intc 11 intc 9> per hart in that order.
// Sources are level-triggered: the level sets or clears `pending`; a claim clears pending and marks
// the source claimed (masked) until the context writes its id back to complete, after which a
// still-high level interrupts again.
import { extract, insert } from './word-access';
import { checkState, saveState, type AccessSize, type MmioDevice, type SavedState, type StateDeclaration } from './device';

export const PLIC_NUM_SOURCES = 96;
export const PLIC_NUM_PRIORITIES = 7;
const PRIORITY_BASE = 0x0;
const PENDING_BASE = 0x1000;
const ENABLE_BASE = 0x2000;
const ENABLE_STRIDE = 0x80;
const CONTEXT_BASE = 0x200000;
const CONTEXT_STRIDE = 0x1000;
/** QEMU virt reserves the window for its maximum of 512 harts: VIRT_PLIC_SIZE(512 * 2). */
export const PLIC_SIZE = CONTEXT_BASE + 512 * 2 * CONTEXT_STRIDE;

const WORDS = (PLIC_NUM_SOURCES + 31) >>> 5;

/** A context's interrupt output: (hart, mode, level), mode 'M' -> mip.MEIP, 'S' -> mip.SEIP. */
export type PlicOutput = (hart: number, mode: 'M' | 'S', level: boolean) => void;

function declaration(contexts: number): StateDeclaration {
  return {
    name: 'riscv_sifive_plic',
    version: 1,
    fields: {
      sourcePriority: { kind: 'u32[]', length: PLIC_NUM_SOURCES },
      targetPriority: { kind: 'u32[]', length: contexts },
      pending: { kind: 'u32[]', length: WORDS },
      claimed: { kind: 'u32[]', length: WORDS },
      enable: { kind: 'u32[]', length: contexts * WORDS },
      levels: { kind: 'u32[]', length: WORDS },
    },
  };
}

export class Plic implements MmioDevice {
  readonly name = 'plic';
  readonly size = PLIC_SIZE;
  readonly contexts: number;
  private readonly decl: StateDeclaration;
  private sourcePriority = new Uint32Array(PLIC_NUM_SOURCES);
  private targetPriority: Uint32Array;
  private pending = new Uint32Array(WORDS);
  private claimed = new Uint32Array(WORDS);
  private enable: Uint32Array;
  /** Input line levels, kept so a snapshot restores what the devices drive. */
  private levels = new Uint32Array(WORDS);
  private outputLevel: boolean[];

  constructor(
    readonly harts: number,
    private readonly output: PlicOutput,
  ) {
    this.contexts = harts * 2;
    this.decl = declaration(this.contexts);
    this.targetPriority = new Uint32Array(this.contexts);
    this.enable = new Uint32Array(this.contexts * WORDS);
    this.outputLevel = new Array<boolean>(this.contexts).fill(false);
  }

  /** A device's interrupt line (source 1..95). */
  setSource(source: number, level: boolean): void {
    if (!Number.isInteger(source) || source <= 0 || source >= PLIC_NUM_SOURCES) {
      throw new RangeError(`PLIC source ${source} does not exist (1..${PLIC_NUM_SOURCES - 1})`);
    }
    const w = source >>> 5;
    const bit = 1 << (source & 31);
    const was = (this.levels[w]! & bit) !== 0;
    if (was === level) return;
    this.levels[w] = level ? this.levels[w]! | bit : this.levels[w]! & ~bit;
    this.pending[w] = level ? this.pending[w]! | bit : this.pending[w]! & ~bit;
    this.update();
  }

  /** An input callback for a device wired to `source`. */
  line(source: number): (level: boolean) => void {
    return (level) => this.setSource(source, level);
  }

  read(offset: number, size: AccessSize): number {
    return extract(this.readWord(offset & ~3), offset & 3, size);
  }

  write(offset: number, size: AccessSize, value: number): void {
    const aligned = offset & ~3;
    const word = size === 4 ? value >>> 0 : insert(this.peekWord(aligned), offset & 3, size, value);
    this.writeWord(aligned, word);
  }

  reset(): void {
    this.sourcePriority.fill(0);
    this.targetPriority.fill(0);
    this.claimed.fill(0);
    this.enable.fill(0);
    // Pending follows the input levels, which the devices keep driving across a reset.
    this.pending.set(this.levels);
    this.update();
  }

  saveState(): SavedState {
    return saveState(this.decl, {
      sourcePriority: [...this.sourcePriority],
      targetPriority: [...this.targetPriority],
      pending: [...this.pending],
      claimed: [...this.claimed],
      enable: [...this.enable],
      levels: [...this.levels],
    });
  }

  loadState(state: SavedState): void {
    const f = checkState(this.decl, state);
    this.sourcePriority.set(f.sourcePriority as number[]);
    this.targetPriority.set(f.targetPriority as number[]);
    this.pending.set(f.pending as number[]);
    this.claimed.set(f.claimed as number[]);
    this.enable.set(f.enable as number[]);
    this.levels.set(f.levels as number[]);
    this.update();
  }

  /** The source a claim by `context` would return now (0: none), without claiming. */
  best(context: number): number {
    let maxIrq = 0;
    let maxPrio = this.targetPriority[context]!;
    for (let w = 0; w < WORDS; w++) {
      const candidates = this.pending[w]! & ~this.claimed[w]! & this.enable[context * WORDS + w]!;
      if (candidates === 0) continue;
      for (let b = 0; b < 32; b++) {
        if ((candidates & (1 << b)) === 0) continue;
        const irq = (w << 5) + b;
        if (irq >= PLIC_NUM_SOURCES) break;
        // Strictly greater: among equal priorities the lowest id wins (PLIC spec, "Interrupt Priorities").
        if (this.sourcePriority[irq]! > maxPrio) {
          maxIrq = irq;
          maxPrio = this.sourcePriority[irq]!;
        }
      }
    }
    return maxIrq;
  }

  private update(): void {
    for (let c = 0; c < this.contexts; c++) {
      const level = this.best(c) !== 0;
      if (level === this.outputLevel[c]) continue;
      this.outputLevel[c] = level;
      this.output(c >>> 1, c & 1 ? 'S' : 'M', level);
    }
  }

  /** The word at `offset` without side effects (a narrow write to the claim register must not claim). */
  private peekWord(offset: number): number {
    if (offset >= CONTEXT_BASE) return offset % CONTEXT_STRIDE === 4 ? 0 : this.readWord(offset);
    return this.readWord(offset);
  }

  private readWord(offset: number): number {
    if (offset < PRIORITY_BASE + 4 * PLIC_NUM_SOURCES) return this.sourcePriority[offset >>> 2]!;
    if (offset >= PENDING_BASE && offset < PENDING_BASE + 4 * WORDS) return this.pending[(offset - PENDING_BASE) >>> 2]!;
    if (offset >= ENABLE_BASE && offset < ENABLE_BASE + this.contexts * ENABLE_STRIDE) {
      const ctx = Math.floor((offset - ENABLE_BASE) / ENABLE_STRIDE);
      const word = (offset % ENABLE_STRIDE) >>> 2;
      return word < WORDS ? this.enable[ctx * WORDS + word]! : 0;
    }
    if (offset >= CONTEXT_BASE && offset < CONTEXT_BASE + this.contexts * CONTEXT_STRIDE) {
      const ctx = Math.floor((offset - CONTEXT_BASE) / CONTEXT_STRIDE);
      const reg = offset % CONTEXT_STRIDE;
      if (reg === 0) return this.targetPriority[ctx]!;
      if (reg === 4) return this.claim(ctx);
    }
    return 0;
  }

  private writeWord(offset: number, value: number): void {
    if (offset < PRIORITY_BASE + 4 * PLIC_NUM_SOURCES) {
      // num_priorities + 1 is a power of two, so the register is WARL: keep the low bits (QEMU).
      this.sourcePriority[offset >>> 2] = value % (PLIC_NUM_PRIORITIES + 1);
      this.update();
      return;
    }
    if (offset >= ENABLE_BASE && offset < ENABLE_BASE + this.contexts * ENABLE_STRIDE) {
      const ctx = Math.floor((offset - ENABLE_BASE) / ENABLE_STRIDE);
      const word = (offset % ENABLE_STRIDE) >>> 2;
      if (word < WORDS) {
        // Source 0 does not exist: its enable bit is hard-wired to zero.
        this.enable[ctx * WORDS + word] = word === 0 ? value & ~1 : value;
        this.update();
      }
      return;
    }
    if (offset >= CONTEXT_BASE && offset < CONTEXT_BASE + this.contexts * CONTEXT_STRIDE) {
      const ctx = Math.floor((offset - CONTEXT_BASE) / CONTEXT_STRIDE);
      const reg = offset % CONTEXT_STRIDE;
      if (reg === 0) {
        this.targetPriority[ctx] = value % (PLIC_NUM_PRIORITIES + 1);
        this.update();
      } else if (reg === 4 && value < PLIC_NUM_SOURCES) {
        // Completion: the gateway accepts the source again (QEMU does not check the enable bit),
        // and a level that is still high is pending again at once (level-triggered gateway).
        const w = value >>> 5;
        const bit = 1 << (value & 31);
        this.claimed[w] = this.claimed[w]! & ~bit;
        if (this.levels[w]! & bit) this.pending[w] = this.pending[w]! | bit;
        this.update();
      }
    }
    // Pending bits are read-only; other offsets are reserved and ignored.
  }

  private claim(ctx: number): number {
    const irq = this.best(ctx);
    if (irq !== 0) {
      const w = irq >>> 5;
      const bit = 1 << (irq & 31);
      this.pending[w] = this.pending[w]! & ~bit;
      this.claimed[w] = this.claimed[w]! | bit;
    }
    this.update();
    return irq;
  }
}
