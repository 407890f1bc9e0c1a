// Physical memory: RAM and ROM live in this module's linear memory; everything else leaves
// WebAssembly through the board's MmioPort (imported functions). Every guest physical address is
// range-checked here before it becomes a host address.
import { MEM_RAM, MEM_ROM } from './layout';
import { irqChanged, memMayHaveChanged, ramBase, ramSize, requestStop, romBase, romSize } from './globals';
import { noteWrite } from './codepages';
import { markDirty } from './dirtypages';
import { C_MMIO, count } from './counters';

/** value (u32) or -1 when nothing answers at paddr. paddr < 2^53 (exact as f64). */
@external('env', 'mmioLoad')
declare function mmioLoad(paddr: f64, size: i32): f64;
/** 1 if a device took the store, 0 if nothing answers at paddr. */
@external('env', 'mmioStore')
declare function mmioStore(paddr: f64, size: i32, value: u32): i32;

/** Addresses at or above this never reach the MmioPort (they do not fit a JS number exactly). */
const MMIO_LIMIT: u64 = <u64>1 << 53;

/** Host address of [pa, pa+size) inside RAM, or 0. */
@inline export function ramHost(pa: u64, size: u64): u32 {
  const o = pa - ramBase;
  return o < ramSize && size <= ramSize - o ? MEM_RAM + <u32>o : 0;
}

/** Whether host address h (size bytes) lies in guest RAM (the read TLB also caches ROM pages). */
@inline export function isRamHost(h: u32, size: u32): bool {
  return h >= MEM_RAM && <u64>(h - MEM_RAM) + size <= ramSize;
}

/** Host address of [pa, pa+size) inside ROM, or 0. */
@inline export function romHost(pa: u64, size: u64): u32 {
  const o = pa - romBase;
  return o < romSize && size <= romSize - o ? MEM_ROM + <u32>o : 0;
}

/** Host address of [pa, pa+size) inside RAM or ROM (readable memory), or 0. */
export function memHost(pa: u64, size: u64): u32 {
  const h = ramHost(pa, size);
  return h ? h : romHost(pa, size);
}

/** False after a physical access nothing answered (the caller raises the access fault). */
export let physOk: bool = true;

function mmioRead(pa: u64, size: i32): u64 {
  memMayHaveChanged();
  count(C_MMIO);
  if (pa >= MMIO_LIMIT - 8) {
    physOk = false;
    return 0;
  }
  const v = mmioLoad(<f64>pa, size);
  if (irqChanged) requestStop();
  if (v < 0) {
    physOk = false;
    return 0;
  }
  return <u64>(<u32>v);
}

function mmioWrite(pa: u64, size: i32, v: u32): void {
  memMayHaveChanged();
  count(C_MMIO);
  if (pa >= MMIO_LIMIT - 8 || !mmioStore(<f64>pa, size, v)) physOk = false;
  if (irqChanged) requestStop();
}

/** Reads size (1, 2, 4, 8) bytes at pa; physOk false if nothing answers. */
export function physRead(pa: u64, size: u32): u64 {
  physOk = true;
  const h = memHost(pa, size);
  if (h) {
    if (size == 8) return load<u64>(h);
    if (size == 4) return <u64>load<u32>(h);
    if (size == 2) return <u64>load<u16>(h);
    return <u64>load<u8>(h);
  }
  if (pa & (size - 1)) {
    // A misaligned device access is split into bytes, as QEMU's memory core does.
    let v: u64 = 0;
    for (let i: u32 = 0; i < size; i++) {
      v |= mmioRead(pa + i, 1) << (i * 8);
      if (!physOk) return 0;
    }
    return v;
  }
  if (size == 8) {
    // Devices take at most 4 bytes: low word first (QEMU's split for max_access_size 4).
    const lo = mmioRead(pa, 4);
    if (!physOk) return 0;
    const hi = mmioRead(pa + 4, 4);
    return physOk ? lo | (hi << 32) : 0;
  }
  return mmioRead(pa, <i32>size);
}

/** Writes size bytes at pa; writes to ROM are ignored (as QEMU's ROM regions); physOk false if nothing answers. */
export function physWrite(pa: u64, size: u32, v: u64): void {
  physOk = true;
  const h = ramHost(pa, size);
  if (h) {
    if (size == 8) store<u64>(h, v);
    else if (size == 4) store<u32>(h, <u32>v);
    else if (size == 2) store<u16>(h, <u16>v);
    else store<u8>(h, <u8>v);
    noteWrite(h);
    markDirty(h);
    return;
  }
  if (romHost(pa, size)) return;
  if (pa & (size - 1)) {
    for (let i: u32 = 0; i < size; i++) {
      mmioWrite(pa + i, 1, <u32>((v >> (i * 8)) & 0xff));
      if (!physOk) return;
    }
    return;
  }
  if (size == 8) {
    mmioWrite(pa, 4, <u32>v);
    if (physOk) mmioWrite(pa + 4, 4, <u32>(v >> 32));
    return;
  }
  mmioWrite(pa, <i32>size, <u32>v);
}
