/* if/else: both arms join at a merge block (a wasm `block` the arms branch out of). */
  .option norvc
  blt   a0, a1, 1f
  sub   a2, a0, a1
  j     2f
1:
  sub   a2, a1, a0
2:
  add   a3, a2, a2
  ret
