// The soft-float against a second, independent oracle: the host's x86-64 SSE hardware (and FMA3
// when present), driven by fpu-oracle/x86-oracle.c built with gcc. x86 has no RMM mode, no
// unsigned conversions and no IEEE 754-2019 min/max or classify: those records are skipped here
// (the QEMU test covers them), and the differences between x86 and RISC-V results are applied
// explicitly by adaptX86 (fpu-oracle/compare.ts): canonical NaNs, saturating conversions, NV
// for inf * 0 + qNaN.
import { beforeAll, describe, expect, it } from 'vitest';
import { adaptX86, compareResults, type GroupStats } from './fpu-oracle/compare';
import { hostHasFma, runWasm, runX86 } from './fpu-oracle/engines';
import { FPU_OPS } from './fpu-oracle/ops';
import { problems, summaryTable } from './fpu-oracle/report';
import { generateVectors } from './fpu-oracle/vectors';

const PER_GROUP = Number(process.env.FPU_ORACLE_VECTORS ?? 10000);
const SEED = Number(process.env.FPU_ORACLE_SEED ?? 20240602);

/** Operations x86 answers (in RNE, RTZ, RDN, RUP). */
const x86Answers = (name: string) =>
  !/_(min|max|classify)$/.test(name) && (!name.endsWith('_fma') || hostHasFma());

// The oracle is x86-64 assembly: on another host architecture there is nothing to run it on.
describe.runIf(process.arch === 'x64')('FPU vs x86-64 SSE hardware', () => {
  let stats: GroupStats[] = [];

  beforeAll(() => {
    const vectors = generateVectors(PER_GROUP, SEED);
    stats = compareResults(vectors, runWasm(vectors), runX86(vectors), adaptX86);
    console.log(summaryTable('x86 oracle', stats));
  }, 120_000);

  for (const op of FPU_OPS) {
    it.runIf(x86Answers(op.name))(op.name, () => {
      // RMM groups are all skipped (x86 has no such mode): require the other four.
      const answered = stats.filter((g) => g.op === op && g.rm !== 4);
      expect(problems(answered, op.name, PER_GROUP)).toEqual([]);
    });
  }
});
