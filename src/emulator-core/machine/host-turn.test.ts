// VirtMachine.hostTurn (a device started host work during a guest access, e.g. a virtio-blk
// notify): the running hart stops after that instruction and the run loop runs the promise jobs
// the device queued before any hart goes on, so the work is under way while the guest continues;
// and a round cut short that way resumes at the next hart, so a hart that keeps starting I/O
// does not starve the others.
import { describe, expect, it } from 'vitest';
import { checkState, saveState, type AccessSize, type SavedState, type StateDeclaration } from '../devices/device';
import { createRiscvCpu } from '../cpu/riscv/wasm-cpu';
import { RunLoop } from './run-loop';
import { buildProgram, hasRiscvGcc } from './testing/rv-toolchain';
import { VirtMachine } from './virt';

const MiB = 1024 * 1024;
/** An unused window of QEMU's map (the platform bus). */
const KICK_BASE = 0x4000000;
const FLAG = 0x80100000;

const STATE: StateDeclaration = { name: 'test.kick', version: 1, fields: {} };

/** A write starts "host work": a promise job that sets FLAG in guest RAM. */
class KickDevice {
  readonly name = 'test.kick';
  readonly size = 0x1000;
  constructor(private readonly m: VirtMachine, private readonly viaHostTurn: boolean) {}
  read(_offset: number, _size: AccessSize): number {
    return 0;
  }
  write(): void {
    queueMicrotask(() => new DataView(this.m.cpu.ram.buffer, this.m.cpu.ram.byteOffset).setUint32(FLAG - 0x80000000, 1, true));
    if (this.viaHostTurn) this.m.hostTurn();
  }
  reset(): void {}
  saveState(): SavedState {
    return saveState(STATE, {});
  }
  loadState(state: SavedState): void {
    checkState(STATE, state);
  }
}

/** Hart 0 kicks, then counts spins until the flag is set; hart 1 counts its own loops meanwhile. */
const PROGRAM = `
  .section .text.init
  .globl _start
  _start:
    bnez a0, secondary
    li t0, ${KICK_BASE}
    li t2, ${FLAG}
    li s0, 0
    sw zero, 0(t0)
  1: lw t3, 0(t2)
    bnez t3, 2f
    addi s0, s0, 1
    j 1b
  2: sd s0, 8(t2)
    # 50 times: kick on every spin until hart 1 has counted once more (hart 1 must keep getting
    # turns although every run of hart 0 ends in a host turn).
    li s1, 50
  3: lw s2, 16(t2)
  4: sw zero, 0(t0)
    lw t3, 16(t2)
    beq t3, s2, 4b
    addi s1, s1, -1
    bnez s1, 3b
    la t0, tohost
    li t1, 1
    sd t1, 0(t0)
  5: j 5b
  secondary:
    li t2, ${FLAG}
  6: lw t3, 16(t2)
    addi t3, t3, 1
    sw t3, 16(t2)
    li t4, 100
  7: addi t4, t4, -1
    bnez t4, 7b
    j 6b
  .section .tohost,"aw",@progbits
  .globl tohost
  tohost: .dword 0
`;

async function run(viaHostTurn: boolean): Promise<bigint> {
  const m = await VirtMachine.create(
    { harts: 2, ramSize: 16 * MiB, bios: { kind: 'none' }, kernel: { name: 'k.elf', data: buildProgram(PROGRAM) }, icountShift: 0 },
    (o) => createRiscvCpu(o),
    () => {},
  );
  m.bus.map(KICK_BASE, new KickDevice(m, viaHostTurn));
  const loop = new RunLoop(m);
  const timeout = setTimeout(() => loop.stop({ kind: 'quit', code: 0 }), 20_000);
  const exit = await loop.run();
  clearTimeout(timeout);
  expect(exit).toEqual({ kind: 'htif-exit', code: 0 });
  return new DataView(m.cpu.ram.buffer, m.cpu.ram.byteOffset + 0x10_0000, 16).getBigUint64(8, true);
}

describe.skipIf(!hasRiscvGcc)('host turns', () => {
  it('the work a device queued runs before the hart goes on; the other hart keeps its turns', async () => {
    // With the host turn the flag is there at the first look; without it, only once the slice
    // (200,000 instructions under icount) has run out.
    expect(await run(true)).toBeLessThan(2n);
    expect(await run(false)).toBeGreaterThan(1000n);
  }, 60_000);
});
