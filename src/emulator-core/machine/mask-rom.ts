// The mask ROM at 0x1000: QEMU virt's reset vector (hw/riscv/boot.c, riscv_setup_rom_reset_vec)
// followed by OpenSBI's fw_dynamic_info block (include/sbi/fw_dynamic.h). Every hart starts here
// in M-mode with a real firmware (-bios FILE or none) and leaves with
//   a0 = mhartid, a1 = the FDT's address, a2 = &fw_dynamic_info, pc = the start address,
// which is what OpenSBI's fw_dynamic expects, so Debian's fw_dynamic.bin boots unchanged.
import { asm, CSR_MHARTID, Reg } from './rv-encode';

/** "OSBI" */
export const FW_DYNAMIC_INFO_MAGIC = 0x4942534f;
/** Version 2 adds boot_hart (OpenSBI 0.9+). */
export const FW_DYNAMIC_INFO_VERSION = 2;
export const FW_DYNAMIC_INFO_NEXT_MODE_S = 1;

export interface MaskRomConfig {
  /** Where the reset vector jumps: the firmware (or a bare-metal program / kernel with -bios none). */
  startAddr: number;
  fdtAddr: number;
  /** fw_dynamic_info.next_addr: where OpenSBI jumps in S-mode (the kernel), 0 if none. */
  nextAddr: number;
  /** fw_dynamic_info.boot_hart: the hart that boots; -1 lets OpenSBI pick (a "lottery"). */
  bootHart: number;
}

/** Byte offsets inside the ROM image. */
const START_ADDR_OFFSET = 24;
const FDT_ADDR_OFFSET = 32;
const FW_DYN_OFFSET = 40;

export function maskRomImage(cfg: MaskRomConfig): Uint8Array {
  const code = [
    asm.auipc(Reg.t0, 0), //                         t0 = this ROM's address (0x1000)
    asm.addi(Reg.a2, Reg.t0, FW_DYN_OFFSET), //       a2 = &fw_dynamic_info
    asm.csrrs(Reg.a0, CSR_MHARTID, Reg.zero), //      a0 = mhartid
    asm.ld(Reg.a1, Reg.t0, FDT_ADDR_OFFSET), //       a1 = FDT address
    asm.ld(Reg.t0, Reg.t0, START_ADDR_OFFSET), //     t0 = start address
    asm.jalr(Reg.zero, Reg.t0, 0), //                 jump, never to return
  ];
  const rom = new Uint8Array(FW_DYN_OFFSET + 6 * 8);
  const dv = new DataView(rom.buffer);
  code.forEach((w, i) => dv.setUint32(4 * i, w, true));
  const u64 = (at: number, v: number | bigint) => dv.setBigUint64(at, BigInt.asUintN(64, BigInt(v)), true);
  u64(START_ADDR_OFFSET, cfg.startAddr);
  u64(FDT_ADDR_OFFSET, cfg.fdtAddr);
  // struct fw_dynamic_info { magic, version, next_addr, next_mode, options, boot_hart } (all XLEN)
  u64(FW_DYN_OFFSET, FW_DYNAMIC_INFO_MAGIC);
  u64(FW_DYN_OFFSET + 8, FW_DYNAMIC_INFO_VERSION);
  u64(FW_DYN_OFFSET + 16, cfg.nextAddr);
  u64(FW_DYN_OFFSET + 24, FW_DYNAMIC_INFO_NEXT_MODE_S);
  u64(FW_DYN_OFFSET + 32, 0);
  u64(FW_DYN_OFFSET + 40, cfg.bootHart);
  return rom;
}
