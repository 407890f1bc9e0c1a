// Splits a QMP byte stream into JSON values and parses them, as QEMU's json-streamer and
// json-parser do: values may span lines or share one; strings may be single-quoted (a QEMU
// extension that scripts use); a malformed value yields a parse error and the stream carries on
// with what follows it, so one bad line never kills the connection.

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export type ReadResult = { ok: true; value: JsonValue } | { ok: false; error: string };

/** Bytes a single message may hold before it is refused (QEMU caps tokens and nesting too). */
const MAX_MESSAGE_CHARS = 1 << 20;
const MAX_DEPTH = 1024;

export class JsonReader {
  private buffer = '';

  /** Feeds text; returns every complete value (or error) it completed. */
  push(text: string): ReadResult[] {
    this.buffer += text;
    const results: ReadResult[] = [];
    for (;;) {
      const end = findValueEnd(this.buffer);
      if (end === 'incomplete') {
        if (this.buffer.length > MAX_MESSAGE_CHARS) {
          this.buffer = '';
          results.push({ ok: false, error: 'JSON parse error, message too large' });
        }
        return results;
      }
      const chunk = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end);
      if (chunk.trim() === '') continue;
      results.push(parseQmpJson(chunk));
    }
  }
}

/**
 * Index just past the first complete top-level value, 'incomplete' if more input is needed.
 * Only structure is tracked here (brackets, strings); parseQmpJson judges the content.
 */
function findValueEnd(s: string): number | 'incomplete' {
  let i = 0;
  while (i < s.length && /\s/.test(s[i]!)) i++;
  if (i === s.length) return s.length === 0 ? 'incomplete' : s.length;
  let depth = 0;
  let quote: string | null = null;
  for (; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth <= 0) return i + 1;
    } else if (depth === 0 && c === '\n') return i + 1; // a bare scalar or junk ends at the line
  }
  return 'incomplete';
}

export function parseQmpJson(text: string): ReadResult {
  const p = new Parser(text);
  try {
    p.skipWs();
    const value = p.value(0);
    p.skipWs();
    if (!p.atEnd()) throw new ParseError(`unexpected '${p.peek()}'`);
    return { ok: true, value };
  } catch (e) {
    if (e instanceof ParseError) return { ok: false, error: `JSON parse error, ${e.message}` };
    throw e;
  }
}

class ParseError extends Error {}

class Parser {
  private pos = 0;
  constructor(private readonly s: string) {}

  atEnd(): boolean {
    return this.pos >= this.s.length;
  }
  peek(): string {
    return this.s[this.pos] ?? '';
  }
  skipWs(): void {
    while (this.pos < this.s.length && /\s/.test(this.s[this.pos]!)) this.pos++;
  }

  value(depth: number): JsonValue {
    if (depth > MAX_DEPTH) throw new ParseError('nesting too deep');
    const c = this.peek();
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"' || c === "'") return this.string();
    if (c === '-' || (c >= '0' && c <= '9')) return this.number();
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.s.slice(this.pos))?.[0];
    if (word === 'true' || word === 'false' || word === 'null') {
      this.pos += word.length;
      return word === 'null' ? null : word === 'true';
    }
    if (word) throw new ParseError(`invalid keyword '${word}'`);
    if (this.atEnd()) throw new ParseError('premature end of input');
    throw new ParseError(`stray '${c}'`);
  }

  object(depth: number): { [key: string]: JsonValue } {
    this.pos++; // {
    const out: { [key: string]: JsonValue } = Object.create(null);
    this.skipWs();
    if (this.peek() === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWs();
      const q = this.peek();
      if (q !== '"' && q !== "'") {
        // The lexer judges a bare word before the parser sees a non-string key (QEMU's order).
        this.value(depth + 1);
        throw new ParseError('key is not a string in object');
      }
      const key = this.string();
      this.skipWs();
      if (this.peek() !== ':') throw new ParseError("missing ':' in object pair");
      this.pos++;
      this.skipWs();
      if (key in out) throw new ParseError(`duplicate key '${key}'`);
      out[key] = this.value(depth + 1);
      this.skipWs();
      const c = this.peek();
      this.pos++;
      if (c === '}') return out;
      if (c !== ',') throw new ParseError('expected separator in dict');
    }
  }

  array(depth: number): JsonValue[] {
    this.pos++; // [
    const out: JsonValue[] = [];
    this.skipWs();
    if (this.peek() === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWs();
      out.push(this.value(depth + 1));
      this.skipWs();
      const c = this.peek();
      this.pos++;
      if (c === ']') return out;
      if (c !== ',') throw new ParseError('expected separator in list');
    }
  }

  string(): string {
    const quote = this.s[this.pos++]!;
    let out = '';
    for (;;) {
      if (this.atEnd()) throw new ParseError('premature end of input');
      const c = this.s[this.pos++]!;
      if (c === quote) return out;
      if (c.charCodeAt(0) < 0x20) throw new ParseError('control character in string');
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.s[this.pos++];
      switch (e) {
        case '"': case "'": case '\\': case '/': out += e; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          const hex = this.s.slice(this.pos, this.pos + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new ParseError('invalid \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          this.pos += 4;
          break;
        }
        default:
          throw new ParseError(`invalid escape '\\${e ?? ''}'`);
      }
    }
  }

  number(): number {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.s.slice(this.pos));
    if (!m) throw new ParseError('invalid number');
    this.pos += m[0].length;
    return Number(m[0]);
  }
}
