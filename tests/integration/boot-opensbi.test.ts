// Boots the same kernel behind Debian's OpenSBI (fw_dynamic.bin, entered from our mask ROM with
// QEMU's fw_dynamic_info), as `qemu-system-riscv64 -bios fw_dynamic.bin` does.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PROBE_SCRIPT, hasCpio, hasGuest, initrdWithAutorun, kernel, openSbi, vivRun } from './boot-guest';

describe.skipIf(!hasGuest || !hasCpio || !existsSync(openSbi))("boot with Debian's OpenSBI (fw_dynamic)", () => {
  it('prints the OpenSBI banner for this platform, boots the kernel at 0x80200000 and powers off', async () => {
    const initrd = initrdWithAutorun(PROBE_SCRIPT);
    const r = await vivRun(['-M', 'virt', '-m', '512M', '-smp', '2', '-nographic', '-bios', openSbi, '-kernel', kernel, '-initrd', initrd, '-append', 'console=ttyS0'], 840_000);
    console.log(`OpenSBI: exit ${r.code} after ${(r.ms / 1000).toFixed(1)} s`);
    expect(r.stdout).toMatch(/OpenSBI v1\.\d+/);
    expect(r.stdout).toMatch(/Platform Name\s*: riscv-virtio,qemu/);
    expect(r.stdout).toMatch(/Platform HART Count\s*: 2/);
    expect(r.stdout).toMatch(/Domain0 Next Address\s*: 0x0*80200000/);
    expect(r.stdout).toContain('GUEST-READY 6.12.107+deb13-riscv64');
    expect(r.stdout).toContain('ANSWER 42');
    expect(r.stdout).toContain('HARTS 2');
    expect(r.stdout).toContain('AUTORUN-EXIT 0');
    expect(r.code).toBe(0);
  }, 900_000);
});
