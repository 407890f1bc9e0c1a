// x86-64 SSE oracle for the FPU tests, compiled with the host gcc at test time. The hardware
// computes every result and every flag (MXCSR: rounding control bits 13-14, sticky exception
// bits 0-5; tininess is detected after rounding, as on RISC-V). The only logic here is what
// x86 lacks, each a documented RISC-V difference the test applies (see x86-oracle.ts):
//  - no RMM rounding mode: records with rm 4 are answered with flags = NOT_SUPPORTED;
//  - no unsigned conversions in SSE: float -> u32/u64 uses the 64-bit signed conversion (the
//    hardware still rounds and flags inexact) and reports the range check separately;
//    u64 -> float halves the operand with its low bit jammed (the same rounding, 63 > 53+2
//    bits) and doubles the result exactly;
//  - FMA needs FMA3 (vfmadd231sd): without it, FMA records get NOT_SUPPORTED;
//  - min/max/classify have no IEEE 754-2019 counterpart on SSE: NOT_SUPPORTED.
// Reads the batch from argv[1] and writes the results to argv[2] (formats in ops.ts), plus for
// each record a third u64 with hints for the RISC-V adaptation (bit 0: conversion result out of
// the unsigned target range).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "ops.h"

#define NOT_SUPPORTED 0xffffffffffffffffULL

struct record { uint32_t op, rm; uint64_t a, b, c; };
struct result { uint64_t value, flags, hints; };

static int have_fma;

// RISC-V rm -> MXCSR rounding control (00 nearest, 01 down, 10 up, 11 toward zero).
static const uint32_t rc_of_rm[4] = { 0u << 13, 3u << 13, 1u << 13, 2u << 13 };

static void set_mxcsr(uint32_t v) { asm volatile("ldmxcsr %0" : : "m"(v) : "memory"); }
static uint32_t get_mxcsr(void) { uint32_t v; asm volatile("stmxcsr %0" : "=m"(v) : : "memory"); return v; }

// MXCSR IE, ZE, OE, UE, PE -> RISC-V NV, DZ, OF, UF, NX (DE, "denormal operand", has no RISC-V flag).
static uint64_t riscv_flags(uint32_t mxcsr) {
  return ((mxcsr & 0x01) ? 0x10 : 0) | ((mxcsr & 0x04) ? 0x08 : 0) | ((mxcsr & 0x08) ? 0x04 : 0) |
         ((mxcsr & 0x10) ? 0x02 : 0) | ((mxcsr & 0x20) ? 0x01 : 0);
}

#define BIN_SS(insn) asm volatile("movd %k1, %%xmm0\nmovd %k2, %%xmm1\n" insn " %%xmm1, %%xmm0\nmovd %%xmm0, %k0" : "=r"(r) : "r"(a), "r"(b) : "xmm0", "xmm1")
#define BIN_SD(insn) asm volatile("movq %1, %%xmm0\nmovq %2, %%xmm1\n" insn " %%xmm1, %%xmm0\nmovq %%xmm0, %0" : "=r"(r) : "r"(a), "r"(b) : "xmm0", "xmm1")
// vfmadd231: xmm0 = xmm1 * xmm2 + xmm0
#define FMA_SS() asm volatile("movd %k1, %%xmm1\nmovd %k2, %%xmm2\nmovd %k3, %%xmm0\nvfmadd231ss %%xmm2, %%xmm1, %%xmm0\nmovd %%xmm0, %k0" : "=r"(r) : "r"(a), "r"(b), "r"(c) : "xmm0", "xmm1", "xmm2")
#define FMA_SD() asm volatile("movq %1, %%xmm1\nmovq %2, %%xmm2\nmovq %3, %%xmm0\nvfmadd231sd %%xmm2, %%xmm1, %%xmm0\nmovq %%xmm0, %0" : "=r"(r) : "r"(a), "r"(b), "r"(c) : "xmm0", "xmm1", "xmm2")
// COMIS* (signaling) and UCOMIS* (quiet): AT&T "comiss %xmm1, %xmm0" compares xmm0 with xmm1;
// unordered sets ZF=PF=CF=1, so seta/setae are 0 for NaNs and sete needs setnp.
#define CMP(load, insn, set) asm volatile(load " %1, %%xmm0\n" load " %2, %%xmm1\n" insn " %%xmm0, %%xmm1\n" set " %b0" : "=q"(r8) : "r"(a), "r"(b) : "xmm0", "xmm1", "cc")
#define EQ(load, insn) asm volatile(load " %1, %%xmm0\n" load " %2, %%xmm1\n" insn " %%xmm1, %%xmm0\nsete %b0\nsetnp %%cl\nandb %%cl, %b0" : "=q"(r8) : "r"(a), "r"(b) : "xmm0", "xmm1", "cc", "rcx")

