/* A call (jal with a link register) leaves the region: a direct exit to the callee in the next
 * page, with ra set first; an indirect call through a register leaves as an indirect exit. */
  .option norvc
  beqz  a0, 1f
  addi  a0, a0, -1
  jal   ra, callee
1:
  jalr  ra, 0(a5)
  .org  0x1000
callee:
  ret
