import { describe, expect, it } from 'vitest';
import { StateFormatError } from '../snapshot/codec';
import { checkState, requireDeclaredState, saveState, StateError, type StateDeclaration } from './device';

const DECL: StateDeclaration = {
  name: 'demo',
  version: 2,
  fields: { a: { kind: 'u8' }, b: { kind: 'u64' }, c: { kind: 'u32[]', length: 2 }, d: { kind: 'bytes' }, e: { kind: 'bool' } },
};
const good = { a: 255, b: (1n << 64n) - 1n, c: [1, 0xffff_ffff], d: new Uint8Array(3), e: true };

describe('declared device state', () => {
  it('accepts a state that matches its declaration', () => {
    const s = saveState(DECL, good);
    expect(checkState(DECL, s)).toEqual(s.fields);
  });
  it('refuses a wrong name, version, missing or extra field, and out-of-range values, naming the field', () => {
    const s = saveState(DECL, good);
    expect(() => checkState(DECL, { ...s, name: 'other' })).toThrow(StateError);
    expect(() => checkState(DECL, { ...s, version: 1 })).toThrow(/version 1/);
    const { a: _a, ...missing } = good;
    expect(() => checkState(DECL, { ...s, fields: missing })).toThrow('demo.a: expected an integer in 0..255, found nothing');
    expect(() => checkState(DECL, { ...s, fields: { ...good, z: 1 } })).toThrow('demo.z: not a declared field');
    expect(() => checkState(DECL, { ...s, fields: { ...good, a: 256 } })).toThrow(/demo\.a/);
    expect(() => checkState(DECL, { ...s, fields: { ...good, b: 1n << 64n } })).toThrow(/demo\.b/);
    expect(() => checkState(DECL, { ...s, fields: { ...good, c: [1] } })).toThrow('demo.c: expected an array of 2, found an array of 1');
    expect(() => checkState(DECL, { ...s, fields: { ...good, e: 1 } })).toThrow(/demo\.e/);
    // One engine: device state errors are snapshot format errors.
    expect(() => checkState(DECL, { ...s, version: 3 })).toThrow(StateFormatError);
  });
  it('loads an older version through its migration hook', () => {
    const v3: StateDeclaration = {
      ...DECL,
      version: 3,
      minVersion: 2,
      fields: { ...DECL.fields, f: { kind: 'u16' } },
      migrate: (from, fields) => (from === 2 ? { ...fields, f: 7 } : fields),
    };
    const old = saveState(DECL, good);
    expect(checkState(v3, old)).toEqual({ ...good, f: 7 });
    expect(() => checkState(v3, { ...old, version: 1 })).toThrow('demo: snapshot has state version 1, this build loads 2..3');
  });
  it('refuses a device whose state is not declared', () => {
    expect(() => requireDeclaredState('good', { saveState: () => saveState(DECL, good) })).not.toThrow();
    expect(() => requireDeclaredState('adhoc', { saveState: () => ({ name: 'x', version: 1, fields: {} }) })).toThrow(
      'adhoc: no declared state',
    );
    expect(() => requireDeclaredState('none', {} as never)).toThrow('none: no declared state');
    expect(() => requireDeclaredState('bad', { saveState: () => saveState(DECL, { ...good, a: -1 }) })).toThrow(
      'bad: its state cannot be saved: demo.a',
    );
  });
});
