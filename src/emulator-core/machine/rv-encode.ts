// A few RISC-V instruction encoders (unprivileged spec, chapter 2 "Base Instruction Formats"), enough
// for the mask ROM's reset vector: we write instruction words from their fields, not copied hex.

export const Reg = { zero: 0, ra: 1, t0: 5, a0: 10, a1: 11, a2: 12 } as const;

const check = (v: number, bits: number, signed: boolean, what: string) => {
  const min = signed ? -(2 ** (bits - 1)) : 0;
  const max = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${what} ${v} does not fit ${bits} bits`);
};

/** I-type: imm[11:0] rs1 funct3 rd opcode */
function iType(opcode: number, funct3: number, rd: number, rs1: number, imm: number): number {
  check(imm, 12, true, 'immediate');
  return (((imm & 0xfff) << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | opcode) >>> 0;
}

/** U-type: imm[31:12] rd opcode */
function uType(opcode: number, rd: number, imm20: number): number {
  check(imm20, 20, true, 'upper immediate');
  return (((imm20 & 0xfffff) << 12) | (rd << 7) | opcode) >>> 0;
}

export const asm = {
  /** rd = pc + (imm20 << 12) */
  auipc: (rd: number, imm20: number) => uType(0b0010111, rd, imm20),
  addi: (rd: number, rs1: number, imm: number) => iType(0b0010011, 0b000, rd, rs1, imm),
  /** ld rd, imm(rs1) */
  ld: (rd: number, rs1: number, imm: number) => iType(0b0000011, 0b011, rd, rs1, imm),
  /** lw rd, imm(rs1) */
  lw: (rd: number, rs1: number, imm: number) => iType(0b0000011, 0b010, rd, rs1, imm),
  /** jalr rd, imm(rs1); `jr rs1` is jalr zero, 0(rs1) */
  jalr: (rd: number, rs1: number, imm: number) => iType(0b1100111, 0b000, rd, rs1, imm),
  /** csrrs rd, csr, rs1; `csrr rd, csr` is csrrs rd, csr, zero */
  csrrs: (rd: number, csr: number, rs1: number) => {
    check(csr, 12, false, 'CSR number');
    return ((csr << 20) | (rs1 << 15) | (0b010 << 12) | (rd << 7) | 0b1110011) >>> 0;
  },
};

export const CSR_MHARTID = 0xf14;
