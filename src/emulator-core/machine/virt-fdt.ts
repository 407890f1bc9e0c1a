// The device tree of the virt board, generated as QEMU 7.2's hw/riscv/virt.c does (compare with
// `qemu-system-riscv64 -M virt -machine dumpdtb=q.dtb` and `dtc -I dtb -O dts q.dtb`): the same
// node names, compatibles, phandle wiring and interrupt numbers, minus what we do not implement
// (PCIe, flash, fw_cfg, platform bus, the PMU node). cpus list only the extensions the CPU has.
import { PLIC_NUM_SOURCES } from '../devices/plic';
import { Irq } from '../cpu/riscv/cpu';
import { Prop, node, encodeFdt, type FdtNode } from './fdt';
import { TIMEBASE_HZ, VIRTIO_COUNT, VirtIrq, VirtMemmap } from './memory-map';

export interface VirtFdtConfig {
  harts: number;
  ramSize: number;
  /** riscv,isa for every hart, e.g. "rv64imafdc_zicsr_zifencei_zihintpause_sstc". */
  isa: string;
  /** "riscv,sv39" | "riscv,sv48" */
  mmuType: string;
  bootargs?: string;
  initrd?: { start: number; end: number };
  /** /chosen/rng-seed (QEMU passes 32 random bytes; -icount runs pass fixed ones). */
  rngSeed?: Uint8Array;
}

/** QEMU virt's 16550 input clock (3.6864 MHz), which Linux reads to compute divisors. */
const UART_CLOCK_HZ = 3686400;

const hex = (v: number) => v.toString(16);
/** A 64-bit address or size as two cells (#address-cells = #size-cells = 2). */
const cells64 = (v: number) => [Math.floor(v / 0x1_0000_0000), v % 0x1_0000_0000];
const reg = (base: number, size: number) => Prop.u32('reg', ...cells64(base), ...cells64(size));

