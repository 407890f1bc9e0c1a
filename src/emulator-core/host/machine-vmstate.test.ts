// The whole-machine vmstate on the real core: a bare-metal program on two harts (timer
// interrupts, WFI, LR/SC, UART output, RAM it keeps changing) under -icount. Run, save, run N more
// and hash; restore into a fresh machine (and into the same one) and run N more: the same hash
// and the same console bytes. Every part (CPU harts, board, every device, virtio transports and
// devices) round-trips into a fresh machine with equal states. Bad snapshots are refused with the
// mismatch named and the machine untouched.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openImage } from '../block';
import { createRiscvCpu } from '../cpu/riscv/wasm-cpu';
import { VirtioBlk } from '../devices/virtio/blk';
import { VirtioGpu } from '../devices/virtio/gpu';
import { VirtioInput } from '../devices/virtio/input';
import { VirtioNet } from '../devices/virtio/net';
import type { VirtioDevice } from '../devices/virtio/virtio-device';
import { Framebuffer } from '../display/framebuffer';
import { RunLoop } from '../machine/run-loop';
import { buildProgram, hasRiscvGcc } from '../machine/testing/rv-toolchain';
import { VirtMachine } from '../machine/virt';
import type { NetBackend } from '../net/backend';
import { NetCounters } from '../net/counters';
import { StateFormatError } from '../snapshot/codec';
import { captureMachine, encodeCapture, restoreMachine } from './machine-vmstate';

const MiB = 1024 * 1024;
const dir = mkdtempSync(path.join(tmpdir(), 'viv-vmstate-'));
const drivers: { close(): Promise<void> }[] = [];
afterAll(async () => {
  await Promise.all(drivers.map((d) => d.close()));
  rmSync(dir, { recursive: true, force: true });
});

// Hart 0: counts in RAM, prints a letter every 1024 counts, takes CLINT timer interrupts (the
// handler counts them and re-arms mtimecmp), sleeps in WFI every 16384 counts. Hart 1: an LR/SC
// increment loop on a shared word.
const PROGRAM = `
  .option arch, +a
  .section .text.init
  .globl _start
_start:
  la t0, trap
  csrw mtvec, t0
  bnez a0, hart1
  li s1, 0x10000000
  li s2, 0
  li t5, 0x200bff8
  ld t6, 0(t5)
  li a5, 3000
  add t6, t6, a5
  li t5, 0x2004000
  sd t6, 0(t5)
  li t0, 0x80
  csrs mie, t0
  csrsi mstatus, 8
loop:
  addi s2, s2, 1
  la t1, count
  sd s2, 0(t1)
  andi t2, s2, 0x3ff
  bnez t2, 1f
  srli t3, s2, 10
  andi t3, t3, 15
  addi t3, t3, 97
  sb t3, 0(s1)
1:
  li t4, 0x3fff
  and t2, s2, t4
  bnez t2, loop
  wfi
  j loop
trap:
  la t5, ticks
  ld t6, 0(t5)
  addi t6, t6, 1
  sd t6, 0(t5)
  li t5, 0x200bff8
  ld t6, 0(t5)
  li a5, 3000
  add t6, t6, a5
  li t5, 0x2004000
  sd t6, 0(t5)
  mret
hart1:
  la t0, shared
2:
  lr.d t1, (t0)
  addi t1, t1, 1
  sc.d t2, t1, (t0)
  j 2b
  .data
  .align 3
count: .dword 0
ticks: .dword 0
shared: .dword 0
`;

const nullBackend = (): NetBackend => ({
  start: async () => {},
  send: () => {},
  attach: () => {},
  receiveReady: () => {},
  counters: new NetCounters(),
  close: async () => {},
});

async function makeMachine(program: Uint8Array, extra: { ramMiB?: number; devices?: boolean } = {}) {
  const disk = path.join(dir, `disk-${Math.random().toString(36).slice(2)}.raw`);
  writeFileSync(disk, new Uint8Array(MiB));
  const devices: VirtioDevice[] = [];
  if (extra.devices !== false) {
    devices.push(new VirtioNet(nullBackend(), new Uint8Array([0x52, 0x54, 0, 0x12, 0x34, 0x56])));
    devices.push(new VirtioGpu(new Framebuffer(640, 480), { width: 640, height: 480 }));
    devices.push(new VirtioInput('keyboard'));
    const driver = await openImage(disk, { format: 'raw' });
    drivers.push(driver);
    devices.push(new VirtioBlk(driver));
  }
  let out = '';
  const m = await VirtMachine.create(
    { harts: 2, ramSize: (extra.ramMiB ?? 16) * MiB, bios: { kind: 'none' }, kernel: { name: 'p.elf', data: program }, icountShift: 3, virtioDevices: devices },
    createRiscvCpu,
    (b) => (out += new TextDecoder().decode(b)),
  );
  const loop = new RunLoop(m);
  return { m, loop, output: () => out };
}

/** Runs the loop until at least `insns` more instructions have retired, then pauses it (at a slice boundary). */
async function runFor(loop: RunLoop, insns: number): Promise<void> {
  const target = loop.stats.instructions + insns;
  let done!: () => void;
  const reached = new Promise<void>((r) => (done = r));
  loop.onSlice = () => {
    if (loop.stats.instructions >= target) {
      loop.pause();
      loop.onSlice = undefined;
      done();
    }
  };
  if (loop.paused) loop.resume();
  if (!running.has(loop)) {
    running.add(loop);
    void loop.run();
  }
  await reached;
}
const running = new WeakSet<RunLoop>();

