// The translator's worker thread: batches of hot code in (guest code pages, an arena chunk), a
// compiled WebAssembly module and an arena image out (batch.ts). The emulator runs in one thread,
// so on a machine with two cores or more translation costs it (almost) nothing but latency: the
// interpreter keeps running the code until its translation is installed.
import { parentPort } from 'node:worker_threads';
import { translateBatch, type BatchJob } from './batch';

export interface WorkerRequest {
  id: number;
  job: BatchJob;
}

parentPort?.on('message', (msg: WorkerRequest) => {
  const t0 = performance.now();
  const result = translateBatch(msg.job);
  const t1 = performance.now();
  const reply = (module: unknown): void => {
    parentPort!.postMessage({ id: msg.id, result, module, translateMs: t1 - t0, compileMs: performance.now() - t1 }, [result.image.buffer as ArrayBuffer]);
  };
  if (!result.bytes.length) {
    reply(undefined);
    return;
  }
  const wasm = (globalThis as unknown as { WebAssembly: { compile(b: Uint8Array): Promise<unknown> } }).WebAssembly;
  wasm.compile(result.bytes).then(reply, (e: unknown) => {
    // A module V8 refuses is a translator bug: the batch stays interpreted, and the reason is counted.
    result.entries = [];
    result.stats.failures += result.stats.regions;
    result.stats.regions = 0;
    result.stats.lastFailure = `invalid module: ${e instanceof Error ? e.message : String(e)}`;
    reply(undefined);
  });
});
