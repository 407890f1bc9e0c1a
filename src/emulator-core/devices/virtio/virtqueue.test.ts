import { describe, expect, it } from 'vitest';
import { GuestMemory } from '../guest-memory';
import { SplitVirtqueue, VirtqueueError, checkLayout, VIRTQ_DESC_F_INDIRECT as IND, VIRTQ_DESC_F_NEXT as NEXT, VIRTQ_DESC_F_WRITE as WRITE } from './virtqueue';

const BASE = 0x8000_0000;
const SIZE = 8;
const DESC = BASE + 0x1000;
const AVAIL = BASE + 0x2000;
const USED = BASE + 0x3000;

function setup(opts: { eventIdx?: boolean; indirect?: boolean } = {}) {
  const mem = new GuestMemory(BASE, new Uint8Array(0x10000));
  const vq = new SplitVirtqueue(mem, { size: SIZE, desc: DESC, driver: AVAIL, device: USED }, opts.eventIdx ?? false, opts.indirect ?? true);
  const desc = (table: number, i: number, addr: number, len: number, flags: number, next = 0) => {
    mem.writeU64(table + 16 * i, BigInt(addr));
    mem.write32(table + 16 * i + 8, len);
    mem.write16(table + 16 * i + 12, flags);
    mem.write16(table + 16 * i + 14, next);
  };
  let availIdx = 0;
  const offer = (head: number) => {
    mem.write16(AVAIL + 4 + 2 * (availIdx % SIZE), head);
    availIdx = (availIdx + 1) & 0xffff;
    mem.write16(AVAIL + 2, availIdx);
  };
  return { mem, vq, desc, offer };
}

