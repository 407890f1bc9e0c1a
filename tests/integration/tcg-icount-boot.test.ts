// The translator changes nothing the guest can see: under -icount (guest time from the instruction
// count) a boot of the shared guest prints the same bytes with -accel tcg as with -accel tci,
// from the first kernel message to the autorun's output and the power-off.
import { describe, expect, it } from 'vitest';
import { hasCpio, hasGuest, initrdWithAutorun, kernel, vivRun } from './boot-guest';

describe.skipIf(!hasGuest || !hasCpio)('-icount boot: tcg and tci print the same', () => {
  it('boots to GUEST-READY under both and the console output is byte-identical', async () => {
    const initrd = initrdWithAutorun('#!/bin/sh\necho "UPTIME $(cat /proc/uptime)"\ndate\nhead -c 64 /proc/interrupts\n');
    const args = ['-M', 'virt', '-m', '256M', '-smp', '2', '-nographic', '-icount', 'shift=0', '-kernel', kernel, '-initrd', initrd, '-append', 'console=ttyS0'];
    // One process each, at the same time: with -icount their speed cannot change what they print.
    const [tcg, tci] = await Promise.all([vivRun([...args, '-accel', 'tcg', '-d', 'tcg-stats'], 840_000), vivRun([...args, '-accel', 'tci'], 840_000)]);
    console.log(`-icount boot: tcg ${(tcg.ms / 1000).toFixed(1)} s, tci ${(tci.ms / 1000).toFixed(1)} s`);
    console.log(tcg.stderr.split('\n').filter((l) => l.startsWith('tcg:')).join('\n'));
    for (const r of [tcg, tci]) {
      expect(r.stdout).toContain('GUEST-READY');
      expect(r.stdout).toContain('AUTORUN-EXIT 0');
      expect(r.code).toBe(0);
    }
    // Translated code did run (else this compares tci with itself).
    expect(tcg.stderr).toMatch(/tcg: (\d+) regions/);
    expect(Number(/tcg: (\d+) regions/.exec(tcg.stderr)?.[1])).toBeGreaterThan(100);
    expect(tcg.stdout).toBe(tci.stdout);
  }, 1_800_000);
});
