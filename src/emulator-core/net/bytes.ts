// Big-endian field access and address formatting shared by every protocol file. Network byte
// order is big-endian (RFC 1700); IPv4 addresses are carried as unsigned 32-bit numbers so that
// comparisons and subnet masks are plain integer operations.

export function get16(b: Uint8Array, off: number): number {
  return (b[off]! << 8) | b[off + 1]!;
}

export function get32(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

export function put16(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 8) & 0xff;
  b[off + 1] = v & 0xff;
}

export function put32(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 24) & 0xff;
  b[off + 1] = (v >>> 16) & 0xff;
  b[off + 2] = (v >>> 8) & 0xff;
  b[off + 3] = v & 0xff;
}

/** An IPv4 address as an unsigned 32-bit number. */
export type Ipv4 = number;

export function ipv4ToString(a: Ipv4): string {
  return `${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;
}

/** Parses dotted-quad notation strictly (four decimal octets); undefined if it is not one. */
export function parseIpv4(s: string): Ipv4 | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = v * 256 + n;
  }
  return v >>> 0;
}

export const IPV4_BROADCAST: Ipv4 = 0xffffffff;

export function isMulticast(a: Ipv4): boolean {
  return a >>> 28 === 0xe;
}

export function isLoopback(a: Ipv4): boolean {
  return a >>> 24 === 127;
}

/** A MAC address: 6 bytes. */
export type Mac = Uint8Array;

export const MAC_BROADCAST: Mac = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

export function macToString(m: Mac): string {
  return Array.from(m, (x) => x.toString(16).padStart(2, '0')).join(':');
}

export function parseMac(s: string): Mac | undefined {
  const parts = s.split(':');
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) return undefined;
  return new Uint8Array(parts.map((p) => parseInt(p, 16)));
}

export function macEquals(a: Uint8Array, aOff: number, b: Mac): boolean {
  for (let i = 0; i < 6; i++) if (a[aOff + i] !== b[i]) return false;
  return true;
}

/**
 * The MAC the stack answers with for one of its virtual addresses: 52:55 followed by the IPv4
 * address, as QEMU's slirp does (so 10.0.2.2 is 52:55:0a:00:02:02), which keeps captures of our
 * traffic and QEMU's comparable.
 */
export function virtualMac(addr: Ipv4): Mac {
  return new Uint8Array([0x52, 0x55, addr >>> 24, (addr >>> 16) & 0xff, (addr >>> 8) & 0xff, addr & 0xff]);
}
