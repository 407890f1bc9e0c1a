// Disassembler from the instruction table (for -d traces, the gdbstub and test failures): the
// mnemonic and operands in the table's syntax, no pseudo-instructions (as objdump -M no-aliases,
// with ABI register names). Compressed instructions show their C mnemonic with the operands of
// the 32-bit instruction they expand to.
import { decode16, decode32 } from './isa/decode';
import { formats } from './isa/table.gen';

export const xNames = [
  'zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 's0', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5',
  'a6', 'a7', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6',
];
export const fNames = [
  'ft0', 'ft1', 'ft2', 'ft3', 'ft4', 'ft5', 'ft6', 'ft7', 'fs0', 'fs1', 'fa0', 'fa1', 'fa2', 'fa3', 'fa4', 'fa5',
  'fa6', 'fa7', 'fs2', 'fs3', 'fs4', 'fs5', 'fs6', 'fs7', 'fs8', 'fs9', 'fs10', 'fs11', 'ft8', 'ft9', 'ft10', 'ft11',
];
const rmNames = ['rne', 'rtz', 'rdn', 'rup', 'rmm', 'rm5', 'rm6', 'dyn'];
const csrNames: Record<number, string> = {
  0x001: 'fflags', 0x002: 'frm', 0x003: 'fcsr', 0xc00: 'cycle', 0xc01: 'time', 0xc02: 'instret',
  0x100: 'sstatus', 0x104: 'sie', 0x105: 'stvec', 0x106: 'scounteren', 0x10a: 'senvcfg', 0x140: 'sscratch',
  0x141: 'sepc', 0x142: 'scause', 0x143: 'stval', 0x144: 'sip', 0x14d: 'stimecmp', 0x180: 'satp',
  0xf11: 'mvendorid', 0xf12: 'marchid', 0xf13: 'mimpid', 0xf14: 'mhartid', 0xf15: 'mconfigptr',
  0x300: 'mstatus', 0x301: 'misa', 0x302: 'medeleg', 0x303: 'mideleg', 0x304: 'mie', 0x305: 'mtvec',
  0x306: 'mcounteren', 0x30a: 'menvcfg', 0x320: 'mcountinhibit', 0x340: 'mscratch', 0x341: 'mepc',
  0x342: 'mcause', 0x343: 'mtval', 0x344: 'mip', 0x3a0: 'pmpcfg0', 0x3a2: 'pmpcfg2', 0xb00: 'mcycle',
  0xb02: 'minstret', 0x7a0: 'tselect', 0x7a1: 'tdata1', 0x7a2: 'tdata2', 0x7a3: 'tdata3', 0x7a4: 'tinfo',
};

function fenceSet(v: number): string {
  const s = ['i', 'o', 'r', 'w'].filter((_, i) => v & (8 >> i)).join('');
  return s || '0';
}

/** Disassembles one 32-bit or 16-bit instruction at `pc` (for pc-relative targets). */
export function disassemble(word: number, pc = 0n): string {
  let name: string;
  let w = word >>> 0;
  if ((w & 3) !== 3) {
    const d = decode16(w & 0xffff);
    if (!d) return `.half 0x${(w & 0xffff).toString(16)}`;
    name = d.insn.name;
    w = d.expansion;
  } else {
    name = '';
  }
  const d = decode32(w);
  if (!d) return `.word 0x${w.toString(16)}`;
  const fmt = formats[d.insn.format]!;
  const text = fmt.asm.replace(/\{(\w+)\}/g, (_, field: string) => {
    const op = fmt.operands.find((o) => o.field === field)!;
    const v = d.operands[field]!;
    switch (op.kind) {
      case 'x': return xNames[v]!;
      case 'f': return fNames[v]!;
      case 'pcrel': return `0x${BigInt.asUintN(64, pc + BigInt(v)).toString(16)}`;
      case 'csr': return csrNames[v] ?? `0x${v.toString(16)}`;
      case 'rm': return rmNames[v]!;
      case 'fence': return fenceSet(v);
      // LUI/AUIPC show the 20-bit immediate, as assemblers take it.
      default: return field === 'imm_u' ? `0x${((v / 4096) & 0xfffff).toString(16)}` : String(v);
    }
  });
  return `${name || d.insn.name}${text ? ' ' + text : ''}`;
}
