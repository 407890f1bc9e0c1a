/* Instructions the IR does not express run the interpreter's handler (exec): CSR accesses (the
 * register written comes back from memory), fence.i, and ecall (it ends its block; its trap
 * leaves through the helper's result). */
  .option norvc
  csrr  a0, mstatus
  csrw  mscratch, a1
  addi  a2, a0, 1
  csrrs a3, mie, a2
  fence.i
  ecall
  ret
