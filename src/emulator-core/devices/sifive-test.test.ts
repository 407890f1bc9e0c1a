import { describe, expect, it } from 'vitest';
import { SifiveTest, type FinisherEvent } from './sifive-test';

describe('sifive_test finisher', () => {
  it('reports pass, fail with its code, and reset; ignores anything else', () => {
    const events: FinisherEvent[] = [];
    const t = new SifiveTest((e) => events.push(e));
    t.write(0, 4, 0x5555);
    t.write(0, 4, (42 << 16) | 0x3333);
    t.write(0, 4, 0x7777);
    t.write(0, 4, 0x1234);
    t.write(4, 4, 0x5555);
    t.write(0, 2, 0x5555);
    expect(events).toEqual([{ kind: 'pass' }, { kind: 'fail', code: 42 }, { kind: 'reset' }]);
    expect(t.read(0, 4)).toBe(0);
  });
  it('round-trips its (empty) state', () => {
    const t = new SifiveTest(() => {});
    expect(() => t.loadState(t.saveState())).not.toThrow();
  });
});
