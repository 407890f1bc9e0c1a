// The soft-float (wasm/fpu, compiled to out/wasm/fpu-test.wasm) against RISC-V itself: the same
// vectors executed by the real F/D instructions of a bare-metal program under
// qemu-system-riscv64, whose FPU is SoftFloat. Every operation, every rounding mode; results
// and accrued flags must match bit for bit (RISC-V semantics need no adaptation here).
// FPU_ORACLE_VECTORS sets the vectors per (operation, rounding mode); FPU_ORACLE_SEED the seed.
import { beforeAll, describe, expect, it } from 'vitest';
import { compareResults, type GroupStats } from './fpu-oracle/compare';
import { runQemu, runWasm } from './fpu-oracle/engines';
import { FPU_OPS } from './fpu-oracle/ops';
import { problems, summaryTable } from './fpu-oracle/report';
import { generateVectors } from './fpu-oracle/vectors';

const PER_GROUP = Number(process.env.FPU_ORACLE_VECTORS ?? 10000);
const SEED = Number(process.env.FPU_ORACLE_SEED ?? 20240601);

describe('FPU vs qemu-system-riscv64 (SoftFloat)', () => {
  let stats: GroupStats[] = [];

  beforeAll(() => {
    const vectors = generateVectors(PER_GROUP, SEED);
    const ours = runWasm(vectors);
    const oracle = runQemu(vectors);
    stats = compareResults(vectors, ours, oracle);
    console.log(summaryTable('qemu oracle', stats));
  }, 120_000);

  for (const op of FPU_OPS) {
    it(op.name, () => {
      expect(problems(stats, op.name, PER_GROUP)).toEqual([]);
    });
  }
});
