// qemu-img's JSON output: QEMU serialises QAPI results through QDict, a 512-bucket hash table whose
// iteration order is by bucket (tdb hash of the key), newest entry first within a bucket; and its
// pretty printer indents by four spaces. We reproduce both, so `--output=json` is byte-identical.

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue | undefined };

const BUCKETS = 512;

/** QEMU's tdb_hash (qobject/qdict.c), modulo the bucket count. */
export function qdictBucket(key: string): number {
  const bytes = new TextEncoder().encode(key);
  let value = Math.imul(0x238f13af, bytes.length) >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    value = (value + ((bytes[i]! << ((i * 5) % 24)) >>> 0)) >>> 0;
  }
  return ((Math.imul(1103515243, value) + 12345) >>> 0) % BUCKETS;
}

/** Keys of an object in QDict iteration order (entries are inserted in object order). */
export function qdictOrder(keys: string[]): string[] {
  const indexed = keys.map((k, i) => ({ k, i, b: qdictBucket(k) }));
  indexed.sort((a, b) => a.b - b.b || b.i - a.i);
  return indexed.map((e) => e.k);
}

function quote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    switch (ch) {
      case '"': out += '\\"'; break;
      case '\\': out += '\\\\'; break;
      case '\b': out += '\\b'; break;
      case '\f': out += '\\f'; break;
      case '\n': out += '\\n'; break;
      case '\r': out += '\\r'; break;
      case '\t': out += '\\t'; break;
      default:
        if (cp < 0x20 || cp >= 0x7f) {
          if (cp > 0xffff) {
            const v = cp - 0x10000;
            out += `\\u${(0xd800 + (v >> 10)).toString(16).toUpperCase().padStart(4, '0')}`;
            out += `\\u${(0xdc00 + (v & 0x3ff)).toString(16).toUpperCase().padStart(4, '0')}`;
          } else out += `\\u${cp.toString(16).toUpperCase().padStart(4, '0')}`;
        } else out += ch;
    }
  }
  return out + '"';
}

/** Serialises like qobject_to_json_pretty (or compact with pretty = false). */
export function toQemuJson(value: JsonValue, pretty = true): string {
  const parts: string[] = [];
  const nl = (depth: number) => (pretty ? '\n' + ' '.repeat(4 * depth) : '');
  const write = (v: JsonValue, depth: number): void => {
    if (v === null) parts.push('null');
    else if (typeof v === 'string') parts.push(quote(v));
    else if (typeof v === 'number') parts.push(Number.isInteger(v) ? String(v) : String(v));
    else if (typeof v === 'boolean') parts.push(v ? 'true' : 'false');
    else if (Array.isArray(v)) {
      parts.push('[');
      v.forEach((item, i) => {
        parts.push(i ? ',' + (pretty ? nl(depth + 1) : ' ') : nl(depth + 1));
        write(item, depth + 1);
      });
      parts.push(nl(depth) + ']');
    } else {
      parts.push('{');
      const keys = qdictOrder(Object.keys(v).filter((k) => v[k] !== undefined));
      keys.forEach((k, i) => {
        parts.push(i ? ',' + (pretty ? nl(depth + 1) : ' ') : nl(depth + 1));
        parts.push(quote(k) + ': ');
        write(v[k]!, depth + 1);
      });
      parts.push(nl(depth) + '}');
    }
  };
  write(value, 0);
  return parts.join('');
}
