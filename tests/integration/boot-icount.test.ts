// -icount: guest time is a function of the instruction count, so two boots print the same bytes
// (kernel timestamps, the RTC's date, the autorun's output) and end the same way.
import { describe, expect, it } from 'vitest';
import { hasCpio, hasGuest, initrdWithAutorun, kernel, vivRun } from './boot-guest';

describe.skipIf(!hasGuest || !hasCpio)('-icount determinism', () => {
  it('two runs of the same boot print identical output', async () => {
    const initrd = initrdWithAutorun('#!/bin/sh\necho "UPTIME $(cat /proc/uptime)"\ndate\n');
    const args = ['-M', 'virt', '-m', '256M', '-smp', '2', '-nographic', '-icount', 'shift=0', '-kernel', kernel, '-initrd', initrd, '-append', 'console=ttyS0'];
    const a = await vivRun(args, 840_000);
    const b = await vivRun(args, 840_000);
    console.log(`icount: ${(a.ms / 1000).toFixed(1)} s and ${(b.ms / 1000).toFixed(1)} s`);
    expect(a.stdout).toContain('AUTORUN-EXIT 0');
    expect(a.stdout).toMatch(/UPTIME \d+\.\d+/);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect(b.stdout).toBe(a.stdout);
  }, 1_800_000); // two boots; on a loaded 2-core machine each has taken up to 4 minutes
});
