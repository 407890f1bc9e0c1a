// Physical memory protection (privileged ISA 3.7): 16 entries, granularity 4 bytes (G = 0, as
// QEMU 7.2), address matching OFF/TOR/NA4/NAPOT, the L bit locking an entry and applying it to
// M-mode. The TLB caches a page only when one entry (or none) decides the whole page
// (pmpPageUniform), so a hit never needs a PMP check.
import { MEM_STATE, ST_PMPADDR, ST_PMPCFG, ST_PMP_LOCKED, st64, setSt64 } from './layout';
import { PMP_ENTRIES, PRV_M } from './bits';

const PMP_R: u32 = 1;
const PMP_W: u32 = 2;
const PMP_X: u32 = 4;
const PMP_A_SHIFT: u32 = 3;
const PMP_L: u32 = 0x80;
const A_OFF: u32 = 0;
const A_TOR: u32 = 1;
const A_NA4: u32 = 2;
/** pmpaddr holds physical address bits 55:2. */
export const PMPADDR_MASK: u64 = (<u64>1 << 54) - 1;

@inline function cfg(i: u32): u32 {
  return <u32>load<u8>(MEM_STATE + ST_PMPCFG + i);
}
@inline function addr(i: u32): u64 {
  return load<u64>(MEM_STATE + ST_PMPADDR + (i << 3));
}

/** The permission bits an access kind needs (ACC_READ 0, ACC_WRITE 1, ACC_EXEC 2). */
@inline export function pmpPerm(kind: u32): u32 {
  return kind == 0 ? PMP_R : kind == 1 ? PMP_W : PMP_X;
}

// The range of the entry being examined: [rangeLo, rangeHi) (rangeHi may be 2^64 - wrapped to 0
// only for a full-space NAPOT, which pmpaddr's 54 bits cannot express, so no wrap happens).
let rangeLo: u64 = 0;
let rangeHi: u64 = 0;

function entryRange(i: u32, a: u32): void {
  const v = addr(i);
  if (a == A_TOR) {
    rangeLo = i == 0 ? 0 : addr(i - 1) << 2;
    rangeHi = v << 2;
  } else if (a == A_NA4) {
    rangeLo = v << 2;
    rangeHi = rangeLo + 4;
  } else {
    // NAPOT: t trailing ones -> a 2^(t+3)-byte region
    const t = ctz(~v);
    const size: u64 = <u64>1 << (t + 3);
    rangeLo = (v << 2) & ~(size - 1);
    rangeHi = rangeLo + size;
  }
}

/**
 * Whether an access of [pa, pa+size) needing `perm` is allowed for privilege `prv`. The first
 * entry that overlaps the access decides; an access only partly inside it fails (spec 3.7.1.5).
 */
export function pmpAllows(pa: u64, size: u64, perm: u32, prv: u32): bool {
  if (prv == PRV_M && st64(ST_PMP_LOCKED) == 0) return true;
  const end = pa + size;
  for (let i: u32 = 0; i < PMP_ENTRIES; i++) {
    const c = cfg(i);
    const a = (c >> PMP_A_SHIFT) & 3;
    if (a == A_OFF) continue;
    entryRange(i, a);
    if (rangeHi <= rangeLo) continue; // an empty TOR range matches nothing
    if (end <= rangeLo || pa >= rangeHi) continue;
    if (pa < rangeLo || end > rangeHi) return false;
    if (prv == PRV_M && !(c & PMP_L)) return true;
    return (c & perm) == perm;
  }
  return prv == PRV_M;
}

/** Re-derives the "some entry is locked" flag after a pmpcfg write. */
export function pmpUpdateLocked(): void {
  let locked: u64 = 0;
  for (let i: u32 = 0; i < PMP_ENTRIES; i++) if (cfg(i) & PMP_L) locked = 1;
  setSt64(ST_PMP_LOCKED, locked);
}

/** pmpcfg0 (entries 0-7) or pmpcfg2 (8-15) as a 64-bit CSR. */
export function pmpcfgRead(reg: u32): u64 {
  return load<u64>(MEM_STATE + ST_PMPCFG + (reg << 2));
}

export function pmpcfgWrite(reg: u32, v: u64): void {
  for (let k: u32 = 0; k < 8; k++) {
    const i = (reg << 2) + k;
    if (cfg(i) & PMP_L) continue; // locked entries ignore writes until reset
    let c = <u32>((v >> (k * 8)) & 0xff);
    c &= ~0x60; // bits 6:5 are reserved (read as zero)
    store<u8>(MEM_STATE + ST_PMPCFG + i, <u8>c);
  }
  pmpUpdateLocked();
}

export function pmpaddrRead(i: u32): u64 {
  return addr(i);
}

export function pmpaddrWrite(i: u32, v: u64): void {
  if (cfg(i) & PMP_L) return;
  // A locked TOR entry also locks the address below it (spec 3.7.1.3).
  if (i + 1 < PMP_ENTRIES) {
    const n = cfg(i + 1);
    if (n & PMP_L && ((n >> PMP_A_SHIFT) & 3) == A_TOR) return;
  }
  store<u64>(MEM_STATE + ST_PMPADDR + (i << 3), v & PMPADDR_MASK);
}
