/* Constant folding: lui+addi and auipc+addi become constants, an address known in the block
 * folds into the access's offset, a branch on constants becomes a jump. */
  .option norvc
  lui   a0, 0x12345
  addi  a0, a0, 0x678
  auipc a1, 0
  addi  a1, a1, 64
  ld    a2, 8(a1)
  li    t0, 5
  slli  t1, t0, 4
  add   t2, t1, a0
  beq   t0, t1, 1f
  addi  a3, a3, 1
1:
  ret