static uint64_t run(const struct record *rec, uint64_t *hints) {
  uint64_t a = rec->a, b = rec->b, c = rec->c, r = 0;
  uint8_t r8 = 0;
  int64_t i64;
  int32_t i32;
  switch (rec->op) {
  case OP_F32_ADD: a &= 0xffffffff; b &= 0xffffffff; BIN_SS("addss"); return r;
  case OP_F32_SUB: a &= 0xffffffff; b &= 0xffffffff; BIN_SS("subss"); return r;
  case OP_F32_MUL: a &= 0xffffffff; b &= 0xffffffff; BIN_SS("mulss"); return r;
  case OP_F32_DIV: a &= 0xffffffff; b &= 0xffffffff; BIN_SS("divss"); return r;
  case OP_F32_SQRT: asm volatile("movd %k1, %%xmm1\nsqrtss %%xmm1, %%xmm0\nmovd %%xmm0, %k0" : "=r"(r) : "r"(a) : "xmm0", "xmm1"); return r;
  case OP_F32_FMA: if (!have_fma) break; FMA_SS(); return r;
  case OP_F64_ADD: BIN_SD("addsd"); return r;
  case OP_F64_SUB: BIN_SD("subsd"); return r;
  case OP_F64_MUL: BIN_SD("mulsd"); return r;
  case OP_F64_DIV: BIN_SD("divsd"); return r;
  case OP_F64_SQRT: asm volatile("movq %1, %%xmm1\nsqrtsd %%xmm1, %%xmm0\nmovq %%xmm0, %0" : "=r"(r) : "r"(a) : "xmm0", "xmm1"); return r;
  case OP_F64_FMA: if (!have_fma) break; FMA_SD(); return r;
  // a < b: compare b with a, "above"; a <= b: "above or equal".
  case OP_F32_LT: CMP("movd", "comiss", "seta"); return r8;
  case OP_F32_LE: CMP("movd", "comiss", "setae"); return r8;
  case OP_F32_EQ: EQ("movd", "ucomiss"); return r8;
  case OP_F64_LT: CMP("movq", "comisd", "seta"); return r8;
  case OP_F64_LE: CMP("movq", "comisd", "setae"); return r8;
  case OP_F64_EQ: EQ("movq", "ucomisd"); return r8;
  // Float -> signed integer: CVTSS2SI/CVTSD2SI round in MXCSR's mode.
  case OP_F32_TO_I32: asm volatile("movd %k1, %%xmm0\ncvtss2si %%xmm0, %k0" : "=r"(i32) : "r"(a) : "xmm0"); return (uint64_t)(int64_t)i32;
  case OP_F32_TO_I64: asm volatile("movd %k1, %%xmm0\ncvtss2si %%xmm0, %0" : "=r"(i64) : "r"(a) : "xmm0"); return (uint64_t)i64;
  case OP_F64_TO_I32: asm volatile("movq %1, %%xmm0\ncvtsd2si %%xmm0, %k0" : "=r"(i32) : "r"(a) : "xmm0"); return (uint64_t)(int64_t)i32;
  case OP_F64_TO_I64: asm volatile("movq %1, %%xmm0\ncvtsd2si %%xmm0, %0" : "=r"(i64) : "r"(a) : "xmm0"); return (uint64_t)i64;
  // Float -> unsigned: see the header. Values at or above 2^63 are integers already (their
  // ulp is >= 2^40), so subtracting 2^63 first is exact and the conversion flags nothing.
  case OP_F32_TO_U32: case OP_F32_TO_U64: case OP_F64_TO_U32: case OP_F64_TO_U64: {
    int f32 = rec->op == OP_F32_TO_U32 || rec->op == OP_F32_TO_U64;
    int to32 = rec->op == OP_F32_TO_U32 || rec->op == OP_F64_TO_U32;
    uint64_t big = f32 ? 0x5f000000 : 0x43e0000000000000ULL; // 2^63
    int high = f32 ? ((a & 0x80000000) == 0 && (uint32_t)a >= big && (uint32_t)a <= 0x7f800000)
                   : ((a >> 63) == 0 && a >= big && a <= 0x7ff0000000000000ULL);
    uint64_t offset = 0;
    if (high) {
      if (f32) asm volatile("movd %k1, %%xmm0\nmovd %k2, %%xmm1\nsubss %%xmm1, %%xmm0\nmovd %%xmm0, %k0" : "=r"(a) : "r"(a), "r"(big) : "xmm0", "xmm1");
      else asm volatile("movq %1, %%xmm0\nmovq %2, %%xmm1\nsubsd %%xmm1, %%xmm0\nmovq %%xmm0, %0" : "=r"(a) : "r"(a), "r"(big) : "xmm0", "xmm1");
      offset = 1ULL << 63;
    }
    if (f32) asm volatile("movd %k1, %%xmm0\ncvtss2si %%xmm0, %0" : "=r"(i64) : "r"(a) : "xmm0");
    else asm volatile("movq %1, %%xmm0\ncvtsd2si %%xmm0, %0" : "=r"(i64) : "r"(a) : "xmm0");
    uint64_t v = (uint64_t)i64 + offset;
    // Out of the unsigned range: negative after rounding, above the maximum, or the x86
    // "integer indefinite" result of an invalid conversion (the hardware's IE flag says so).
    if ((get_mxcsr() & 1) || (!offset && i64 < 0) || (to32 && v > 0xffffffffULL)) *hints |= 1;
    return v;
  }
  // Integer -> float: CVTSI2SS/CVTSI2SD round in MXCSR's mode.
  case OP_I32_TO_F32: asm volatile("cvtsi2ss %k1, %%xmm0\nmovd %%xmm0, %k0" : "=r"(r) : "r"(a) : "xmm0"); return r;
  case OP_I64_TO_F32: asm volatile("cvtsi2ss %1, %%xmm0\nmovd %%xmm0, %k0" : "=r"(r) : "r"(a) : "xmm0"); return r;
  case OP_U32_TO_F32: a &= 0xffffffff; asm volatile("cvtsi2ss %1, %%xmm0\nmovd %%xmm0, %k0" : "=r"(r) : "r"(a) : "xmm0"); return r;
  case OP_I32_TO_F64: asm volatile("cvtsi2sd %k1, %%xmm0\nmovq %%xmm0, %0" : "=r"(r) : "r"(a) : "xmm0"); return r;
  case OP_I64_TO_F64: asm volatile("cvtsi2sd %1, %%xmm0\nmovq %%xmm0, %0" : "=r"(r) : "r"(a) : "xmm0"); return r;
  case OP_U32_TO_F64: a &= 0xffffffff; asm volatile("cvtsi2sd %1, %%xmm0\nmovq %%xmm0, %0" : "=r"(r) : "r"(a) : "xmm0"); return r;
  case OP_U64_TO_F32: case OP_U64_TO_F64: {
    int top = (a >> 63) != 0;
    uint64_t x = top ? (a >> 1) | (a & 1) : a;
    if (rec->op == OP_U64_TO_F32) {
      asm volatile("cvtsi2ss %1, %%xmm0\nmovd %%xmm0, %k0" : "=r"(r) : "r"(x) : "xmm0");
      if (top) asm volatile("movd %k1, %%xmm0\naddss %%xmm0, %%xmm0\nmovd %%xmm0, %k0" : "=r"(r) : "r"(r) : "xmm0");
    } else {
      asm volatile("cvtsi2sd %1, %%xmm0\nmovq %%xmm0, %0" : "=r"(r) : "r"(x) : "xmm0");
      if (top) asm volatile("movq %1, %%xmm0\naddsd %%xmm0, %%xmm0\nmovq %%xmm0, %0" : "=r"(r) : "r"(r) : "xmm0");
    }
    return r;
  }
  case OP_F32_TO_F64: asm volatile("movd %k1, %%xmm1\ncvtss2sd %%xmm1, %%xmm0\nmovq %%xmm0, %0" : "=r"(r) : "r"(a) : "xmm0", "xmm1"); return r;
  case OP_F64_TO_F32: asm volatile("movq %1, %%xmm1\ncvtsd2ss %%xmm1, %%xmm0\nmovd %%xmm0, %k0" : "=r"(r) : "r"(a) : "xmm0", "xmm1"); return r;
  }
  *hints |= 2; // not supported
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: x86-oracle IN OUT\n"); return 2; }
  __builtin_cpu_init();
  have_fma = __builtin_cpu_supports("fma");
  FILE *in = fopen(argv[1], "rb");
  uint64_t n;
  if (!in || fread(&n, 8, 1, in) != 1) { perror(argv[1]); return 1; }
  struct record *recs = malloc(n * sizeof *recs);
  struct result *res = malloc(n * sizeof *res);
  if (!recs || !res || fread(recs, sizeof *recs, n, in) != n) { fprintf(stderr, "short input\n"); return 1; }
  fclose(in);
  const uint32_t masked = 0x1f80; // all exceptions masked, DAZ and FTZ off
  for (uint64_t i = 0; i < n; i++) {
    res[i].hints = 0;
    if (recs[i].rm > 3) { res[i].value = 0; res[i].flags = NOT_SUPPORTED; continue; }
    set_mxcsr(masked | rc_of_rm[recs[i].rm]);
    res[i].value = run(&recs[i], &res[i].hints);
    uint32_t m = get_mxcsr();
    res[i].flags = (res[i].hints & 2) ? NOT_SUPPORTED : riscv_flags(m);
  }
  set_mxcsr(masked);
  FILE *out = fopen(argv[2], "wb");
  if (!out || fwrite(res, sizeof *res, n, out) != n || fclose(out)) { perror(argv[2]); return 1; }
  return 0;
}
