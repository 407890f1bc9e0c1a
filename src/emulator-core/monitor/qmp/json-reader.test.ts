import { describe, expect, it } from 'vitest';
import { JsonReader, parseQmpJson } from './json-reader';

describe('JsonReader', () => {
  it('splits values that share a line or span several', () => {
    const r = new JsonReader();
    expect(r.push('{"a": 1}{"b"')).toEqual([{ ok: true, value: { a: 1 } }]);
    expect(r.push(': [1,\n 2]}\n')).toEqual([{ ok: true, value: { b: [1, 2] } }]);
  });

  it('accepts single-quoted strings, as QEMU does', () => {
    expect(parseQmpJson("{'execute': 'stop'}")).toEqual({ ok: true, value: { execute: 'stop' } });
  });

  it('reports a malformed value with QEMU-style text and carries on', () => {
    const r = new JsonReader();
    const out = r.push('{bad}\n{"execute":"cont"}\n');
    expect(out[0]).toEqual({ ok: false, error: "JSON parse error, invalid keyword 'bad'" });
    expect(out[1]).toEqual({ ok: true, value: { execute: 'cont' } });
  });

  it('keeps brackets inside strings out of the structure', () => {
    const r = new JsonReader();
    expect(r.push('{"s": "}{]["}')).toEqual([{ ok: true, value: { s: '}{][' } }]);
  });

  it('refuses a message that never ends instead of buffering forever', () => {
    const r = new JsonReader();
    const out = r.push('[' + '1,'.repeat(600_000));
    expect(out).toEqual([{ ok: false, error: 'JSON parse error, message too large' }]);
  });

  it('refuses absurd nesting without overflowing the host stack', () => {
    expect(parseQmpJson('['.repeat(5000) + ']'.repeat(5000))).toEqual({ ok: false, error: 'JSON parse error, nesting too deep' });
  });

  it('rejects duplicate keys and bad escapes', () => {
    expect(parseQmpJson('{"a":1,"a":2}').ok).toBe(false);
    expect(parseQmpJson('"\\q"').ok).toBe(false);
    expect(parseQmpJson('"\\u0041"')).toEqual({ ok: true, value: 'A' });
  });
});
