import { describe, expect, it } from 'vitest';
import { RunLoop } from './run-loop';
import { buildProgram, flatBinary, hasRiscvGcc } from './testing/rv-toolchain';
import { FakeCpu } from './testing/fake-cpu';
import { VirtMachine, type VirtConfig } from './virt';
import { decodeFdt, findNode, propStrings } from './fdt';

const MiB = 1024 * 1024;

async function boot(config: Partial<VirtConfig> & Pick<VirtConfig, 'bios'>, opts: { sstc?: boolean } = {}) {
  let out = '';
  let cpu: FakeCpu | undefined;
  const m = await VirtMachine.create(
    { harts: 2, ramSize: 64 * MiB, ...config },
    (o) => (cpu = new FakeCpu({ ...o, sstc: opts.sstc })),
    (b) => (out += new TextDecoder().decode(b)),
  );
  const loop = new RunLoop(m);
  const timeout = setTimeout(() => loop.stop({ kind: 'quit', code: 0 }), 10_000);
  const exit = await loop.run();
  clearTimeout(timeout);
  return { m, exit, out, cpu: cpu!, loop };
}

/** Prints the NUL-terminated string at label `msg` on the UART. */
const UART_PUTS = `
  li t0, 0x10000000
  la t1, msg
1: lbu t2, 0(t1)
  beqz t2, 2f
  sb t2, 0(t0)
  addi t1, t1, 1
  j 1b
2:
`;

/** An SBI call: a7 = eid, a6 = fid. */
const sbi = (eid: number, fid: number) => `li a7, ${eid}\n li a6, ${fid}\n ecall\n`;

