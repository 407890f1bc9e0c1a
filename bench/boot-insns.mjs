#!/usr/bin/env node
// Instructions (and seconds) the shared guest takes to reach GUEST-READY under -icount shift=0,
// counted by the run loop: a deterministic measure of boot work that host load does not move.
//   node bench/boot-insns.mjs [--bios default|opensbi] [--smp N] [--mem MiB] [--accel tcg|tci]
// Needs out/wasm (npm run build:wasm) and ../shared/guests/riscv64.
import { build } from 'esbuild';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const root = path.resolve(import.meta.dirname, '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const bios = arg('bios', 'default');
const smp = Number(arg('smp', '2'));
const memMiB = Number(arg('mem', '256'));
const guest = path.resolve(root, '../shared/guests/riscv64');
const openSbi = '/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin';

const tmp = mkdtempSync(path.join(tmpdir(), 'viv-boot-insns-'));
try {
  const entry = path.join(tmp, 'entry.ts');
  const src = (p) => JSON.stringify(path.join(root, p));
  writeFileSync(entry, `
    import { readFileSync } from 'node:fs';
    import { createRiscvCpu } from ${src('src/emulator-core/cpu/riscv/wasm-cpu.ts')};
    import { RunLoop } from ${src('src/emulator-core/machine/run-loop.ts')};
    import { VirtMachine } from ${src('src/emulator-core/machine/virt.ts')};
    export async function boot(o) {
      const file = (p) => ({ name: p, data: new Uint8Array(readFileSync(p)) });
      let out = '';
      let loop;
      const m = await VirtMachine.create(
        {
          harts: o.smp, ramSize: o.memMiB << 20, icountShift: 0, append: 'console=ttyS0',
          bios: o.bios === 'opensbi' ? { kind: 'file', ...file(o.openSbi) } : { kind: 'default' },
          kernel: file(o.guest + '/Image'), initrd: file(o.guest + '/initramfs.cpio.gz'),
        },
        (c) => createRiscvCpu(c),
        (b) => {
          out += new TextDecoder().decode(b);
          if (out.includes('GUEST-READY')) loop.stop({ kind: 'quit', code: 0 });
        },
        Uint8Array.from({ length: 32 }, (_, i) => i),
      );
      loop = new RunLoop(m);
      const t0 = performance.now();
      await loop.run();
      return { instructions: loop.stats.instructions, seconds: (performance.now() - t0) / 1000, ready: out.includes('GUEST-READY') };
    }
  `);
  const harness = path.join(tmp, 'harness.mjs');
  await build({ entryPoints: [entry], outfile: harness, bundle: true, platform: 'node', format: 'esm', logLevel: 'warning' });
  process.env.VIVARIUM_WASM_DIR ??= path.join(root, 'out/wasm');
  const { boot } = await import(pathToFileURL(harness).href);
  const r = await boot({ bios, smp, memMiB, guest, openSbi });
  console.log(`bios=${bios} smp=${smp} ready=${r.ready} instructions=${(r.instructions / 1e9).toFixed(3)}G seconds=${r.seconds.toFixed(1)}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
