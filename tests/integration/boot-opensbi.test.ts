// Boots the same kernel behind Debian's OpenSBI (fw_dynamic.bin, entered from our mask ROM with
// QEMU's fw_dynamic_info), as `qemu-system-riscv64 -bios fw_dynamic.bin` does.
//
// Known bug (open, issue 2): with two harts, 3 of 14 boots seen on 2026-11-25 (all on a loaded
// machine) never powered off; one that was watched printed "watchdog: Watchdog detected hard
// LOCKUP on cpu 0" at 68 s (hart 0 stuck with interrupts off, likely waiting on an OpenSBI
// IPI/remote fence the other hart never acknowledges). The built-in SBI boots two harts reliably
// (boot-builtin-sbi.test.ts). CI boots OpenSBI on one hart; VIV_TEST_OPENSBI_SMP2=1 adds the
// two-hart boot for whoever works on the bug.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PROBE_SCRIPT, hasCpio, hasGuest, initrdWithAutorun, kernel, openSbi, vivRun } from './boot-guest';

const hartCounts = process.env.VIV_TEST_OPENSBI_SMP2 === '1' ? [1, 2] : [1];

describe.skipIf(!hasGuest || !hasCpio || !existsSync(openSbi))("boot with Debian's OpenSBI (fw_dynamic)", () => {
  it.each(hartCounts)('prints the OpenSBI banner for this platform, boots the kernel at 0x80200000 and powers off (-smp %i)', async (harts) => {
    const initrd = initrdWithAutorun(PROBE_SCRIPT);
    const r = await vivRun(['-M', 'virt', '-m', '512M', '-smp', String(harts), '-nographic', '-bios', openSbi, '-kernel', kernel, '-initrd', initrd, '-append', 'console=ttyS0'], 840_000);
    console.log(`OpenSBI -smp ${harts}: exit ${r.code} after ${(r.ms / 1000).toFixed(1)} s`);
    const tail = `\n--- last lines ---\n${r.stdout.split('\n').slice(-8).join('\n')}`;
    expect(r.stdout, tail).toMatch(/OpenSBI v1\.\d+/);
    expect(r.stdout, tail).toMatch(/Platform Name\s*: riscv-virtio,qemu/);
    expect(r.stdout, tail).toMatch(new RegExp(`Platform HART Count\\s*: ${harts}`));
    expect(r.stdout, tail).toMatch(/Domain0 Next Address\s*: 0x0*80200000/);
    expect(r.stdout, tail).toContain('GUEST-READY 6.12.107+deb13-riscv64');
    expect(r.stdout, tail).toContain('ANSWER 42');
    expect(r.stdout, tail).toContain(`HARTS ${harts}`);
    expect(r.stdout, tail).toContain('AUTORUN-EXIT 0');
    expect(r.code, tail).toBe(0);
  }, 900_000);
});
