// The three engines of the FPU oracle tests, each fed the same batch (formats in ops.ts):
//  - ours: out/wasm/fpu-test.wasm (npm run build:wasm), runBatch;
//  - QEMU: riscv-oracle.c built with riscv64-unknown-elf-gcc, run bare-metal under
//    qemu-system-riscv64 (its RISC-V F/D helpers use QEMU's SoftFloat): real RISC-V semantics;
//  - x86-64: x86-oracle.c built with the host gcc: the SSE/FMA3 hardware.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cHeader, RECORD_BYTES, RESULT_BYTES } from './ops';
import type { VectorSet } from './vectors';

const here = import.meta.dirname;
const repoRoot = path.resolve(here, '../../../../..');
export const FPU_TEST_WASM = path.join(repoRoot, 'out/wasm/fpu-test.wasm');

/** Results as BigUint64Array: [value, flags] per record (x86 adds a third word of hints). */
export interface Results {
  readonly words: BigUint64Array;
  readonly stride: number;
}

// The project's tsconfig has no DOM/WebAssembly lib: the little of the JS API used here, typed.
interface WasmJsApi {
  Memory: new (descriptor: { initial: number }) => { readonly buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: object };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmJsApi }).WebAssembly;

interface FpuTestExports {
  runBatch(inPtr: number, outPtr: number, n: number): void;
}

/**
 * Instantiates out/wasm/fpu-test.wasm with a memory of `pages` 64 KiB pages. Its exports are the
 * FPU API (u64/i64 as BigInt, u32 as a possibly negative number), getFlags and runBatch.
 */
export function instantiateFpu(pages = 1): { exports: object; memory: { readonly buffer: ArrayBuffer } } {
  if (!existsSync(FPU_TEST_WASM)) throw new Error(`${FPU_TEST_WASM} is missing: run \`npm run build:wasm\` first`);
  const memory = new wasmApi.Memory({ initial: pages });
  const module = new wasmApi.Module(readFileSync(FPU_TEST_WASM));
  const instance = new wasmApi.Instance(module, {
    env: { memory, abort: () => { throw new Error('fpu-test.wasm aborted'); } },
  });
  return { exports: instance.exports, memory };
}

/** Our soft-float, from the wasm build. */
export function runWasm(vectors: VectorSet): Results {
  const inBytes = vectors.count * RECORD_BYTES;
  const outBytes = vectors.count * RESULT_BYTES;
  const base = 65536; // the module has no data and no stack: any offset works
  const { exports: raw, memory } = instantiateFpu(Math.ceil((base + inBytes + outBytes) / 65536) + 1);
  const exports = raw as FpuTestExports;
  const mem = new Uint8Array(memory.buffer);
  mem.set(vectors.bytes.subarray(8), base);
  exports.runBatch(base, base + inBytes, vectors.count);
  const out = new BigUint64Array(memory.buffer.slice(base + inBytes, base + inBytes + outBytes));
  return { words: out, stride: 2 };
}

function workDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'viv-fpu-oracle-'));
  writeFileSync(path.join(dir, 'ops.h'), cHeader());
  return dir;
}

function run(cmd: string, args: string[], cwd: string, timeout = 60_000): void {
  try {
    execFileSync(cmd, args, { cwd, timeout, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: Buffer; stdout?: Buffer; message: string };
    throw new Error(`${cmd} failed: ${err.message}\n${err.stdout?.toString() ?? ''}${err.stderr?.toString() ?? ''}`);
  }
}

/** RISC-V F/D instructions under qemu-system-riscv64 (SoftFloat). */
export function runQemu(vectors: VectorSet): Results {
  const dir = workDir();
  try {
    const elf = path.join(dir, 'oracle.elf');
    run('riscv64-unknown-elf-gcc', [
      '-march=rv64gc', '-mabi=lp64d', '-mcmodel=medany', '-O2', '-nostdlib', '-ffreestanding', '-fno-builtin',
      '-Wl,--no-warn-rwx-segments', '-I', dir, '-T', path.join(here, 'riscv-oracle.ld'),
      path.join(here, 'riscv-start.S'), path.join(here, 'riscv-oracle.c'), '-o', elf,
    ], dir);
    const input = path.join(dir, 'in.bin');
    writeFileSync(input, vectors.bytes);
    const ramMiB = 512; // input at +64 MiB, results at +128 MiB (riscv-oracle.c)
    if (vectors.count * RECORD_BYTES > 64 << 20 || vectors.count * RESULT_BYTES > (ramMiB - 128) << 20) {
      throw new Error('too many vectors for the oracle memory layout');
    }
    run('qemu-system-riscv64', [
      '-M', 'virt', '-bios', 'none', '-m', `${ramMiB}M`, '-nographic', '-monitor', 'none', '-serial', 'none',
      '-kernel', elf, '-device', `loader,file=${input},addr=0x84000000,force-raw=on`,
      '-semihosting-config', 'enable=on,target=native',
    ], dir);
    const bytes = readFileSync(path.join(dir, 'results.bin'));
    if (bytes.length !== vectors.count * RESULT_BYTES) throw new Error(`qemu oracle wrote ${bytes.length} bytes`);
    return { words: new BigUint64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)), stride: 2 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** x86-64 SSE (and FMA3 when the host has it); flags are all-ones where x86 has no answer. */
export function runX86(vectors: VectorSet): Results {
  const dir = workDir();
  try {
    const exe = path.join(dir, 'x86-oracle');
    run('gcc', ['-O1', '-I', dir, path.join(here, 'x86-oracle.c'), '-o', exe], dir);
    const input = path.join(dir, 'in.bin');
    const output = path.join(dir, 'out.bin');
    writeFileSync(input, vectors.bytes);
    run(exe, [input, output], dir);
    const bytes = readFileSync(output);
    if (bytes.length !== vectors.count * 24) throw new Error(`x86 oracle wrote ${bytes.length} bytes`);
    return { words: new BigUint64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)), stride: 3 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The host CPU's FMA3 support (x86 oracle answers FMA records only with it). */
export function hostHasFma(): boolean {
  try {
    return /\bfma\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}
