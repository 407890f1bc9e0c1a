/* M extension: mulh* through the core's helper, division by a register (checks for zero and
 * for MIN / -1 inline), by a known non-zero constant (no checks), by known 0 and -1. */
  .option norvc
  mul    a0, a1, a2
  mulh   a3, a1, a2
  mulhsu a4, a1, a2
  mulhu  a5, a1, a2
  div    a6, a1, a2
  remu   a7, a1, a2
  divw   t0, a1, a2
  remw   t1, a1, a2
  li     t2, 7
  divu   s2, a1, t2
  rem    s3, a1, t2
  li     t3, -1
  div    s4, a1, t3
  divw   s5, a1, zero
  ret
