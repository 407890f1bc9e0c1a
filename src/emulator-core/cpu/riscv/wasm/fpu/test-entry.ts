// Test-only module (out/wasm/fpu-test.wasm): the FPU's API plus a batch runner, so the oracle
// tests can push thousands of vectors through without a JS<->wasm call (and BigInt) each.
// Never loaded by the machine.
import { fflags, clearFlags } from './flags';
import * as fpu from './index';

export * from './index';

export function getFlags(): u32 {
  return fflags;
}

// Operation numbers of the batch format; the single source is fpu-oracle/ops.ts (same order).
function dispatch(op: u32, rm: u32, a: u64, b: u64, c: u64): u64 {
  const a32 = <u32>a;
  const b32 = <u32>b;
  const c32 = <u32>c;
  switch (op) {
    case 0: return fpu.f32_add(a32, b32, rm);
    case 1: return fpu.f32_sub(a32, b32, rm);
    case 2: return fpu.f32_mul(a32, b32, rm);
    case 3: return fpu.f32_div(a32, b32, rm);
    case 4: return fpu.f32_sqrt(a32, rm);
    case 5: return fpu.f32_fma(a32, b32, c32, rm);
    case 6: return fpu.f32_eq(a32, b32);
    case 7: return fpu.f32_lt(a32, b32);
    case 8: return fpu.f32_le(a32, b32);
    case 9: return fpu.f32_min(a32, b32);
    case 10: return fpu.f32_max(a32, b32);
    case 11: return fpu.f32_classify(a32);
    case 12: return <u64><i64>fpu.f32_to_i32(a32, rm);
    case 13: return fpu.f32_to_u32(a32, rm);
    case 14: return <u64>fpu.f32_to_i64(a32, rm);
    case 15: return fpu.f32_to_u64(a32, rm);
    case 16: return fpu.i32_to_f32(<i32>a32, rm);
    case 17: return fpu.u32_to_f32(a32, rm);
    case 18: return fpu.i64_to_f32(<i64>a, rm);
    case 19: return fpu.u64_to_f32(a, rm);
    case 20: return fpu.f64_add(a, b, rm);
    case 21: return fpu.f64_sub(a, b, rm);
    case 22: return fpu.f64_mul(a, b, rm);
    case 23: return fpu.f64_div(a, b, rm);
    case 24: return fpu.f64_sqrt(a, rm);
    case 25: return fpu.f64_fma(a, b, c, rm);
    case 26: return fpu.f64_eq(a, b);
    case 27: return fpu.f64_lt(a, b);
    case 28: return fpu.f64_le(a, b);
    case 29: return fpu.f64_min(a, b);
    case 30: return fpu.f64_max(a, b);
    case 31: return fpu.f64_classify(a);
    case 32: return <u64><i64>fpu.f64_to_i32(a, rm);
    case 33: return fpu.f64_to_u32(a, rm);
    case 34: return <u64>fpu.f64_to_i64(a, rm);
    case 35: return fpu.f64_to_u64(a, rm);
    case 36: return fpu.i32_to_f64(<i32>a32, rm);
    case 37: return fpu.u32_to_f64(a32, rm);
    case 38: return fpu.i64_to_f64(<i64>a, rm);
    case 39: return fpu.u64_to_f64(a, rm);
    case 40: return fpu.f32_to_f64(a32);
    case 41: return fpu.f64_to_f32(a, rm);
    default: return 0xdeadbeefdeadbeef;
  }
}

/**
 * Runs n records of 32 bytes at inPtr ({op: u32, rm: u32, a: u64, b: u64, c: u64}) and writes
 * n results of 16 bytes at outPtr ({result: u64, fflags: u64}), each with the flags cleared first.
 */
export function runBatch(inPtr: usize, outPtr: usize, n: u32): void {
  for (let i: u32 = 0; i < n; i++) {
    const rec = inPtr + (<usize>i << 5);
    clearFlags();
    const r = dispatch(load<u32>(rec), load<u32>(rec, 4), load<u64>(rec, 8), load<u64>(rec, 16), load<u64>(rec, 24));
    const out = outPtr + (<usize>i << 4);
    store<u64>(out, r);
    store<u64>(out, <u64>fflags, 8);
  }
}
