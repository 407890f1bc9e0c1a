// Builds Sv39/Sv48 page tables in a test CPU's RAM (privileged ISA 4.4-4.5).
import { CODE, type TestCpu } from './snippet';

export const PTE = { V: 1n, R: 2n, W: 4n, X: 8n, U: 16n, G: 32n, A: 64n, D: 128n } as const;

export class PageTables {
  private next: number;
  readonly root: number;
  constructor(
    private readonly cpu: TestCpu,
    readonly levels: 3 | 4,
    /** Physical address of a free area of RAM for the tables (4 KiB pages are taken from it). */
    area: number,
  ) {
    this.next = area;
    this.root = this.alloc();
  }

  /** satp for these tables (ASID 0). */
  get satp(): bigint {
    return ((this.levels === 3 ? 8n : 9n) << 60n) | BigInt(this.root >>> 12);
  }

  private alloc(): number {
    const a = this.next;
    this.next += 4096;
    this.cpu.ram.fill(0, a - CODE, a - CODE + 4096);
    return a;
  }

  private view(): DataView {
    return new DataView(this.cpu.ram.buffer, this.cpu.ram.byteOffset, this.cpu.ram.byteLength);
  }

  /** The physical address of the PTE for va at `level` (0 = 4 KiB leaf), creating tables on the way. */
  pteAddr(va: bigint, level = 0): number {
    let table = this.root;
    for (let l = this.levels - 1; l > level; l--) {
      const idx = Number((va >> BigInt(12 + 9 * l)) & 0x1ffn);
      const at = table + idx * 8;
      let pte = this.view().getBigUint64(at - CODE, true);
      const next = Number((pte >> 10n) << 12n);
      // Not a pointer to a table in RAM (invalid, a leaf, or garbage): replace it with a new table.
      if (!(pte & PTE.V) || pte & (PTE.R | PTE.W | PTE.X) || next < CODE || next + 4096 > CODE + this.cpu.ram.length) {
        const t = this.alloc();
        pte = (BigInt(t >>> 12) << 10n) | PTE.V;
        this.view().setBigUint64(at - CODE, pte, true);
      }
      table = Number((pte >> 10n) << 12n);
    }
    return table + Number((va >> BigInt(12 + 9 * level)) & 0x1ffn) * 8;
  }

  /** Maps va -> pa with `flags` (V added) at `level` (0: 4 KiB, 1: 2 MiB, 2: 1 GiB). */
  map(va: bigint, pa: bigint, flags: bigint, level = 0): number {
    const at = this.pteAddr(va, level);
    this.setPte(at, ((pa >> 12n) << 10n) | flags | PTE.V);
    return at;
  }

  setPte(at: number, pte: bigint): void {
    this.view().setBigUint64(at - CODE, pte, true);
  }

  getPte(at: number): bigint {
    return this.view().getBigUint64(at - CODE, true);
  }
}
