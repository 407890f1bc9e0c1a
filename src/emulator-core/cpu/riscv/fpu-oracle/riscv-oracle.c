// Bare-metal RISC-V oracle for the FPU tests, run under qemu-system-riscv64 (-M virt -bios none),
// whose F/D instructions use QEMU's SoftFloat: it executes every record of the batch loaded at
// IN_ADDR with the real instruction, the rounding mode set in frm and fflags cleared first, and
// writes {result, fflags} per record to a host file through semihosting.
// Input blob: u64 record count, then records {u32 op, u32 rm, u64 a, u64 b, u64 c}.
#include <stdint.h>
#include "ops.h"

#define IN_ADDR 0x84000000UL
#define OUT_ADDR 0x88000000UL

struct record { uint32_t op, rm; uint64_t a, b, c; };
struct result { uint64_t value, flags; };

// ARM-compatible semihosting as RISC-V defines it: the magic sequence must be uncompressed.
static long semihost(long op, void *arg) {
  register long a0 asm("a0") = op;
  register void *a1 asm("a1") = arg;
  asm volatile(".option push\n.option norvc\n.balign 16\n"
               "slli zero, zero, 0x1f\nebreak\nsrai zero, zero, 7\n.option pop"
               : "+r"(a0) : "r"(a1) : "memory");
  return a0;
}
#define SYS_OPEN 0x01
#define SYS_CLOSE 0x02
#define SYS_WRITE 0x05
#define SYS_EXIT 0x18

// One instruction on operands moved in by fmv (which NaN-boxes singles) and a result moved out.
#define S_RR(insn) asm volatile("fmv.w.x ft0, %1\nfmv.w.x ft1, %2\n" insn " ft2, ft0, ft1\nfmv.x.w %0, ft2" : "=r"(r) : "r"(a), "r"(b) : "ft0", "ft1", "ft2")
#define D_RR(insn) asm volatile("fmv.d.x ft0, %1\nfmv.d.x ft1, %2\n" insn " ft2, ft0, ft1\nfmv.x.d %0, ft2" : "=r"(r) : "r"(a), "r"(b) : "ft0", "ft1", "ft2")
#define S_R(insn) asm volatile("fmv.w.x ft0, %1\n" insn " ft2, ft0\nfmv.x.w %0, ft2" : "=r"(r) : "r"(a) : "ft0", "ft2")
#define D_R(insn) asm volatile("fmv.d.x ft0, %1\n" insn " ft2, ft0\nfmv.x.d %0, ft2" : "=r"(r) : "r"(a) : "ft0", "ft2")
#define S_RRR(insn) asm volatile("fmv.w.x ft0, %1\nfmv.w.x ft1, %2\nfmv.w.x ft3, %3\n" insn " ft2, ft0, ft1, ft3\nfmv.x.w %0, ft2" : "=r"(r) : "r"(a), "r"(b), "r"(c) : "ft0", "ft1", "ft2", "ft3")
#define D_RRR(insn) asm volatile("fmv.d.x ft0, %1\nfmv.d.x ft1, %2\nfmv.d.x ft3, %3\n" insn " ft2, ft0, ft1, ft3\nfmv.x.d %0, ft2" : "=r"(r) : "r"(a), "r"(b), "r"(c) : "ft0", "ft1", "ft2", "ft3")
#define S_TO_X(insn) asm volatile("fmv.w.x ft0, %1\n" insn " %0, ft0" : "=r"(r) : "r"(a) : "ft0")
#define D_TO_X(insn) asm volatile("fmv.d.x ft0, %1\n" insn " %0, ft0" : "=r"(r) : "r"(a) : "ft0")
#define S_CMP(insn) asm volatile("fmv.w.x ft0, %1\nfmv.w.x ft1, %2\n" insn " %0, ft0, ft1" : "=r"(r) : "r"(a), "r"(b) : "ft0", "ft1")
#define D_CMP(insn) asm volatile("fmv.d.x ft0, %1\nfmv.d.x ft1, %2\n" insn " %0, ft0, ft1" : "=r"(r) : "r"(a), "r"(b) : "ft0", "ft1")
#define X_TO_S(insn) asm volatile(insn " ft0, %1\nfmv.x.w %0, ft0" : "=r"(r) : "r"(a) : "ft0")
#define X_TO_D(insn) asm volatile(insn " ft0, %1\nfmv.x.d %0, ft0" : "=r"(r) : "r"(a) : "ft0")

