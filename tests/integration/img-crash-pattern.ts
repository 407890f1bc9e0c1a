// The content the crash writer puts in a sector: 16 bytes naming the operation and the sector,
// repeated, so a sector read back tells which operation last wrote it.
export function sectorPattern(op: number, sector: number): Uint8Array {
  const unit = new Uint8Array(16);
  const v = new DataView(unit.buffer);
  v.setUint32(0, 0x56495643); // "VIVC"
  v.setUint32(4, op >>> 0);
  v.setFloat64(8, sector);
  const out = new Uint8Array(512);
  for (let i = 0; i < 512; i += 16) out.set(unit, i);
  return out;
}

/** The operation that wrote `sector` if `bytes` is its pattern; 0 for all zeros; -1 for anything else. */
export function decodeSector(bytes: Uint8Array, sector: number): number {
  const v = new DataView(bytes.buffer, bytes.byteOffset, 512);
  if (v.getUint32(0) !== 0x56495643) return bytes.every((b) => b === 0) ? 0 : -1;
  const op = v.getUint32(4);
  if (v.getFloat64(8) !== sector) return -1;
  const expect = sectorPattern(op, sector);
  for (let i = 0; i < 512; i++) if (bytes[i] !== expect[i]) return -1;
  return op;
}
