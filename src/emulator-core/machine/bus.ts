// The system bus: dispatches physical accesses that leave the CPU (everything but RAM and ROM) to
// the device whose window holds them. Windows may not overlap (a typed error at machine build
// time, as Firecracker's bus does); RAM and ROM are reserved on it so that nothing maps over them.
// A device without a declared state is refused (it could not be in a snapshot).
// An access that straddles a window's end or hits no device answers nothing, which the CPU turns
// into an access fault (as QEMU's riscv does for unassigned addresses).
import type { MmioPort } from '../cpu/riscv/cpu';
import { requireDeclaredState, type AccessSize, type MmioDevice } from '../devices/device';

export class BusOverlapError extends Error {
  override readonly name = 'BusOverlapError';
  constructor(
    readonly region: string,
    readonly other: string,
  ) {
    super(`bus: '${region}' overlaps '${other}'`);
  }
}

interface Mapping {
  name: string;
  base: number;
  end: number; // exclusive
  /** undefined for a reserved range (RAM, ROM), which the CPU serves itself. */
  device?: MmioDevice;
}

export class Bus implements MmioPort {
  private mappings: Mapping[] = [];
  private last: Mapping | undefined;

  /** Maps `device` at [base, base + device.size). */
  map(base: number, device: MmioDevice): void {
    requireDeclaredState(device.name, device);
    this.add({ name: device.name, base, end: base + device.size, device });
  }

  /** Reserves a range no device may take. */
  reserve(name: string, base: number, size: number): void {
    this.add({ name, base, end: base + size });
  }

  private add(m: Mapping): void {
    if (!Number.isSafeInteger(m.base) || !Number.isSafeInteger(m.end) || m.base < 0 || m.end <= m.base) {
      throw new RangeError(`bus: bad window for '${m.name}' at 0x${m.base.toString(16)}..0x${m.end.toString(16)}`);
    }
    for (const o of this.mappings) {
      if (m.base < o.end && o.base < m.end) throw new BusOverlapError(m.name, o.name);
    }
    this.mappings.push(m);
    this.mappings.sort((a, b) => a.base - b.base);
  }

  /** The mapping that wholly holds an access of `size` bytes at `paddr`, if a device answers there. */
  private find(paddr: number, size: number): Mapping | undefined {
    const last = this.last;
    if (last && paddr >= last.base && paddr + size <= last.end) return last;
    for (const m of this.mappings) {
      if (m.device && paddr >= m.base && paddr + size <= m.end) {
        this.last = m;
        return m;
      }
    }
    return undefined;
  }

  load(paddr: number, size: AccessSize): number | undefined {
    const m = this.find(paddr, size);
    return m ? m.device!.read(paddr - m.base, size) >>> 0 : undefined;
  }

  store(paddr: number, size: AccessSize, value: number): boolean {
    const m = this.find(paddr, size);
    if (!m) return false;
    m.device!.write(paddr - m.base, size, value >>> 0);
    return true;
  }

  /** Mapped devices in address order. */
  devices(): MmioDevice[] {
    return this.mappings.flatMap((m) => (m.device ? [m.device] : []));
  }
}
