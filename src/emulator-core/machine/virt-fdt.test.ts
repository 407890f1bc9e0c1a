import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeFdt, findNode, propStrings, propU32s } from './fdt';
import { virtFdt } from './virt-fdt';

const cfg = {
  harts: 2,
  ramSize: 512 * 1024 * 1024,
  isa: 'rv64imafdc_zicsr_zifencei_zihintpause_sstc',
  mmuType: 'riscv,sv48',
  bootargs: 'console=ttyS0',
  initrd: { start: 0x8820_0000, end: 0x8876_e55d },
};

describe('virt device tree', () => {
  const tree = decodeFdt(virtFdt(cfg));

  it('describes memory, harts, timebase and chosen as QEMU virt does', () => {
    expect(propU32s(findNode(tree, '/memory@80000000'), 'reg')).toEqual([0, 0x8000_0000, 0, 0x2000_0000]);
    expect(propU32s(findNode(tree, '/cpus'), 'timebase-frequency')).toEqual([10_000_000]);
    expect(propStrings(findNode(tree, '/cpus/cpu@1'), 'riscv,isa')).toEqual([cfg.isa]);
    expect(propStrings(findNode(tree, '/cpus/cpu@0'), 'mmu-type')).toEqual(['riscv,sv48']);
    expect(propStrings(findNode(tree, '/chosen'), 'bootargs')).toEqual(['console=ttyS0']);
    expect(propStrings(findNode(tree, '/chosen'), 'stdout-path')).toEqual(['/soc/serial@10000000']);
    expect(propU32s(findNode(tree, '/chosen'), 'linux,initrd-start')).toEqual([0x8820_0000]);
    expect(propU32s(findNode(tree, '/chosen'), 'linux,initrd-end')).toEqual([0x8876_e55d]);
  });

  it('wires the PLIC contexts M,S per hart and the CLINT MSIP,MTIP per hart', () => {
    const intc0 = propU32s(findNode(tree, '/cpus/cpu@0/interrupt-controller'), 'phandle')![0]!;
    const intc1 = propU32s(findNode(tree, '/cpus/cpu@1/interrupt-controller'), 'phandle')![0]!;
    expect(propU32s(findNode(tree, '/soc/plic@c000000'), 'interrupts-extended')).toEqual([intc0, 11, intc0, 9, intc1, 11, intc1, 9]);
    expect(propU32s(findNode(tree, '/soc/clint@2000000'), 'interrupts-extended')).toEqual([intc0, 3, intc0, 7, intc1, 3, intc1, 7]);
    expect(propU32s(findNode(tree, '/soc/plic@c000000'), 'riscv,ndev')).toEqual([96]);
    expect(propU32s(findNode(tree, '/soc/plic@c000000'), 'reg')).toEqual([0, 0xc00_0000, 0, 0x60_0000]);
  });

  it('has eight virtio-mmio slots with IRQs 1..8, the UART on 10, the RTC on 11', () => {
    const plic = propU32s(findNode(tree, '/soc/plic@c000000'), 'phandle')![0];
    for (let i = 0; i < 8; i++) {
      const n = findNode(tree, `/soc/virtio_mmio@${(0x1000_1000 + 0x1000 * i).toString(16)}`);
      expect(propU32s(n, 'interrupts')).toEqual([i + 1]);
      expect(propU32s(n, 'interrupt-parent')).toEqual([plic]);
    }
    expect(propU32s(findNode(tree, '/soc/serial@10000000'), 'interrupts')).toEqual([10]);
    expect(propU32s(findNode(tree, '/soc/serial@10000000'), 'clock-frequency')).toEqual([3686400]);
    expect(propU32s(findNode(tree, '/soc/rtc@101000'), 'interrupts')).toEqual([11]);
    const test = propU32s(findNode(tree, '/soc/test@100000'), 'phandle')![0];
    expect(propU32s(findNode(tree, '/poweroff'), 'regmap')).toEqual([test]);
    expect(propU32s(findNode(tree, '/poweroff'), 'value')).toEqual([0x5555]);
    expect(propU32s(findNode(tree, '/reboot'), 'value')).toEqual([0x7777]);
  });

  const hasDtc = spawnSync('dtc', ['--version']).status === 0;
  it.skipIf(!hasDtc)("is read by dtc with no warning QEMU's own tree does not have, with QEMU's node set", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'viv-fdt-'));
    const file = path.join(dir, 'virt.dtb');
    writeFileSync(file, virtFdt(cfg));
    const r = spawnSync('dtc', ['-I', 'dtb', '-O', 'dts', file], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    // QEMU 7.2's tree draws the same warning for the cpu interrupt controllers (no #address-cells).
    const warnings = r.stderr.split('\n').filter((l) => l && !/interrupt_provider\): \/cpus\/cpu@\d+\/interrupt-controller: Missing #address-cells/.test(l));
    expect(warnings).toEqual([]);
    for (const n of ['clint@2000000', 'plic@c000000', 'serial@10000000', 'rtc@101000', 'test@100000', 'virtio_mmio@10008000', 'cpu-map', 'poweroff', 'reboot']) {
      expect(r.stdout).toContain(`${n} {`);
    }
    expect(execFileSync('fdtget', ['-t', 's', file, '/soc/serial@10000000', 'compatible'], { encoding: 'utf8' }).trim()).toBe('ns16550a');
  });
});