describe('split virtqueue', () => {
  it('walks a chain: readable buffers first, then writable; reads and scatters data', () => {
    const { mem, vq, desc, offer } = setup();
    mem.writeBytes(BASE + 0x4000, new TextEncoder().encode('hello'));
    desc(DESC, 0, BASE + 0x4000, 3, NEXT, 5);
    desc(DESC, 5, BASE + 0x4003, 2, NEXT, 2);
    desc(DESC, 2, BASE + 0x5000, 4, WRITE | NEXT, 3);
    desc(DESC, 3, BASE + 0x6000, 4, WRITE);
    offer(0);
    expect(vq.availableCount()).toBe(1);
    const chain = vq.pop()!;
    expect(chain.head).toBe(0);
    expect(chain.readableLength).toBe(5);
    expect(chain.writableLength).toBe(8);
    expect(new TextDecoder().decode(vq.readAll(chain))).toBe('hello');
    expect(vq.writeAll(chain, Uint8Array.from([1, 2, 3, 4, 5, 6]), 1)).toBe(6);
    expect([...mem.slice(BASE + 0x5000, 4)]).toEqual([0, 1, 2, 3]);
    expect([...mem.slice(BASE + 0x6000, 4)]).toEqual([4, 5, 6, 0]);
    vq.push(chain.head, 7);
    expect(mem.read16(USED + 2)).toBe(1);
    expect(mem.read32(USED + 4)).toBe(0);
    expect(mem.read32(USED + 8)).toBe(7);
    expect(vq.pop()).toBeUndefined();
  });

  it('follows an indirect table', () => {
    const { mem, vq, desc, offer } = setup();
    const table = BASE + 0x7000;
    desc(table, 0, BASE + 0x4000, 16, NEXT, 1);
    desc(table, 1, BASE + 0x5000, 32, WRITE);
    desc(DESC, 1, table, 32, IND);
    offer(1);
    const chain = vq.pop()!;
    expect(chain.head).toBe(1);
    expect(chain.readable).toEqual([{ addr: BASE + 0x4000, len: 16 }]);
    expect(chain.writable).toEqual([{ addr: BASE + 0x5000, len: 32 }]);
    expect(mem.read16(USED + 2)).toBe(0);
  });

  const bad: [string, (s: ReturnType<typeof setup>) => void, RegExp][] = [
    ['a loop', (s) => (s.desc(DESC, 0, BASE, 1, NEXT, 1), s.desc(DESC, 1, BASE, 1, NEXT, 0), s.offer(0)), /loops/],
    ['a next index past the table', (s) => (s.desc(DESC, 0, BASE, 1, NEXT, SIZE), s.offer(0)), /next descriptor/],
    ['a head past the table', (s) => s.offer(SIZE + 3), /head/],
    ['a buffer outside RAM', (s) => (s.desc(DESC, 0, BASE + 0xfff0, 0x20, 0), s.offer(0)), /outside RAM/],
    ['a buffer below RAM', (s) => (s.desc(DESC, 0, 0x1000, 4, 0), s.offer(0)), /outside RAM/],
    ['a huge length', (s) => (s.desc(DESC, 0, BASE, 0xffff_ffff, 0), s.offer(0)), /outside RAM/],
    ['readable after writable', (s) => (s.desc(DESC, 0, BASE, 1, WRITE | NEXT, 1), s.desc(DESC, 1, BASE, 1, 0), s.offer(0)), /readable descriptor after/],
    ['nested indirect', (s) => (s.desc(BASE + 0x7000, 0, BASE + 0x7000, 16, IND), s.desc(DESC, 0, BASE + 0x7000, 16, IND), s.offer(0)), /nested/],
    ['indirect with NEXT', (s) => (s.desc(DESC, 0, BASE + 0x7000, 16, IND | NEXT, 1), s.offer(0)), /NEXT/],
    ['an indirect length not a multiple of 16', (s) => (s.desc(DESC, 0, BASE + 0x7000, 20, IND), s.offer(0)), /multiple of 16/],
    ['an indirect table outside RAM', (s) => (s.desc(DESC, 0, BASE + 0xfff0, 64, IND), s.offer(0)), /outside RAM/],
    ['an indirect loop', (s) => (s.desc(BASE + 0x7000, 0, BASE, 1, NEXT, 1), s.desc(BASE + 0x7000, 1, BASE, 1, NEXT, 0), s.desc(DESC, 0, BASE + 0x7000, 32, IND), s.offer(0)), /loops/],
    ['an available index too far ahead', (s) => s.mem.write16(AVAIL + 2, SIZE + 1), /ahead/],
  ];
  for (const [what, arrange, message] of bad) {
    it(`refuses ${what} with a VirtqueueError`, () => {
      const s = setup();
      arrange(s);
      let err: unknown;
      try {
        s.vq.pop();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(VirtqueueError);
      expect((err as Error).message).toMatch(message);
    });
  }

  it('refuses indirect descriptors that were not negotiated', () => {
    const s = setup({ indirect: false });
    s.desc(DESC, 0, BASE + 0x7000, 16, IND);
    s.offer(0);
    expect(() => s.vq.pop()).toThrow(/RING_INDIRECT_DESC/);
  });

  it('checks ring layout: size, alignment and placement in RAM', () => {
    const { mem } = setup();
    const ok = { size: 8, desc: DESC, driver: AVAIL, device: USED };
    expect(() => checkLayout(mem, ok, 256)).not.toThrow();
    expect(() => checkLayout(mem, { ...ok, size: 6 }, 256)).toThrow(/power of 2/);
    expect(() => checkLayout(mem, { ...ok, size: 512 }, 256)).toThrow(/power of 2/);
    expect(() => checkLayout(mem, { ...ok, size: 0 }, 256)).toThrow(VirtqueueError);
    expect(() => checkLayout(mem, { ...ok, desc: DESC + 8 }, 256)).toThrow(/misaligned/);
    expect(() => checkLayout(mem, { ...ok, device: BASE + 0xfff8 }, 256)).toThrow(/device ring/);
    expect(() => checkLayout(mem, { ...ok, desc: 0x1000 }, 256)).toThrow(/descriptor table/);
  });

  it('decides interrupts from NO_INTERRUPT, or from used_event with EVENT_IDX', () => {
    const s = setup();
    s.desc(DESC, 0, BASE, 1, 0);
    s.offer(0);
    s.vq.push(s.vq.pop()!.head, 0);
    expect(s.vq.shouldNotify()).toBe(true);
    expect(s.vq.shouldNotify()).toBe(false); // nothing new
    s.mem.write16(AVAIL, 1); // VIRTQ_AVAIL_F_NO_INTERRUPT
    s.offer(0);
    s.vq.push(s.vq.pop()!.head, 0);
    expect(s.vq.shouldNotify()).toBe(false);

    const e = setup({ eventIdx: true });
    e.desc(DESC, 0, BASE, 1, 0);
    e.mem.write16(AVAIL + 4 + 2 * SIZE, 1); // used_event: interrupt when used idx passes 1
    for (let i = 0; i < 3; i++) {
      e.offer(0);
      e.vq.push(e.vq.pop()!.head, 0);
    }
    expect(e.mem.read16(USED + 4 + 8 * SIZE)).toBe(3); // avail_event written
    expect(e.vq.shouldNotify()).toBe(true); // used idx went 0 -> 3, crossing 1
    e.offer(0);
    e.vq.push(e.vq.pop()!.head, 0);
    expect(e.vq.shouldNotify()).toBe(false); // 3 -> 4 does not cross 1
  });
});
