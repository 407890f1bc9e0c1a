// Packet capture of a backend's traffic in the classic libpcap format (LINKTYPE_ETHERNET), what
// QEMU's `-object filter-dump` writes: readable by tcpdump and Wireshark. Frames are recorded in
// both directions as the NIC sees them.
import { closeSync, openSync, writeSync } from 'node:fs';
import type { FrameReceiver, NetBackend } from './backend';

const LINKTYPE_ETHERNET = 1;
/** Frames are cut to this many bytes in the capture (QEMU's filter-dump default maxlen). */
const SNAPLEN = 65536;

export class PcapWriter {
  private fd: number | undefined;

  constructor(path: string) {
    this.fd = openSync(path, 'w');
    const h = Buffer.alloc(24);
    h.writeUInt32LE(0xa1b2c3d4, 0); // magic: microsecond timestamps
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeUInt32LE(SNAPLEN, 16);
    h.writeUInt32LE(LINKTYPE_ETHERNET, 20);
    writeSync(this.fd, h);
  }

  record(frame: Uint8Array, nowMs = Date.now()): void {
    if (this.fd === undefined) return;
    const caplen = Math.min(frame.length, SNAPLEN);
    const r = Buffer.alloc(16);
    r.writeUInt32LE(Math.floor(nowMs / 1000), 0);
    r.writeUInt32LE(Math.floor((nowMs % 1000) * 1000), 4);
    r.writeUInt32LE(caplen, 8);
    r.writeUInt32LE(frame.length, 12);
    writeSync(this.fd, r);
    writeSync(this.fd, frame, 0, caplen);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** The same backend, with every frame in either direction also written to `pcap`. */
export function capture(backend: NetBackend, pcap: PcapWriter): NetBackend {
  return {
    get counters() {
      return backend.counters;
    },
    framesHaveValidChecksums: backend.framesHaveValidChecksums,
    acceptsTcpGso: backend.acceptsTcpGso,
    start: () => backend.start(),
    send(frame) {
      pcap.record(frame);
      backend.send(frame);
    },
    attach(receiver: FrameReceiver) {
      backend.attach((frame) => {
        const taken = receiver(frame);
        if (taken) pcap.record(frame);
        return taken;
      });
    },
    receiveReady: () => backend.receiveReady(),
    async close() {
      await backend.close();
      pcap.close();
    },
  };
}
