// Reference semantics for the integer instructions, in BigInt arithmetic: the executable
// specification the per-extension tests compare the core against (unprivileged ISA ch. 2, 5, 7).
const M64 = (1n << 64n) - 1n;
const u = (v: bigint): bigint => v & M64;
const s = (v: bigint): bigint => BigInt.asIntN(64, v);
const w = (v: bigint): bigint => u(BigInt.asIntN(32, v)); // sign-extend the low word
const u32 = (v: bigint): bigint => v & 0xffff_ffffn;
const s32 = (v: bigint): bigint => BigInt.asIntN(32, v);

/** R-type: rd = f(rs1, rs2) on unsigned 64-bit values. */
export const rOps: Record<string, (a: bigint, b: bigint) => bigint> = {
  add: (a, b) => u(a + b),
  sub: (a, b) => u(a - b),
  sll: (a, b) => u(a << (b & 63n)),
  slt: (a, b) => (s(a) < s(b) ? 1n : 0n),
  sltu: (a, b) => (a < b ? 1n : 0n),
  xor: (a, b) => a ^ b,
  srl: (a, b) => a >> (b & 63n),
  sra: (a, b) => u(s(a) >> (b & 63n)),
  or: (a, b) => a | b,
  and: (a, b) => a & b,
  addw: (a, b) => w(a + b),
  subw: (a, b) => w(a - b),
  sllw: (a, b) => w(a << (b & 31n)),
  srlw: (a, b) => w(u32(a) >> (b & 31n)),
  sraw: (a, b) => w(s32(a) >> (b & 31n)),
  mul: (a, b) => u(a * b),
  mulh: (a, b) => u((s(a) * s(b)) >> 64n),
  mulhsu: (a, b) => u((s(a) * b) >> 64n),
  mulhu: (a, b) => (a * b) >> 64n,
  div: (a, b) => (b === 0n ? M64 : s(a) === -(1n << 63n) && s(b) === -1n ? a : u(trunc(s(a), s(b)))),
  divu: (a, b) => (b === 0n ? M64 : a / b),
  rem: (a, b) => (b === 0n ? a : s(a) === -(1n << 63n) && s(b) === -1n ? 0n : u(s(a) - trunc(s(a), s(b)) * s(b))),
  remu: (a, b) => (b === 0n ? a : a % b),
  mulw: (a, b) => w(a * b),
  divw: (a, b) => {
    const x = s32(a);
    const y = s32(b);
    if (y === 0n) return M64;
    if (x === -(1n << 31n) && y === -1n) return w(x);
    return w(trunc(x, y));
  },
  divuw: (a, b) => (u32(b) === 0n ? M64 : w(u32(a) / u32(b))),
  remw: (a, b) => {
    const x = s32(a);
    const y = s32(b);
    if (y === 0n) return w(x);
    if (x === -(1n << 31n) && y === -1n) return 0n;
    return w(x - trunc(x, y) * y);
  },
  remuw: (a, b) => (u32(b) === 0n ? w(u32(a)) : w(u32(a) % u32(b))),
};

/** Signed division rounding toward zero (BigInt's / already does). */
function trunc(a: bigint, b: bigint): bigint {
  return a / b;
}

/** I-type ALU: rd = f(rs1, imm) with imm sign-extended (shamt for shifts). */
export const iOps: Record<string, (a: bigint, imm: bigint) => bigint> = {
  addi: (a, i) => u(a + i),
  slti: (a, i) => (s(a) < i ? 1n : 0n),
  sltiu: (a, i) => (a < u(i) ? 1n : 0n),
  xori: (a, i) => a ^ u(i),
  ori: (a, i) => a | u(i),
  andi: (a, i) => a & u(i),
  slli: (a, sh) => u(a << sh),
  srli: (a, sh) => a >> sh,
  srai: (a, sh) => u(s(a) >> sh),
  addiw: (a, i) => w(a + i),
  slliw: (a, sh) => w(a << sh),
  srliw: (a, sh) => w(u32(a) >> sh),
  sraiw: (a, sh) => w(s32(a) >> sh),
};

/** Interesting 64-bit operands, then random ones. */
export function operands(r: () => number, count: number): bigint[] {
  const edge = [0n, 1n, 2n, M64, M64 - 1n, 1n << 63n, (1n << 63n) - 1n, 0x8000_0000n, 0x7fff_ffffn, 0xffff_ffffn,
    0xffff_ffff_8000_0000n, 0x1_0000_0000n, 63n, 64n, 31n, 32n];
  const out = [...edge];
  while (out.length < count) out.push((BigInt(r()) << 32n) | BigInt(r()));
  return out;
}
