// Zicsr (unprivileged ISA chapter 9): CSR instructions. CSRRS/CSRRC with x0 (or a zero immediate)
// do not write, so they read even read-only CSRs; CSRRW always writes.
import { getX, setX } from '../layout';
import { stopAt } from '../globals';
import { csrAllowed, csrMissing, csrRead, csrWrite } from '../csr';
import { illegalInstruction } from '../trap';

const OP_WRITE: u32 = 0;
const OP_SET: u32 = 1;
const OP_CLEAR: u32 = 2;

function csrOp(raw: u32, pc: u64, npc: u64, rd: u32, csr: u32, src: u64, op: u32, write: bool): u64 {
  if (!csrAllowed(csr, write)) return illegalInstruction(raw, pc);
  const old = csrRead(csr);
  if (csrMissing) return illegalInstruction(raw, pc);
  let stop = false;
  if (write) stop = csrWrite(csr, op == OP_WRITE ? src : op == OP_SET ? old | src : old & ~src);
  setX(rd, old);
  return stop ? stopAt(npc) : npc;
}

export function exec_csrrw(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, csr: u32): u64 {
  return csrOp(raw, pc, npc, rd, csr, getX(rs1), OP_WRITE, true);
}
export function exec_csrrs(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, csr: u32): u64 {
  return csrOp(raw, pc, npc, rd, csr, getX(rs1), OP_SET, rs1 != 0);
}
export function exec_csrrc(raw: u32, pc: u64, npc: u64, rd: u32, rs1: u32, csr: u32): u64 {
  return csrOp(raw, pc, npc, rd, csr, getX(rs1), OP_CLEAR, rs1 != 0);
}
export function exec_csrrwi(raw: u32, pc: u64, npc: u64, rd: u32, zimm: u32, csr: u32): u64 {
  return csrOp(raw, pc, npc, rd, csr, <u64>zimm, OP_WRITE, true);
}
export function exec_csrrsi(raw: u32, pc: u64, npc: u64, rd: u32, zimm: u32, csr: u32): u64 {
  return csrOp(raw, pc, npc, rd, csr, <u64>zimm, OP_SET, zimm != 0);
}
export function exec_csrrci(raw: u32, pc: u64, npc: u64, rd: u32, zimm: u32, csr: u32): u64 {
  return csrOp(raw, pc, npc, rd, csr, <u64>zimm, OP_CLEAR, zimm != 0);
}
