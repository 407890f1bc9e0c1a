// Reassembly of fragmented IPv4 datagrams (RFC 791 section 3.2, RFC 815), bounded so that a
// guest cannot make the host hold unbounded memory: limits on partial datagrams, on bytes held
// and on fragments per datagram, and a timeout. Any overlap (including an exact duplicate)
// discards the whole datagram, the policy RFC 5722 mandates for IPv6 and that avoids the
// "which copy wins" ambiguity attacks against IDSes rely on; a virtual link never duplicates.
import type { Ipv4 } from './bytes';
import type { NetCounters } from './counters';
import { IPV4_MAX_LEN, type Datagram, type Ipv4Header } from './ipv4';

export const REASSEMBLY_MAX_DATAGRAMS = 64;
export const REASSEMBLY_MAX_BYTES = 2 * 1024 * 1024;
/** A 64 KiB datagram at a 576-byte MTU needs 120 fragments; nothing legitimate needs more. */
export const REASSEMBLY_MAX_FRAGMENTS = 256;
/** Linux's ipfrag_time. */
export const REASSEMBLY_TIMEOUT_MS = 30_000;

interface Fragment {
  offset: number;
  data: Uint8Array;
}

interface Partial {
  first?: { header: Ipv4Header; quote: Uint8Array };
  fragments: Fragment[]; // sorted by offset, never overlapping
  /** Payload length, known once the fragment without MF arrived. */
  end?: number;
  bytes: number;
  started: number;
}

const keyOf = (src: Ipv4, dst: Ipv4, protocol: number, id: number): string => `${src}/${dst}/${protocol}/${id}`;

export class Reassembler {
  private readonly partials = new Map<string, Partial>();
  private bytes = 0;

  constructor(
    private readonly counters: NetCounters,
    private readonly now: () => number = Date.now,
  ) {}

  get pendingDatagrams(): number {
    return this.partials.size;
  }

  get pendingBytes(): number {
    return this.bytes;
  }

  /**
   * Adds one fragment (header and its payload bytes); returns the whole datagram when it is
   * complete, undefined while it is not or when the fragment was dropped (and counted).
   */
  add(header: Ipv4Header, payload: Uint8Array, quote: Uint8Array): Datagram | undefined {
    this.expire();
    const key = keyOf(header.src, header.dst, header.protocol, header.id);
    const offset = header.fragmentOffset;
    const len = payload.length;
    const last = !header.moreFragments;
    // Every fragment but the last carries a multiple of 8 bytes; none reaches past 65535.
    if ((!last && (len === 0 || len % 8 !== 0)) || offset + len + header.headerLength > IPV4_MAX_LEN) {
      this.counters.inc('fragInvalid');
      return undefined;
    }
    let p = this.partials.get(key);
    if (!p) {
      if (this.partials.size >= REASSEMBLY_MAX_DATAGRAMS) {
        this.counters.inc('fragLimit');
        return undefined;
      }
      p = { fragments: [], bytes: 0, started: this.now() };
      this.partials.set(key, p);
    }
    if (p.fragments.length >= REASSEMBLY_MAX_FRAGMENTS || this.bytes + len > REASSEMBLY_MAX_BYTES) {
      this.counters.inc('fragLimit');
      this.drop(key, p);
      return undefined;
    }
    if (last) {
      if (p.end !== undefined && p.end !== offset + len) return this.invalid(key, p);
      p.end = offset + len;
    }
    if (p.end !== undefined && offset + len > p.end) return this.invalid(key, p);
    // Find the insertion point and refuse any overlap with a neighbour.
    let i = p.fragments.length;
    while (i > 0 && p.fragments[i - 1]!.offset > offset) i--;
    const prev = p.fragments[i - 1];
    const next = p.fragments[i];
    if ((prev && prev.offset + prev.data.length > offset) || (next && offset + len > next.offset)) {
      this.counters.inc('fragOverlap');
      this.drop(key, p);
      return undefined;
    }
    if (prev && prev.offset === offset) {
      this.counters.inc('fragOverlap'); // a zero-length last fragment at an existing offset
      this.drop(key, p);
      return undefined;
    }
    p.fragments.splice(i, 0, { offset, data: payload.slice() });
    p.bytes += len;
    this.bytes += len;
    if (offset === 0) p.first = { header, quote: quote.slice() };
    return this.complete(key, p);
  }

  /** Drops partial datagrams older than the timeout. */
  expire(): void {
    const now = this.now();
    for (const [key, p] of this.partials) {
      if (now - p.started >= REASSEMBLY_TIMEOUT_MS) {
        this.counters.inc('fragTimeout');
        this.drop(key, p);
      }
    }
  }

  private complete(key: string, p: Partial): Datagram | undefined {
    if (p.end === undefined || !p.first || p.bytes !== p.end) return undefined;
    // Non-overlapping fragments whose lengths sum to the end offset cover it exactly.
    const payload = new Uint8Array(p.end);
    for (const f of p.fragments) payload.set(f.data, f.offset);
    this.drop(key, p);
    this.counters.inc('fragReassembled');
    const h = p.first.header;
    return {
      header: { ...h, totalLength: h.headerLength + p.end, moreFragments: false, fragmentOffset: 0 },
      payload,
      quote: p.first.quote,
    };
  }

  private invalid(key: string, p: Partial): undefined {
    this.counters.inc('fragInvalid');
    this.drop(key, p);
    return undefined;
  }

  private drop(key: string, p: Partial): void {
    this.bytes -= p.bytes;
    this.partials.delete(key);
  }
}
