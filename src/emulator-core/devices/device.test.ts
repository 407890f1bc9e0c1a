import { describe, expect, it } from 'vitest';
import { checkState, saveState, StateError, type StateDeclaration } from './device';

const DECL: StateDeclaration = {
  name: 'demo',
  version: 2,
  fields: { a: { kind: 'u8' }, b: { kind: 'u64' }, c: { kind: 'u32[]', length: 2 }, d: { kind: 'bytes' }, e: { kind: 'bool' } },
};
const good = { a: 255, b: (1n << 64n) - 1n, c: [1, 0xffff_ffff], d: new Uint8Array(3), e: true };

describe('declared device state', () => {
  it('accepts a state that matches its declaration', () => {
    const s = saveState(DECL, good);
    expect(checkState(DECL, s)).toBe(s.fields);
  });
  it('refuses a wrong name, version, missing or extra field, and out-of-range values', () => {
    const s = saveState(DECL, good);
    expect(() => checkState(DECL, { ...s, name: 'other' })).toThrow(StateError);
    expect(() => checkState(DECL, { ...s, version: 1 })).toThrow(/version 1/);
    const { a: _a, ...missing } = good;
    expect(() => checkState(DECL, { ...s, fields: missing })).toThrow(/demo\.a: missing/);
    expect(() => checkState(DECL, { ...s, fields: { ...good, z: 1 } })).toThrow(/demo\.z/);
    expect(() => checkState(DECL, { ...s, fields: { ...good, a: 256 } })).toThrow(/demo\.a/);
    expect(() => checkState(DECL, { ...s, fields: { ...good, b: 1n << 64n } })).toThrow(/demo\.b/);
    expect(() => checkState(DECL, { ...s, fields: { ...good, c: [1] } })).toThrow(/length 2/);
    expect(() => checkState(DECL, { ...s, fields: { ...good, e: 1 } })).toThrow(/demo\.e/);
  });
});