static uint64_t run(uint32_t op, uint64_t a, uint64_t b, uint64_t c) {
  uint64_t r = 0xdeadbeefdeadbeefULL;
  switch (op) {
  case OP_F32_ADD: S_RR("fadd.s"); break;
  case OP_F32_SUB: S_RR("fsub.s"); break;
  case OP_F32_MUL: S_RR("fmul.s"); break;
  case OP_F32_DIV: S_RR("fdiv.s"); break;
  case OP_F32_SQRT: S_R("fsqrt.s"); break;
  case OP_F32_FMA: S_RRR("fmadd.s"); break;
  case OP_F32_EQ: S_CMP("feq.s"); break;
  case OP_F32_LT: S_CMP("flt.s"); break;
  case OP_F32_LE: S_CMP("fle.s"); break;
  case OP_F32_MIN: S_RR("fmin.s"); break;
  case OP_F32_MAX: S_RR("fmax.s"); break;
  case OP_F32_CLASSIFY: S_TO_X("fclass.s"); break;
  case OP_F32_TO_I32: S_TO_X("fcvt.w.s"); break;
  case OP_F32_TO_U32: S_TO_X("fcvt.wu.s"); break;
  case OP_F32_TO_I64: S_TO_X("fcvt.l.s"); break;
  case OP_F32_TO_U64: S_TO_X("fcvt.lu.s"); break;
  case OP_I32_TO_F32: X_TO_S("fcvt.s.w"); break;
  case OP_U32_TO_F32: X_TO_S("fcvt.s.wu"); break;
  case OP_I64_TO_F32: X_TO_S("fcvt.s.l"); break;
  case OP_U64_TO_F32: X_TO_S("fcvt.s.lu"); break;
  case OP_F64_ADD: D_RR("fadd.d"); break;
  case OP_F64_SUB: D_RR("fsub.d"); break;
  case OP_F64_MUL: D_RR("fmul.d"); break;
  case OP_F64_DIV: D_RR("fdiv.d"); break;
  case OP_F64_SQRT: D_R("fsqrt.d"); break;
  case OP_F64_FMA: D_RRR("fmadd.d"); break;
  case OP_F64_EQ: D_CMP("feq.d"); break;
  case OP_F64_LT: D_CMP("flt.d"); break;
  case OP_F64_LE: D_CMP("fle.d"); break;
  case OP_F64_MIN: D_RR("fmin.d"); break;
  case OP_F64_MAX: D_RR("fmax.d"); break;
  case OP_F64_CLASSIFY: D_TO_X("fclass.d"); break;
  case OP_F64_TO_I32: D_TO_X("fcvt.w.d"); break;
  case OP_F64_TO_U32: D_TO_X("fcvt.wu.d"); break;
  case OP_F64_TO_I64: D_TO_X("fcvt.l.d"); break;
  case OP_F64_TO_U64: D_TO_X("fcvt.lu.d"); break;
  case OP_I32_TO_F64: X_TO_D("fcvt.d.w"); break;
  case OP_U32_TO_F64: X_TO_D("fcvt.d.wu"); break;
  case OP_I64_TO_F64: X_TO_D("fcvt.d.l"); break;
  case OP_U64_TO_F64: X_TO_D("fcvt.d.lu"); break;
  case OP_F32_TO_F64: asm volatile("fmv.w.x ft0, %1\nfcvt.d.s ft2, ft0\nfmv.x.d %0, ft2" : "=r"(r) : "r"(a) : "ft0", "ft2"); break;
  case OP_F64_TO_F32: asm volatile("fmv.d.x ft0, %1\nfcvt.s.d ft2, ft0\nfmv.x.w %0, ft2" : "=r"(r) : "r"(a) : "ft0", "ft2"); break;
  }
  return r;
}

void main(void) {
  const uint64_t n = *(volatile uint64_t *)IN_ADDR;
  const struct record *in = (const struct record *)(IN_ADDR + 8);
  struct result *out = (struct result *)OUT_ADDR;
  for (uint64_t i = 0; i < n; i++) {
    uint64_t flags;
    asm volatile("fsflags zero\nfsrm %0" : : "r"((uint64_t)in[i].rm));
    out[i].value = run(in[i].op, in[i].a, in[i].b, in[i].c);
    asm volatile("frflags %0" : "=r"(flags));
    out[i].flags = flags;
  }
  static const char name[] = "results.bin";
  long open_args[3] = { (long)name, 5 /* "wb" */, sizeof name - 1 };
  long fd = semihost(SYS_OPEN, open_args);
  long status = 1;
  if (fd >= 0) {
    long write_args[3] = { fd, (long)out, (long)(n * sizeof(struct result)) };
    status = semihost(SYS_WRITE, write_args) == 0 ? 0 : 2; // returns the bytes NOT written
    long close_args[1] = { fd };
    semihost(SYS_CLOSE, close_args);
  }
  long exit_args[2] = { 0x20026 /* ADP_Stopped_ApplicationExit */, status };
  semihost(SYS_EXIT, exit_args);
  for (;;) asm volatile("wfi");
}
