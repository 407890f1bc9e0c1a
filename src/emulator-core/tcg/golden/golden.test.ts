// Golden ("expect") tests of the translator, as v86 has them: each guest snippet <name>.S here is
// assembled at 0x80000000, translated as one region entered at its first instruction, and its IR
// (as the front end writes it, then as the back end gets it) and WebAssembly text are compared
// with <name>.ir and <name>.wat beside it. A change to the translator that changes its output
// shows up as a diff to read; when the new output is what was meant, accept it:
//
//   VIV_TCG_ACCEPT=1 npx vitest run --project unit src/emulator-core/tcg/golden
//
// and commit the rewritten .ir/.wat files with the change. Addresses (the host page, the arena,
// the core's variables and jump cache) are fixed here, so the text is stable across runs.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { translateBatch, type BatchJob } from '../batch';
import { formatBlock } from '../ir';
import { PAGE, buildRegion } from '../region';
import { assemble, hasRiscvToolchain } from '../testing/assemble';

const dir = import.meta.dirname;
const accept = process.env.VIV_TCG_ACCEPT === '1';

const PC = 0x8000_0000n;
/** Fake but fixed addresses in the core's memory: the code page, the arena, MEM_JIT_VARS, the jump cache. */
const HOST = 0x0040_0000;
const ARENA = 0x0020_0000;
const VARS = 0x1000;
const JUMP_CACHE = 0x8000;

interface Golden {
  ir: string;
  wat: string;
  valid: boolean;
  failures: string;
}

function translateSnippet(source: string): Golden {
  const bytes = assemble(source, Number(PC));
  const page = new Uint8Array(PAGE);
  page.set(bytes.subarray(0, PAGE));
  // A snippet longer than a page gives its translation the next page's first 16 bits.
  const nextHalf = bytes.length >= PAGE + 2 ? bytes[PAGE]! | (bytes[PAGE + 1]! << 8) : -1;

  // The front end's IR, before the passes (exec records are not part of the text).
  const reader = { u16: (h: number): number => page[h - HOST]! | (page[h - HOST + 1]! << 8) };
  const raw = buildRegion(reader, HOST, PC, () => 0, { maxInsns: 600, nextHalf });

  const job: BatchJob = {
    requests: [{ host: HOST, pc: PC, page, nextHalf }],
    arenaBase: ARENA,
    arenaLimit: ARENA + 16 * 1024,
    vars: VARS,
    jumpCache: JUMP_CACHE,
    opRecordBytes: 48,
    maxRegionInsns: 600,
    text: true,
  };
  const result = translateBatch(job);
  // The dump is the region's header and optimised blocks, then the function's text.
  const dump = result.dumps[0] ?? '';
  const at = dump.indexOf('\n(func ');
  const optimized = at >= 0 ? dump.slice(0, at) : dump;
  const wat = at >= 0 ? dump.slice(at + 1).trimEnd() + '\n' : '';
  const ir = [';; front end', ...raw.blocks.map(formatBlock), '', ';; optimized', optimized.trimEnd(), ''].join('\n');
  const valid = result.bytes.length > 0 && (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly.validate(result.bytes);
  return { ir, wat, valid, failures: result.stats.failures ? `${result.stats.failures}: ${result.stats.lastFailure}` : '' };
}

const snippets = readdirSync(dir).filter((f) => f.endsWith('.S')).sort();

function compare(file: string, actual: string): void {
  const p = path.join(dir, file);
  if (accept) {
    writeFileSync(p, actual);
    return;
  }
  let expected: string;
  try {
    expected = readFileSync(p, 'utf8');
  } catch {
    throw new Error(`${file} is missing: run with VIV_TCG_ACCEPT=1 to write it, then review it`);
  }
  expect(actual, `${file} differs (VIV_TCG_ACCEPT=1 rewrites it once the change is meant)`).toBe(expected);
}

describe.skipIf(!hasRiscvToolchain)('translator golden output', () => {
  test('there are snippets', () => expect(snippets.length).toBeGreaterThanOrEqual(10));
  for (const s of snippets) {
    const name = s.slice(0, -2);
    test(name, () => {
      const g = translateSnippet(readFileSync(path.join(dir, s), 'utf8'));
      expect(g.failures).toBe('');
      expect(g.valid).toBe(true);
      compare(`${name}.ir`, g.ir);
      compare(`${name}.wat`, g.wat);
    });
  }
});
