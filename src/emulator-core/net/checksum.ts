// The Internet checksum (RFC 1071): the 16-bit ones' complement of the ones' complement sum.
// Sums are kept as plain numbers and folded once at the end; a JavaScript number holds the sum
// of a 64 KiB datagram's words without overflow.

/** Adds the bytes [start, end) as big-endian 16-bit words to `sum` (an odd tail is padded with 0). */
export function sumWords(b: Uint8Array, start: number, end: number, sum = 0): number {
  let i = start;
  const even = end - ((end - start) & 1);
  for (; i < even; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (i < end) sum += b[i]! << 8;
  return sum;
}

/** Folds a running sum to 16 bits and complements it: the value to store in a header. */
export function finishChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

export function internetChecksum(b: Uint8Array, start: number, end: number, initial = 0): number {
  return finishChecksum(sumWords(b, start, end, initial));
}

/** The IPv4 pseudo-header sum that TCP and UDP checksums cover (RFC 793 3.1, RFC 768). */
export function pseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}
