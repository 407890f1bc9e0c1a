/* Compressed instructions lower to the IR of their 32-bit expansions, with pcs 2 apart. */
  c.li   a0, 0
  c.li   a1, 5
1:
  c.addi a0, 3
  c.lw   a2, 4(s0)
  c.add  a0, a2
  c.sw   a0, 8(s0)
  c.addi a1, -1
  c.bnez a1, 1b
  c.mv   a3, a0
  c.jr   ra
