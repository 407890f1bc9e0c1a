import { describe, expect, it } from 'vitest';
import { MiB, OptionError, parseKeyValues, parseMemSize, parseRunArgs } from './options';

const args = (s: string) => s.split(' ').filter(Boolean);

describe('viv run options (QEMU syntax)', () => {
  it("parses the README's command line", () => {
    const c = parseRunArgs([...args('-M virt -m 512M -smp 2 -nographic -kernel K -initrd I -append'), 'console=ttyS0 quiet']);
    expect(c).toEqual({
      machine: 'virt',
      ramBytes: 512 * MiB,
      smp: 2,
      kernel: 'K',
      initrd: 'I',
      append: 'console=ttyS0 quiet',
      bios: { kind: 'default' },
      nographic: true,
      display: 'none',
      serial: { kind: 'stdio', mux: true },
      noReboot: false,
      net: { netdevs: [], nics: [] },
      graphics: { devices: [] },
      drives: { drives: [], blkDevices: [], snapshotAll: false },
      accel: 'tcg',
      log: new Set(),
    });
  });

  it('takes -accel tcg|tci and -d log items', () => {
    expect(parseRunArgs(args('-accel tcg')).accel).toBe('tcg');
    expect(parseRunArgs(args('-accel tci,thread=single')).accel).toBe('tci');
    expect(parseRunArgs(args('-accel accel=tcg')).accel).toBe('tcg');
    expect([...parseRunArgs(args('-d tcg-stats -d op,out_asm')).log].sort()).toEqual(['op', 'out_asm', 'tcg-stats']);
  });

  it('has QEMU defaults: 128M, one hart, built-in firmware, serial on plain stdio', () => {
    const c = parseRunArgs(['-kernel', 'K']);
    expect(c.ramBytes).toBe(128 * MiB);
    expect(c.smp).toBe(1);
    expect(c.bios).toEqual({ kind: 'default' });
    expect(c.serial).toEqual({ kind: 'stdio', mux: false });
  });

  it('accepts the spellings QEMU accepts', () => {
    expect(parseRunArgs(args('--machine type=virt,dumpdtb=/tmp/x.dtb')).dumpDtb).toBe('/tmp/x.dtb');
    expect(parseRunArgs(args('-m size=1G')).ramBytes).toBe(1024 * MiB);
    expect(parseRunArgs(args('-m 256')).ramBytes).toBe(256 * MiB);
    expect(parseRunArgs(args('-smp cpus=4')).smp).toBe(4);
    expect(parseRunArgs(args('-bios none')).bios).toEqual({ kind: 'none' });
    expect(parseRunArgs(args('-bios /x/fw_dynamic.bin')).bios).toEqual({ kind: 'file', path: '/x/fw_dynamic.bin' });
    expect(parseRunArgs(args('-icount shift=3')).icountShift).toBe(3);
    expect(parseRunArgs(args('-icount 0,sleep=off')).icountShift).toBe(0);
    expect(parseRunArgs(args('-no-reboot -display none')).noReboot).toBe(true);
    expect(parseRunArgs(args('-nic none')).smp).toBe(1);
    expect(parseRunArgs(args('-serial null')).serial).toEqual({ kind: 'null' });
    expect(parseRunArgs(args('-loadvm s1')).loadvm).toBe('s1');
    // -monitor stdio takes the terminal: the serial line goes nowhere unless given (QEMU's default vc).
    expect(parseRunArgs(args('-monitor stdio'))).toMatchObject({ monitor: 'stdio', serial: { kind: 'null' } });
    expect(parseRunArgs(args('-monitor stdio -serial unix:/s,server=on,wait=off')).serial.kind).toBe('unix');
    expect(parseRunArgs(args('-monitor none')).monitor).toBeUndefined();
    expect(parseRunArgs(args('-nographic -serial unix:/run/s.sock,server=on,wait=off')).serial).toEqual({ kind: 'unix', path: '/run/s.sock', server: true, wait: false });
    expect(parseRunArgs(args('-serial unix:/run/s,,x.sock,server,nowait')).serial).toEqual({ kind: 'unix', path: '/run/s,x.sock', server: true, wait: false });
    expect(parseRunArgs(args('-serial tcp::4444,server=on,wait=off')).serial).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 4444, server: true, wait: false });
  });

  const refused: [string, RegExp][] = [
    ['-foo', /^-foo: invalid option$/],
    ['-loadvm', /^-loadvm: requires an argument$/],
    ['-monitor vc', /^-monitor: 'vc' is not supported/],
    ['-nographic -monitor stdio', /^cannot use stdio by multiple character devices$/],
    ['-serial stdio -monitor stdio', /^-serial stdio: cannot use stdio by multiple character devices$/],
    ['-S', /^-S: not implemented yet$/],
    ['-m', /^-m: requires an argument$/],
    ['-m 0', /^-m: 0 is not a non-zero multiple of 4 KiB$/],
    ['-m 64T', /^-m: 64T is more than this emulator's maximum/],
    ['-m lots', /^-m: invalid size 'lots'/],
    ['-smp 9', /^-smp: cpus must be 1..8/],
    ['-smp 0', /^-smp: cpus must be 1..8/],
    ['-smp 2,sockets=2', /^-smp: Invalid parameter 'sockets'$/],
    ['-M sifive_u', /^-M: machine type 'sifive_u' is not supported/],
    ['-machine virt,aclint=on', /^-machine: Invalid parameter 'aclint'$/],
    ['-icount shift=auto', /^-icount: shift=auto is not supported/],
    ['-icount shift=11', /^-icount: shift must be 0..10/],
    ['-icount shift=2,sleep=on', /^-icount: sleep=on is not supported/],
    ['-display gtk', /^-display: 'gtk' is not supported/],
    ['-accel kvm', /^-accel: 'kvm' is not supported/],
    ['-accel tcg,thread=multi', /^-accel: thread=multi is not supported/],
    ['-accel tcg,tb-size=64', /^-accel: Invalid parameter 'tb-size'$/],
    ['-accel tcg -accel tci', /^-accel: only one accelerator/],
    ['-d in_asm', /^-d: log item 'in_asm' is not supported/],
    ['-serial pty', /^-serial: 'pty' is not supported/],
    ['-serial tcp:nohost', /^-serial: tcp: needs host:port/],
    ['-serial stdio -serial null', /^-serial: only one serial port/],
    ['-nic tap', /^-nic tap: network backend 'tap' is not supported/],
    ['-initrd I', /^-initrd: needs -kernel$/],
    ['disk.img', /^disk.img: unexpected argument/],
  ];
  for (const [line, message] of refused) {
    it(`refuses ${line}`, () => {
      let err: unknown;
      try {
        parseRunArgs(args(line));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OptionError);
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).not.toContain('\n');
    });
  }

  it('splits key=value lists with QEMU escaping', () => {
    expect([...parseKeyValues('virt,dumpdtb=a,,b', 'type')]).toEqual([
      ['type', 'virt'],
      ['dumpdtb', 'a,b'],
    ]);
    expect(parseMemSize('1.5G')).toBe(1536 * MiB);
    expect(parseMemSize('4096k')).toBe(4 * MiB);
  });
});
