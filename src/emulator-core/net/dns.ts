// The DNS server at the user network's DNS address (10.0.2.3). slirp relays the guest's query to
// the host's nameserver; we do that for every query type except A and AAAA, which we answer from
// the host's own resolver (getaddrinfo via node:dns lookup), so the guest also sees /etc/hosts and
// whatever NSS gives the host user. Message format: RFC 1035 section 4.
import { get16, put16 } from './bytes';

export const DNS_PORT = 53;
const HEADER_LEN = 12;
export const DnsType = { A: 1, AAAA: 28 } as const;
const CLASS_IN = 1;
export const Rcode = { NoError: 0, FormErr: 1, ServFail: 2, NxDomain: 3, NotImp: 4 } as const;
/** Answers carry this TTL: getaddrinfo does not report one, and a short TTL keeps guests current. */
const ANSWER_TTL = 60;
/** Without EDNS a UDP answer is at most 512 bytes (RFC 1035 4.2.1): 16 A records fit easily. */
const MAX_ANSWERS = 16;

export interface DnsQuery {
  id: number;
  /** Lower-case name without the trailing dot ('' for the root). */
  name: string;
  type: number;
  qclass: number;
  /** Offset just past the question: header + question are echoed in the answer. */
  questionEnd: number;
  /** The raw query, for relaying. */
  raw: Uint8Array;
}

export type DnsParse = DnsQuery | { error: number; id: number } | undefined;

/**
 * Parses a query. undefined: not worth an answer (too short, or a response); {error}: answer
 * with that rcode (FORMERR for a bad question, NOTIMP for opcodes other than QUERY).
 */
export function parseDnsQuery(data: Uint8Array): DnsParse {
  if (data.length < HEADER_LEN) return undefined;
  const id = get16(data, 0);
  const flags = get16(data, 2);
  if (flags & 0x8000) return undefined; // QR set: a response, never answer it (no reflection loops)
  if (((flags >>> 11) & 0xf) !== 0) return { error: Rcode.NotImp, id };
  if (get16(data, 4) !== 1) return { error: Rcode.FormErr, id };
  // The question name: labels only (a compression pointer cannot occur before any name to point
  // to, so one here is malformed), at most 255 bytes (RFC 1035 3.1).
  let i = HEADER_LEN;
  const labels: string[] = [];
  let total = 0;
  for (;;) {
    if (i >= data.length) return { error: Rcode.FormErr, id };
    const len = data[i]!;
    if (len === 0) {
      i++;
      break;
    }
    if (len > 63 || i + 1 + len > data.length) return { error: Rcode.FormErr, id };
    total += len + 1;
    if (total > 255) return { error: Rcode.FormErr, id };
    labels.push(String.fromCharCode(...data.subarray(i + 1, i + 1 + len)));
    i += 1 + len;
  }
  if (i + 4 > data.length) return { error: Rcode.FormErr, id };
  return {
    id,
    name: labels.join('.').toLowerCase(),
    type: get16(data, i),
    qclass: get16(data, i + 2),
    questionEnd: i + 4,
    raw: data,
  };
}

/** An answer to `q`: its header and question, then one record per rdata (4 or 16 bytes each). */
export function buildDnsAnswer(q: { raw: Uint8Array; questionEnd: number }, rcode: number, type = 0, rdatas: Uint8Array[] = []): Uint8Array {
  const answers = rdatas.slice(0, MAX_ANSWERS);
  const size = q.questionEnd + answers.reduce((n, r) => n + 12 + r.length, 0);
  const out = new Uint8Array(size);
  out.set(q.raw.subarray(0, q.questionEnd));
  const qflags = get16(q.raw, 2);
  // QR=1, opcode and RD echoed, RA=1 (we recurse on the guest's behalf), rcode.
  put16(out, 2, 0x8000 | (qflags & 0x7900) | 0x0080 | (rcode & 0xf));
  put16(out, 6, answers.length);
  put16(out, 8, 0);
  put16(out, 10, 0); // the guest's EDNS OPT record is not echoed: we answer plain DNS
  let o = q.questionEnd;
  for (const r of answers) {
    put16(out, o, 0xc000 | HEADER_LEN); // the name: a pointer to the question's
    put16(out, o + 2, type);
    put16(out, o + 4, CLASS_IN);
    put16(out, o + 6, 0);
    put16(out, o + 8, ANSWER_TTL);
    put16(out, o + 10, r.length);
    out.set(r, o + 12);
    o += 12 + r.length;
  }
  return out;
}

