import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PcapWriter } from './pcap';

describe('pcap capture', () => {
  it('writes a libpcap file: global header, then one record per frame', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'viv-pcap-'));
    const file = path.join(dir, 'x.pcap');
    const w = new PcapWriter(file);
    w.record(Uint8Array.from([1, 2, 3]), 1_700_000_000_250);
    w.record(new Uint8Array(60), 1_700_000_001_000);
    w.close();
    const b = readFileSync(file);
    expect(b.readUInt32LE(0)).toBe(0xa1b2c3d4);
    expect(b.readUInt16LE(4)).toBe(2);
    expect(b.readUInt32LE(20)).toBe(1); // Ethernet
    expect(b.readUInt32LE(24)).toBe(1_700_000_000);
    expect(b.readUInt32LE(28)).toBe(250_000);
    expect(b.readUInt32LE(32)).toBe(3);
    expect(Array.from(b.subarray(40, 43))).toEqual([1, 2, 3]);
    expect(b.length).toBe(24 + 16 + 3 + 16 + 60);
    rmSync(dir, { recursive: true });
  });
});
