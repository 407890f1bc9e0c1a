// Boots Debian's kernel on our virt board with the built-in SBI firmware (-bios default), two
// harts, and an autorun that computes in the guest shell and reads /proc/cpuinfo.
import { describe, expect, it } from 'vitest';
import { PROBE_SCRIPT, hasCpio, hasGuest, initrdWithAutorun, kernel, vivRun } from './boot-guest';

describe.skipIf(!hasGuest || !hasCpio)('boot with the built-in SBI firmware', () => {
  it('reaches GUEST-READY, runs the autorun on two harts and powers off with status 0', async () => {
    const initrd = initrdWithAutorun(PROBE_SCRIPT);
    const r = await vivRun(['-M', 'virt', '-m', '512M', '-smp', '2', '-nographic', '-kernel', kernel, '-initrd', initrd, '-append', 'console=ttyS0']);
    console.log(`built-in SBI: exit ${r.code} after ${(r.ms / 1000).toFixed(1)} s`);
    expect(r.stdout).toContain('Linux version 6.12.107+deb13-riscv64');
    expect(r.stdout).toContain('SBI specification v2.0 detected');
    expect(r.stdout).toContain('GUEST-READY 6.12.107+deb13-riscv64');
    expect(r.stdout).toContain('ANSWER 42');
    expect(r.stdout).toContain('HARTS 2');
    expect(r.stdout).toMatch(/processor\s*: 0[\s\S]*hart\s*: 0[\s\S]*processor\s*: 1[\s\S]*hart\s*: 1/);
    expect(r.stdout).toMatch(/isa\s*: rv64imafdc\S*_zicsr_zifencei_zihintpause/);
    expect(r.stdout).toMatch(/mmu\s*: sv48/);
    expect(r.stdout).toContain('AUTORUN-EXIT 0');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
