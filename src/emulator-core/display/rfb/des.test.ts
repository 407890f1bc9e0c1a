import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { desEncryptBlock, vncAuthResponse } from './des';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('DES', () => {
  it('matches published test vectors', () => {
    // The classic "Now is t" example and a FIPS 81 / NBS validation pair.
    expect(toHex(desEncryptBlock(hex('0123456789abcdef'), new TextEncoder().encode('Now is t')))).toBe('3fa40e8a984d4815');
    expect(toHex(desEncryptBlock(hex('133457799bbcdff1'), hex('0123456789abcdef')))).toBe('85e813540f0ab405');
  });

  it('answers a VNC challenge with the bit-reversed password key', () => {
    const challenge = hex('00112233445566778899aabbccddeeff');
    const r = vncAuthResponse('secret', challenge);
    // Independent check: same computation with the key bits reversed by hand.
    const key = hex('cea6c64ea62e0000'); // 's','e','c','r','e','t' each bit-reversed, zero padded
    expect(toHex(r)).toBe(toHex(desEncryptBlock(key, challenge.subarray(0, 8))) + toHex(desEncryptBlock(key, challenge.subarray(8))));
    // Only the first 8 characters count.
    expect(toHex(vncAuthResponse('12345678extra', challenge))).toBe(toHex(vncAuthResponse('12345678', challenge)));
  });

  it.skipIf(!existsSync('/usr/bin/tightvncpasswd'))('agrees with vncpasswd, which DES-encrypts the password under a fixed VNC key', () => {
    const out = execFileSync('tightvncpasswd', ['-f'], { input: 'secret\n' });
    // vncpasswd's d3des takes key bits low-first, so in standard DES the fixed key is bit-reversed.
    const rev = (b: number) => parseInt(b.toString(2).padStart(8, '0').split('').reverse().join(''), 2);
    const key = Uint8Array.from([23, 82, 107, 6, 35, 78, 88, 7].map(rev));
    const block = new Uint8Array(8);
    block.set(new TextEncoder().encode('secret'));
    expect(toHex(desEncryptBlock(key, block))).toBe(toHex(out));
  });
});
