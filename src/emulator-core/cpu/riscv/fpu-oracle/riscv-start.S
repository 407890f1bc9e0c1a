// Entry of the bare-metal FPU oracle: one hart in M-mode at 0x80000000 (-bios none); enable the
// FPU (mstatus.FS = Initial), set a stack, run main.
  .section .text.start
  .globl _start
_start:
  csrr t0, mhartid
1: bnez t0, 1b
  li t0, (1 << 13)
  csrs mstatus, t0
  la sp, stack_top
  call main
2: j 2b

  .bss
  .balign 16
  .space 65536
stack_top:
