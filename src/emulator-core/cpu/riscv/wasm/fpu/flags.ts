// Accrued exception flags and rounding modes, as the RISC-V fcsr encodes them (unprivileged
// spec, "Floating-Point Control and Status Register"). Every operation ORs its exceptions into
// `fflags`; the CPU copies them into fcsr.fflags after the instruction.

export let fflags: u32 = 0;

export const FLAG_NV: u32 = 0x10; // invalid operation
export const FLAG_DZ: u32 = 0x08; // divide by zero
export const FLAG_OF: u32 = 0x04; // overflow
export const FLAG_UF: u32 = 0x02; // underflow (tiny after rounding, and inexact)
export const FLAG_NX: u32 = 0x01; // inexact

export const RM_RNE: u32 = 0; // to nearest, ties to even
export const RM_RTZ: u32 = 1; // toward zero
export const RM_RDN: u32 = 2; // toward -infinity
export const RM_RUP: u32 = 3; // toward +infinity
export const RM_RMM: u32 = 4; // to nearest, ties away from zero

@inline export function raise(flags: u32): void {
  fflags |= flags;
}

export function clearFlags(): void {
  fflags = 0;
}

/** The sign of an exact zero sum of operands with opposite signs (IEEE 754-2019 6.3): -0 only in RDN. */
@inline export function exactZeroSignIsNegative(rm: u32): bool {
  return rm == RM_RDN;
}
