// -accel and the translator's -d items: the CPU factory `viv run` builds the machine with. tcg
// gives the core a translator (src/emulator-core/tcg), tci leaves it interpreting; -d op,out_asm
// prints every region translated, -d tcg-stats the counters when the machine stops.
import type { RiscvCpuOptions } from '../cpu/riscv/cpu';
import type { PerfCounters } from '../cpu/riscv/wasm-cpu';
import type { CpuFactory } from '../machine/virt';
import { peakRss } from '../tcg/stats';
import { tcgTranslator, type Tcg } from '../tcg/translator';
import type { LogItem, RunConfig } from './options';

export function withAccel(accel: RunConfig['accel'], log: ReadonlySet<LogItem>, makeCpu: CpuFactory): { makeCpu: CpuFactory; stats(): string } {
  let tcg: Tcg | undefined;
  let counters: (() => PerfCounters) | undefined;
  const dump = log.has('op') || log.has('out_asm') ? (text: string) => process.stderr.write(text + '\n') : undefined;
  const factory: CpuFactory = async (opts: RiscvCpuOptions) => {
    const translator = accel === 'tcg' ? tcgTranslator({ dump }) : undefined;
    const cpu = await makeCpu(translator ? { ...opts, translator: (host) => (tcg = translator(host)) } : opts);
    const diag = cpu as { perfCounters?: () => PerfCounters };
    if (diag.perfCounters) counters = () => diag.perfCounters!();
    return cpu;
  };
  return {
    makeCpu: factory,
    stats: () => (tcg ? tcg.report(counters?.()) : `-accel ${accel}: no translator statistics; ${peakRss()}`),
  };
}
