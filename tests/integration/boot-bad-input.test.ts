// What a person gets for a bad command line or image: one line naming the problem, exit status 1,
// and no guest started.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasGuest, kernel, vivRun } from './boot-guest';

const dir = mkdtempSync(path.join(tmpdir(), 'viv-bad-'));
const truncatedElf = path.join(dir, 'truncated.elf');
writeFileSync(truncatedElf, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]));
const lyingImage = path.join(dir, 'lying-Image');
{
  // A RISC-V Image header that claims less memory than the file has.
  const f = Buffer.alloc(8192);
  f.writeBigUInt64LE(0x200000n, 8);
  f.writeBigUInt64LE(4096n, 16);
  f.write('RISCV\0\0\0', 0x30, 'latin1');
  f.write('RSC\x05', 0x38, 'latin1');
  writeFileSync(lyingImage, f);
}
const empty = path.join(dir, 'empty');
writeFileSync(empty, '');

const cases: [string, string[], RegExp][] = [
  ['an unknown option', ['-frobnicate'], /^viv run: -frobnicate: invalid option$/],
  ['an option we do not implement yet', ['-spice', 'port=5930'], /^viv run: -spice: not implemented yet$/],
  ['a missing kernel', ['-kernel', path.join(dir, 'nope')], /^viv run: could not load kernel '.*nope': No such file or directory$/],
  ['an empty kernel', ['-kernel', empty], /^viv run: could not load kernel '.*empty': the file is empty$/],
  ['a truncated ELF kernel', ['-kernel', truncatedElf], /^viv run: kernel '.*truncated\.elf': truncated ELF header$/],
  ['an Image header that lies', ['-kernel', lyingImage], /^viv run: kernel '.*lying-Image': Image header claims 4096 bytes, the file has 8192$/],
  ['-m too large', ['-m', '64G', '-kernel', kernel], /^viv run: -m: 64G is more than this emulator's maximum of \d+M$/],
  ['-smp out of range', ['-smp', '9', '-kernel', kernel], /^viv run: -smp: cpus must be 1..8, got '9'$/],
  ['a machine we do not have', ['-M', 'sifive_u', '-kernel', kernel], /^viv run: -M: machine type 'sifive_u' is not supported/],
  ['no kernel for the built-in firmware', ['-m', '64M'], /^viv run: the built-in firmware \(-bios default\) needs a -kernel to boot$/],
];

describe('viv run refuses bad input', () => {
  for (const [what, args, message] of cases) {
    it.skipIf(!hasGuest && args.includes(kernel))(`${what}: one line on stderr, exit 1`, async () => {
      const r = await vivRun(args, 60_000);
      expect(r.stderr.trim()).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stdout).toBe('');
      expect(r.code).toBe(1);
    });
  }
  it.skipIf(!hasGuest)('a kernel that does not fit in -m', async () => {
    const r = await vivRun(['-m', '16M', '-kernel', kernel], 60_000);
    expect(r.stderr.trim()).toMatch(/^viv run: kernel '.*Image' \(0x80200000\.\.0x[0-9a-f]+\) does not fit in RAM \(0x80000000\.\.0x81000000\): give the machine more memory \(-m\)$/);
    expect(r.code).toBe(1);
  });
});