describe.skipIf(!hasRiscvGcc)('virt board (with a fake CPU)', () => {
  it('-bios none: the ROM passes hartid and FDT to a bare-metal ELF, which prints and exits through HTIF', async () => {
    const elf = buildProgram(`
      .section .text.init
      .globl _start
      _start:
        bnez a0, park            # only hart 0 runs the test
        la t3, fdtaddr
        sd a1, 0(t3)
        ${UART_PUTS}
        la t0, tohost
        li t1, 1                 # exit status 0
        sd t1, 0(t0)
      park: j park
      .data
      msg: .asciz "hello from bare metal\\n"
      fdtaddr: .dword 0
      .section .tohost,"aw",@progbits
      .globl tohost
      tohost: .dword 0
    `);
    const { exit, out, m } = await boot({ bios: { kind: 'none' }, kernel: { name: 'p.elf', data: elf } });
    expect(out).toBe('hello from bare metal\n');
    expect(exit).toEqual({ kind: 'htif-exit', code: 0 });
    const fdtaddrSym = m.mem.slice(0x8000_0000, 0x200).indexOf(0); // sanity: RAM holds the program
    expect(fdtaddrSym).toBeGreaterThanOrEqual(0);
    expect(m.fdtAddr).toBe(0x8000_0000 + 64 * MiB - 2 * MiB);
  });

  it('HTIF reports a failing test number as the exit code', async () => {
    const elf = buildProgram(`
      .section .text.init
      .globl _start
      _start:
        la t0, tohost
        li t1, (3 << 1) | 1
        sd t1, 0(t0)
      1: j 1b
      .section .tohost,"aw",@progbits
      .globl tohost
      tohost: .dword 0
    `);
    const { exit } = await boot({ harts: 1, bios: { kind: 'none' }, kernel: { name: 'p.elf', data: elf } });
    expect(exit).toEqual({ kind: 'htif-exit', code: 3 });
  });

  it('sifive_test: FAIL carries its code, PASS powers off', async () => {
    const fail = flatBinary(buildProgram(`
      .section .text.init
      .globl _start
      _start:
        li t0, 0x100000
        li t1, (7 << 16) | 0x3333
        sw t1, 0(t0)
      1: j 1b
    `));
    expect((await boot({ harts: 1, bios: { kind: 'file', name: 'fail.bin', data: fail } })).exit).toEqual({ kind: 'test-fail', code: 7 });
  });

  it('built-in SBI: the kernel starts in S-mode with a1 = FDT, prints via DBCN, starts hart 1 through HSM, shuts down via SRST', async () => {
    const kernel = buildProgram(
      `
      .section .text.init
      .globl _start
      _start:
        bnez a0, secondary
        mv s1, a1
        # DBCN console_write(len, lo, hi)
        li a0, 6
        la a1, hello
        li a2, 0
        ${sbi(0x4442434e, 0)}
        # HSM hart_start(1, secondary, opaque = 0x55)
        li a0, 1
        la a1, _start
        li a2, 0x55
        ${sbi(0x48534d, 0)}
        mv s2, a0
      wait: j wait
      secondary:
        li t0, 0x55
        bne a1, t0, wait         # opaque arrives in a1
        ${UART_PUTS}
        # SRST system_reset(shutdown, no reason)
        li a0, 0
        li a1, 0
        ${sbi(0x53525354, 0)}
      1: j 1b
      .data
      hello: .ascii "hello\\n"
      msg: .asciz "hart 1 up\\n"
    `,
      0x8020_0000,
    );
    const { exit, out, cpu, m } = await boot({ bios: { kind: 'default' }, kernel: { name: 'k.elf', data: kernel }, append: 'console=ttyS0' });
    expect(out).toBe('hello\nhart 1 up\n');
    expect(exit).toEqual({ kind: 'poweroff', code: 0 });
    expect(cpu.getPriv(0)).toBe(1);
    expect(cpu.getX(0, 9)).toBe(BigInt(m.fdtAddr)); // s1 = the a1 the kernel got
    expect(cpu.getX(0, 18)).toBe(0n); // s2 = hart_start's error: SUCCESS
    expect(propStrings(findNode(decodeFdt(m.fdt), '/chosen'), 'bootargs')).toEqual(['console=ttyS0']);
  });

  it('a hart in WFI sleeps until its SBI timer fires (icount: time skips ahead, same count twice)', async () => {
    const kernel = buildProgram(
      `
      .section .text.init
      .globl _start
      _start:
        li t0, 1 << 5
        csrs sie, t0             # STIE: the timer may wake WFI
        csrr a0, time
        li t1, 5000000           # 0.5 s of guest time
        add a0, a0, t1
        ${sbi(0x54494d45, 0)}
        wfi
        ${UART_PUTS}
        li a0, 0
        li a1, 0
        ${sbi(0x53525354, 0)}
      1: j 1b
      .data
      msg: .asciz "woke\\n"
    `,
      0x8020_0000,
    );
    const run = () => boot({ harts: 1, bios: { kind: 'default' }, kernel: { name: 'k.elf', data: kernel }, icountShift: 3 });
    const a = await run();
    expect(a.out).toBe('woke\n');
    expect(a.exit.kind).toBe('poweroff');
    expect(a.m.clint.mtime()).toBeGreaterThanOrEqual(5_000_000n);
    expect(a.loop.stats.instructions).toBeLessThan(1000); // it slept, it did not spin
    const b = await run();
    expect(b.loop.stats.instructions).toBe(a.loop.stats.instructions);
    expect(b.m.clint.mtime()).toBe(a.m.clint.mtime());
  });

  it('a hart in WFI sleeps on the wall clock too, and wakes on serial input', async () => {
    const kernel = buildProgram(
      `
      .section .text.init
      .globl _start
      _start:
        li t0, 0x10000000
        li t1, 1
        sb t1, 1(t0)             # UART IER: receive interrupts
        li t0, 0x0c000000 + 10*4
        sw t1, 0(t0)             # PLIC priority of source 10
        li t0, 0x0c002080
        li t1, 1 << 10
        sw t1, 0(t0)             # enable source 10 for context 1 (hart 0, S)
        li t0, 1 << 9
        csrs sie, t0             # SEIE
        wfi
        li t0, 0x10000000
        lbu t1, 0(t0)            # the byte typed
        sb t1, 0(t0)             # echo it
        li a0, 0
        li a1, 0
        ${sbi(0x53525354, 0)}
      1: j 1b
    `,
      0x8020_0000,
    );
    let out = '';
    const m = await VirtMachine.create({ harts: 1, ramSize: 64 * MiB, bios: { kind: 'default' }, kernel: { name: 'k.elf', data: kernel } }, (o) => new FakeCpu(o), (b) => (out += new TextDecoder().decode(b)));
    const loop = new RunLoop(m);
    const running = loop.run();
    await new Promise((r) => setTimeout(r, 300));
    expect(loop.stats.idleMs).toBeGreaterThan(100);
    m.serialIn(new TextEncoder().encode('x'));
    loop.wake();
    expect(await running).toEqual({ kind: 'poweroff', code: 0 });
    expect(out).toBe('x');
  });

  it('a guest reboot (sifive_test RESET) reloads the images and starts over; -no-reboot ends the run', async () => {
    const kernel = flatBinary(buildProgram(`
      .section .text.init
      .globl _start
      _start:
        la t1, msg
        ${UART_PUTS}
        la t0, msg
        sb zero, 0(t0)            # spoil the message in RAM: only a reload brings it back
        li t0, 0x100000
        li t1, 0x7777
        sw t1, 0(t0)
      1: j 1b
      .data
      msg: .asciz "boot\\n"
    `));
    let out = '';
    const m = await VirtMachine.create({ harts: 1, ramSize: 64 * MiB, bios: { kind: 'file', name: 'k.bin', data: kernel } }, (o) => new FakeCpu(o), (b) => (out += new TextDecoder().decode(b)));
    const loop = new RunLoop(m);
    const poll = setInterval(() => {
      if (out.split('boot').length > 3) loop.stop({ kind: 'quit', code: 0 });
    }, 5);
    expect(await loop.run()).toEqual({ kind: 'quit', code: 0 });
    clearInterval(poll);
    expect(out.startsWith('boot\nboot\nboot\n')).toBe(true);
    const once = await boot({ harts: 1, bios: { kind: 'file', name: 'k.bin', data: kernel }, noReboot: true });
    expect(once.exit).toEqual({ kind: 'reboot-refused', code: 0 });
    expect(once.out).toBe('boot\n');
  });

  it('splits an 8-byte MMIO access into two 4-byte ones, low word first (CLINT mtimecmp)', async () => {
    const kernel = flatBinary(buildProgram(`
      .section .text.init
      .globl _start
      _start:
        li t0, 0x2004000
        li t1, -1
        sd t1, 0(t0)
        li t0, 0x100000
        li t1, 0x5555
        sw t1, 0(t0)
      1: j 1b
    `));
    const { exit, cpu, m } = await boot({ harts: 1, bios: { kind: 'file', name: 'k.bin', data: kernel } });
    expect(exit.kind).toBe('poweroff');
    expect(cpu.mmioLog.slice(0, 2)).toEqual(['w4 2004000', 'w4 2004004']);
    expect(m.clint.timecmp(0)).toBe((1n << 64n) - 1n);
  });
});
