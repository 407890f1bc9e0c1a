// Boots the same kernel behind Debian's OpenSBI (fw_dynamic.bin, entered from our mask ROM with
// QEMU's fw_dynamic_info), as `qemu-system-riscv64 -bios fw_dynamic.bin` does.
// With two harts this boot used to lock up now and then, mostly on a loaded host (issue 2), for two
// reasons: OpenSBI forwards an IPI to S-mode with `csrs mip, SSIP`, and the core wrote the PLIC's
// SEIP back as a software bit, so hart 0 took external interrupts for ever
// (src/emulator-core/machine/ipi-forwarding.test.ts); and a rate learnt on a loaded host made the
// time CSR go back at every run (src/emulator-core/machine/wall-time.test.ts).
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PROBE_SCRIPT, hasCpio, hasGuest, initrdWithAutorun, kernel, openSbi, vivRun } from './boot-guest';

describe.skipIf(!hasGuest || !hasCpio || !existsSync(openSbi))("boot with Debian's OpenSBI (fw_dynamic)", () => {
  it.each([1, 2])('prints the OpenSBI banner for this platform, boots the kernel at 0x80200000 and powers off (-smp %i)', async (harts) => {
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
    // Every hart is in /proc/cpuinfo, in order ("processor : 0 ... hart : 0 ... processor : 1 ...").
    const cpuinfo = Array.from({ length: harts }, (_, h) => `processor\\s*: ${h}[\\s\\S]*hart\\s*: ${h}`).join('[\\s\\S]*');
    expect(r.stdout, tail).toMatch(new RegExp(cpuinfo));
    expect(r.stdout, tail).toContain('AUTORUN-EXIT 0');
    expect(r.code, tail).toBe(0);
  }, 900_000);
});
