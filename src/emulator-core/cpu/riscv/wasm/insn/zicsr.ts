// Zicsr (unprivileged ISA chapter 9): CSR instructions. CSRRS/CSRRC with x0 (or a zero immediate)
// do not write, so they read even read-only CSRs; CSRRW always writes.
import { CONT, npcOf, pcOf, rawOf } from '../op';
import { getX, setX } from '../layout';
import { stopAt } from '../globals';
import { csrAllowed, csrMissing, csrRead, csrRmwBase, csrWrite } from '../csr';
import { illegalInstruction } from '../trap';

const OP_WRITE: u32 = 0;
const OP_SET: u32 = 1;
const OP_CLEAR: u32 = 2;

function csrOp(rec: u32, rd: u32, csr: u32, src: u64, op: u32, write: bool): u64 {
  if (!csrAllowed(csr, write)) return illegalInstruction(rawOf(rec), pcOf(rec));
  const old = csrRead(csr);
  if (csrMissing) return illegalInstruction(rawOf(rec), pcOf(rec));
  let stop = false;
  if (write) {
    const base = csrRmwBase(csr, old);
    stop = csrWrite(csr, op == OP_WRITE ? src : op == OP_SET ? base | src : base & ~src);
  }
  setX(rd, old);
  return stop ? stopAt(npcOf(rec)) : CONT;
}

export function exec_csrrw(rec: u32, rd: u32, rs1: u32, csr: u32): u64 {
  return csrOp(rec, rd, csr, getX(rs1), OP_WRITE, true);
}
export function exec_csrrs(rec: u32, rd: u32, rs1: u32, csr: u32): u64 {
  return csrOp(rec, rd, csr, getX(rs1), OP_SET, rs1 != 0);
}
export function exec_csrrc(rec: u32, rd: u32, rs1: u32, csr: u32): u64 {
  return csrOp(rec, rd, csr, getX(rs1), OP_CLEAR, rs1 != 0);
}
export function exec_csrrwi(rec: u32, rd: u32, zimm: u32, csr: u32): u64 {
  return csrOp(rec, rd, csr, <u64>zimm, OP_WRITE, true);
}
export function exec_csrrsi(rec: u32, rd: u32, zimm: u32, csr: u32): u64 {
  return csrOp(rec, rd, csr, <u64>zimm, OP_SET, zimm != 0);
}
export function exec_csrrci(rec: u32, rd: u32, zimm: u32, csr: u32): u64 {
  return csrOp(rec, rd, csr, <u64>zimm, OP_CLEAR, zimm != 0);
}
