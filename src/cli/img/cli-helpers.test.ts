import { describe, expect, it } from 'vitest';
import { formatG, parseOptionList, sizeToStr, strtosz } from './common';
import { getopt } from './getopt';
import { cFixed } from './progress';
import { qdictOrder, toQemuJson } from './qjson';
import { UsageError } from './common';

describe('qemu-img number formats', () => {
  it('size_to_str picks the unit that keeps the number below 1000, %0.3g', () => {
    expect(sizeToStr(0)).toBe('0 B');
    expect(sizeToStr(200704)).toBe('196 KiB');
    expect(sizeToStr(1327104)).toBe('1.27 MiB');
    expect(sizeToStr(2147483648)).toBe('2 GiB');
    expect(sizeToStr(1000 * 1024)).toBe('0.977 MiB');
    expect(sizeToStr(1023)).toBe('0.999 KiB');
    expect(sizeToStr(999)).toBe('999 B');
  });

  it('printf %g and %.2f as C does (ties to even on the exact binary value)', () => {
    expect(formatG(1000, 3)).toBe('1e+03');
    expect(formatG(0.5, 3)).toBe('0.5');
    expect(cFixed(3.125, 2)).toBe('3.12');
    expect(cFixed(15.625, 2)).toBe('15.62');
    expect(cFixed(0.005, 2)).toBe('0.01'); // 0.005 is a little above 0.005 in binary
    expect(cFixed(99.999, 2)).toBe('100.00');
  });

  it('qemu_strtosz: suffixes, fractions with a unit, hex, and what it refuses', () => {
    expect(strtosz('1M')).toBe(1048576n);
    expect(strtosz('1.5k')).toBe(1536n);
    expect(strtosz('2G')).toBe(2147483648n);
    expect(strtosz('0x10')).toBe(16n);
    expect(strtosz('512b')).toBe(512n);
    expect(strtosz('1.5')).toBeUndefined();
    expect(strtosz('1Q')).toBeUndefined();
    expect(strtosz('-1')).toBeUndefined();
    expect(strtosz('')).toBeUndefined();
  });

  it('-o lists: ",," is a comma, bare keys have no value', () => {
    expect(parseOptionList('a=1,b=x,,y,lazy_refcounts')).toEqual([['a', '1'], ['b', 'x,y'], ['lazy_refcounts', undefined]]);
  });
});

describe('getopt_long as qemu-img uses it', () => {
  const longs = [{ name: 'output', hasArg: true, key: 'output' }, { name: 'backing-chain', hasArg: false, key: 'backing-chain' }];
  it('mixes options and operands, takes --x=v, --x v and unique prefixes', () => {
    const r = getopt(['a.qcow2', '-f', 'qcow2', '--out=json', '--backing', '-qU', 'b'], 'f:qU', longs);
    expect(r.operands).toEqual(['a.qcow2', 'b']);
    expect(r.options).toEqual([{ key: 'f', value: 'qcow2' }, { key: 'output', value: 'json' }, { key: 'backing-chain' }, { key: 'q' }, { key: 'U' }]);
    expect(getopt(['-fraw', '--', '-x'], 'f:').operands).toEqual(['-x']);
  });
  it('refuses unknown options and missing arguments in qemu-img words', () => {
    expect(() => getopt(['-1'], 'f:')).toThrow(new UsageError("unrecognized option '-1'"));
    expect(() => getopt(['-f'], 'f:')).toThrow(new UsageError("missing argument for option '-f'"));
    expect(() => getopt(['--nope'], 'f:', longs)).toThrow(UsageError);
  });
});

describe('QEMU JSON', () => {
  it('orders object keys as QDict iterates them (tdb hash buckets)', () => {
    // The order qemu-img 7.2 prints `info --output=json` in.
    expect(qdictOrder(['filename', 'format', 'dirty-flag', 'actual-size', 'virtual-size', 'cluster-size', 'backing-filename',
      'full-backing-filename', 'backing-filename-format', 'format-specific'])).toEqual(['backing-filename-format', 'virtual-size',
      'filename', 'cluster-size', 'format', 'actual-size', 'format-specific', 'full-backing-filename', 'backing-filename', 'dirty-flag']);
  });
  it('pretty-prints with four spaces, escapes like QEMU', () => {
    // ("s" hashes to an earlier bucket than "a".)
    expect(toQemuJson({ a: [1, { b: true }], s: 'x"\u00e9\n' })).toBe('{\n    "s": "x\\"\\u00E9\\n",\n    "a": [\n        1,\n        {\n            "b": true\n        }\n    ]\n}');
  });
});