/** Header-only answer for a query we could not parse past its ID. */
export function buildDnsError(id: number, rcode: number): Uint8Array {
  const out = new Uint8Array(HEADER_LEN);
  put16(out, 0, id);
  put16(out, 2, 0x8080 | rcode);
  return out;
}

/** What the DNS server asks of the host. */
export interface HostResolver {
  /** getaddrinfo for `name`: its addresses, or exists=false for a name the host does not know. */
  lookup(name: string): Promise<{ exists: boolean; v4: string[]; v6: string[] }>;
  /** Relays a raw query to the host's nameserver and returns its raw answer. */
  relay(query: Uint8Array): Promise<Uint8Array>;
}

/** Limits: getaddrinfo runs on libuv's 4-thread pool, which block I/O also needs. */
export const DNS_MAX_LOOKUPS = 2;
export const DNS_MAX_PENDING = 32;
export const DNS_TIMEOUT_MS = 5000;

const HOSTNAME = /^[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*$/;

/** Answers queries with bounded concurrency; a query over the limit gets no answer (the guest retries). */
export class DnsServer {
  private pending = 0;
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly resolver: HostResolver) {}

  /**
   * The answer to one query datagram, or undefined when none is due. `onLimit`/`onFailure`
   * report drops and SERVFAILs to the stack's counters.
   */
  async answer(data: Uint8Array, onLimit: () => void, onFailure: () => void): Promise<Uint8Array | undefined> {
    const q = parseDnsQuery(data);
    if (q === undefined) return undefined;
    if ('error' in q) return buildDnsError(q.id, q.error);
    if (this.pending >= DNS_MAX_PENDING) {
      onLimit();
      return undefined;
    }
    // `pending` counts work until it really ends, not until it times out, so lookups that hang
    // in the resolver still count against the limit.
    this.pending++;
    const work = this.resolve(q).finally(() => this.pending--);
    try {
      return await withTimeout(work, DNS_TIMEOUT_MS);
    } catch {
      onFailure();
      return buildDnsAnswer(q, Rcode.ServFail);
    }
  }

  private async resolve(q: DnsQuery): Promise<Uint8Array> {
    const addressQuery = q.qclass === CLASS_IN && (q.type === DnsType.A || q.type === DnsType.AAAA);
    if (!addressQuery) {
      const r = await this.resolver.relay(q.raw);
      if (r.length < HEADER_LEN || get16(r, 0) !== q.id || !(r[2]! & 0x80)) throw new Error('bad relayed answer');
      return r;
    }
    if (!HOSTNAME.test(q.name)) return buildDnsAnswer(q, Rcode.NxDomain);
    const r = await this.limited(() => this.resolver.lookup(q.name));
    if (!r.exists) return buildDnsAnswer(q, Rcode.NxDomain);
    if (q.type === DnsType.A) return buildDnsAnswer(q, Rcode.NoError, DnsType.A, r.v4.map(v4Bytes));
    // IPv6 is not routed to the guest (docs/net.md): AAAA answers are empty (NODATA), so the
    // guest's resolver falls back to A at once instead of trying addresses it cannot reach.
    return buildDnsAnswer(q, Rcode.NoError);
  }

  private async limited<T>(fn: () => Promise<T>): Promise<T> {
    while (this.running >= DNS_MAX_LOOKUPS) await new Promise<void>((r) => this.waiting.push(r));
    this.running++;
    try {
      return await fn();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}

function v4Bytes(a: string): Uint8Array {
  return new Uint8Array(a.split('.').map(Number));
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('DNS timeout')), ms);
    t.unref();
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
