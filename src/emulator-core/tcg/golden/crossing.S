/* An instruction that crosses into the next page is translated behind a guard: its upper half
 * (the next page's first 16 bits) must still be what was translated, through the fetch TLB. */
  .option norvc
  j     1f
  .org  0xff8
1:
  addi  a0, a0, 1
  .option rvc
  c.addi a1, 1
  .option norvc
  addi  a2, a2, 2
  ret
