/* A straight-line block of register-register and immediate ALU ops, ending in a return (an
 * indirect exit through the jump cache). */
  .option norvc
  add   a0, a1, a2
  sub   a3, a0, a1
  xori  a4, a3, -1
  slli  a5, a4, 3
  srai  a5, a5, 1
  sltu  a6, a5, a0
  addw  a7, a0, a5
  sraiw t0, a7, 31
  ret