async function stateHash(m: VirtMachine, loop: RunLoop): Promise<string> {
  return createHash('sha256').update(await encodeCapture(captureMachine(m, loop))).digest('hex');
}

describe.skipIf(!hasRiscvGcc)('machine vmstate (real core, -icount)', () => {
  const program = hasRiscvGcc ? buildProgram(PROGRAM) : new Uint8Array();

  it('save, run N; restore into a fresh machine and into the same one, run N: the same state hash and output', async () => {
    const a = await makeMachine(program);
    await runFor(a.loop, 1_500_000);
    const saved = await encodeCapture(captureMachine(a.m, a.loop));
    const outAtSave = a.output().length;
    await runFor(a.loop, 1_000_000);
    const hashA = await stateHash(a.m, a.loop);
    const outA = a.output().slice(outAtSave);
    expect(outA.length).toBeGreaterThan(10);

    const b = await makeMachine(program);
    await restoreMachine(b.m, b.loop, saved);
    await runFor(b.loop, 1_000_000);
    expect(await stateHash(b.m, b.loop)).toBe(hashA);
    expect(b.output()).toBe(outA);

    // loadvm into the running machine itself.
    const outBefore = a.output().length;
    await restoreMachine(a.m, a.loop, saved);
    await runFor(a.loop, 1_000_000);
    expect(await stateHash(a.m, a.loop)).toBe(hashA);
    expect(a.output().slice(outBefore)).toBe(outA);

    a.loop.stop({ kind: 'quit', code: 0 });
    b.loop.stop({ kind: 'quit', code: 0 });
  }, 120_000);

  it('every part (harts, board, each device, virtio transports and devices) round-trips into a fresh machine', async () => {
    const a = await makeMachine(program);
    await runFor(a.loop, 1_500_000);
    const capA = captureMachine(a.m, a.loop);
    const b = await makeMachine(program);
    await restoreMachine(b.m, b.loop, await encodeCapture(capA));
    const capB = captureMachine(b.m, b.loop);
    expect(capB.fingerprint).toEqual(capA.fingerprint);
    const names = capA.sections.map((s) => s.name);
    for (const n of ['riscv-hart', 'riscv-virt-board', 'riscv.aclint.sifive-clint', 'riscv_sifive_plic', 'virtio-mmio', 'virtio-net', 'virtio-gpu', 'virtio-input', 'virtio-blk']) {
      expect(names).toContain(n);
    }
    capA.sections.forEach((s, i) => expect(capB.sections[i], s.name).toEqual(s));
    expect(capB.ram).toEqual(capA.ram);
    // The harts were doing something worth saving.
    const hart0 = capA.sections.find((s) => s.name === 'riscv-hart')!.record as { csr: Record<string, bigint>; pc: bigint };
    expect(hart0.csr.mie).toBe(0x80n);
    expect(hart0.pc).toBeGreaterThanOrEqual(0x8000_0000n);
    a.loop.stop({ kind: 'quit', code: 0 });
  }, 120_000);

  it('refuses another configuration, a truncated or foreign vmstate, and bad fields, leaving the machine as it was', async () => {
    const a = await makeMachine(program);
    await runFor(a.loop, 500_000);
    const good = await encodeCapture(captureMachine(a.m, a.loop));
    const before = await stateHash(a.m, a.loop);

    const bigger = await makeMachine(program, { ramMiB: 32 });
    await expect(restoreMachine(bigger.m, bigger.loop, good)).rejects.toThrow('16 MiB of RAM (this machine has 32 MiB)');
    const fewer = await makeMachine(program, { devices: false });
    await expect(restoreMachine(fewer.m, fewer.loop, good)).rejects.toThrow('devices not in this machine: virtio-blk, virtio-input, virtio-gpu, virtio-net');

    for (const cut of [0, 10, 100, 5000, good.length - 1]) {
      await expect(restoreMachine(a.m, a.loop, good.subarray(0, cut))).rejects.toBeInstanceOf(StateFormatError);
    }
    await expect(restoreMachine(a.m, a.loop, new TextEncoder().encode('QEVM\0\0\0\x03 a QEMU vmstate'))).rejects.toThrow('not a Vivarium vmstate');
    // A hart saved with a privilege level that does not exist: typed right, refused while applying, rolled back.
    const cap = captureMachine(a.m, a.loop);
    const hart = cap.sections.find((s) => s.name === 'riscv-hart')!;
    (hart.record as { priv: number }).priv = 2;
    await expect(restoreMachine(a.m, a.loop, await encodeCapture(cap))).rejects.toThrow('privilege 2 does not exist');
    const cap2 = captureMachine(a.m, a.loop);
    (cap2.sections.find((s) => s.name === 'riscv_sifive_plic')!.record as { levels: number[] }).levels = [1];
    await expect(restoreMachine(a.m, a.loop, await encodeCapture(cap2))).rejects.toThrow('riscv_sifive_plic.levels: expected an array of 3, found an array of 1');
    expect(await stateHash(a.m, a.loop)).toBe(before);
    a.loop.stop({ kind: 'quit', code: 0 });
  }, 120_000);
});
