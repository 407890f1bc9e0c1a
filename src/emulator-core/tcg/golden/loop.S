/* A counted loop: the back edge stays inside the region as a wasm `loop`. */
  .option norvc
  li    t0, 10
  li    a0, 0
1:
  addi  a0, a0, 3
  addi  t0, t0, -1
  bnez  t0, 1b
  ret