export function virtFdtTree(cfg: VirtFdtConfig): FdtNode {
  // phandles: 1 PLIC, 2 test syscon, then cpu and intc handles per hart.
  const PLIC = 1;
  const TEST = 2;
  const cpuPhandle = (h: number) => 3 + 2 * h;
  const intcPhandle = (h: number) => 4 + 2 * h;
  const harts = Array.from({ length: cfg.harts }, (_, h) => h);

  const cpus = node(
    'cpus',
    [Prop.u32('#address-cells', 1), Prop.u32('#size-cells', 0), Prop.u32('timebase-frequency', TIMEBASE_HZ)],
    [
      ...harts.map((h) =>
        node(
          `cpu@${h}`,
          [
            Prop.u32('phandle', cpuPhandle(h)),
            Prop.str('device_type', 'cpu'),
            Prop.u32('reg', h),
            Prop.str('status', 'okay'),
            Prop.str('compatible', 'riscv'),
            Prop.str('riscv,isa', cfg.isa),
            Prop.str('mmu-type', cfg.mmuType),
          ],
          [
            node('interrupt-controller', [
              Prop.u32('#interrupt-cells', 1),
              Prop.empty('interrupt-controller'),
              Prop.str('compatible', 'riscv,cpu-intc'),
              Prop.u32('phandle', intcPhandle(h)),
            ]),
          ],
        ),
      ),
      node('cpu-map', [], [node('cluster0', [], harts.map((h) => node(`core${h}`, [Prop.u32('cpu', cpuPhandle(h))])))]),
    ],
  );

  const { clint, plic, uart0, rtc, test, virtio, dram } = VirtMemmap;
  const soc = node(
    'soc',
    [Prop.u32('#address-cells', 2), Prop.u32('#size-cells', 2), Prop.str('compatible', 'simple-bus'), Prop.empty('ranges')],
    [
      node(`clint@${hex(clint.base)}`, [
        Prop.u32('interrupts-extended', ...harts.flatMap((h) => [intcPhandle(h), Irq.MachineSoftware, intcPhandle(h), Irq.MachineTimer])),
        reg(clint.base, clint.size),
        Prop.strs('compatible', 'sifive,clint0', 'riscv,clint0'),
      ]),
      node(`plic@${hex(plic.base)}`, [
        Prop.u32('phandle', PLIC),
        Prop.u32('riscv,ndev', PLIC_NUM_SOURCES),
        reg(plic.base, plic.size),
        // Context order: M then S per hart (hart-config "MS").
        Prop.u32('interrupts-extended', ...harts.flatMap((h) => [intcPhandle(h), Irq.MachineExternal, intcPhandle(h), Irq.SupervisorExternal])),
        Prop.empty('interrupt-controller'),
        Prop.strs('compatible', 'sifive,plic-1.0.0', 'riscv,plic0'),
        Prop.u32('#address-cells', 0),
        Prop.u32('#interrupt-cells', 1),
      ]),
      ...Array.from({ length: VIRTIO_COUNT }, (_, i) => {
        const base = virtio.base + i * virtio.size;
        return node(`virtio_mmio@${hex(base)}`, [
          Prop.u32('interrupts', VirtIrq.virtio + i),
          Prop.u32('interrupt-parent', PLIC),
          reg(base, virtio.size),
          Prop.str('compatible', 'virtio,mmio'),
        ]);
      }),
      node(`test@${hex(test.base)}`, [Prop.u32('phandle', TEST), reg(test.base, test.size), Prop.strs('compatible', 'sifive,test1', 'sifive,test0', 'syscon')]),
      node(`serial@${hex(uart0.base)}`, [
        Prop.u32('interrupts', VirtIrq.uart0),
        Prop.u32('interrupt-parent', PLIC),
        Prop.u32('clock-frequency', UART_CLOCK_HZ),
        reg(uart0.base, uart0.size),
        Prop.str('compatible', 'ns16550a'),
      ]),
      node(`rtc@${hex(rtc.base)}`, [
        Prop.u32('interrupts', VirtIrq.rtc),
        Prop.u32('interrupt-parent', PLIC),
        reg(rtc.base, rtc.size),
        Prop.str('compatible', 'google,goldfish-rtc'),
      ]),
    ],
  );

  const chosen: FdtNode = node('chosen', [Prop.str('stdout-path', `/soc/serial@${hex(uart0.base)}`)]);
  if (cfg.bootargs !== undefined) chosen.props.push(Prop.str('bootargs', cfg.bootargs));
  if (cfg.initrd) {
    // QEMU 7.2 writes 32-bit cells; Linux reads either width, so use 64 bits only when needed.
    const { start, end } = cfg.initrd;
    const wide = end > 0xffff_ffff;
    chosen.props.push(wide ? Prop.u64('linux,initrd-start', start) : Prop.u32('linux,initrd-start', start));
    chosen.props.push(wide ? Prop.u64('linux,initrd-end', end) : Prop.u32('linux,initrd-end', end));
  }
  if (cfg.rngSeed) chosen.props.push(Prop.bytes('rng-seed', cfg.rngSeed));

  return node(
    '',
    [Prop.u32('#address-cells', 2), Prop.u32('#size-cells', 2), Prop.str('compatible', 'riscv-virtio'), Prop.str('model', 'riscv-virtio,qemu')],
    [
      chosen,
      node(`memory@${hex(dram.base)}`, [Prop.str('device_type', 'memory'), reg(dram.base, cfg.ramSize)]),
      cpus,
      soc,
      node('poweroff', [Prop.u32('value', 0x5555), Prop.u32('offset', 0), Prop.u32('regmap', TEST), Prop.str('compatible', 'syscon-poweroff')]),
      node('reboot', [Prop.u32('value', 0x7777), Prop.u32('offset', 0), Prop.u32('regmap', TEST), Prop.str('compatible', 'syscon-reboot')]),
    ],
  );
}

export function virtFdt(cfg: VirtFdtConfig): Uint8Array {
  return encodeFdt(virtFdtTree(cfg));
}
