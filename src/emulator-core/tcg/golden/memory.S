/* Loads and stores of every width (TLB fast path inline, the core's helper on a miss), a load
 * into x0 (still an access: it may fault), a store of x0. */
  .option norvc
  ld    a1, 0(a0)
  lw    a2, 8(a0)
  lwu   a3, 12(a0)
  lh    a4, -2(a0)
  lhu   a5, 2(a0)
  lb    a6, 1(a0)
  lbu   a7, 3(a0)
  lw    zero, 16(a0)
  sd    a1, 24(a0)
  sw    a2, 32(a0)
  sh    a3, 36(a0)
  sb    a4, 38(a0)
  sd    zero, 40(a0)
  ret
