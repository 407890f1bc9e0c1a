import { describe, expect, it } from 'vitest';
import { Prop, decodeFdt, encodeFdt, findNode, node, propStrings, propU32s } from './fdt';

describe('FDT writer', () => {
  it('writes a version 17 blob that decodes to the same tree', () => {
    const tree = node('', [Prop.u32('#address-cells', 2), Prop.strs('compatible', 'a', 'b')], [node('chosen', [Prop.str('bootargs', 'x y'), Prop.empty('flag')])]);
    const blob = encodeFdt(tree, { reservations: [[0x8000_0000, 0x1000]] });
    const dv = new DataView(blob.buffer);
    expect(dv.getUint32(0)).toBe(0xd00dfeed);
    expect(dv.getUint32(4)).toBe(blob.length);
    expect(dv.getUint32(20)).toBe(17);
    const back = decodeFdt(blob);
    expect(propU32s(back, '#address-cells')).toEqual([2]);
    expect(propStrings(back, 'compatible')).toEqual(['a', 'b']);
    expect(propStrings(findNode(back, '/chosen'), 'bootargs')).toEqual(['x y']);
    expect(findNode(back, '/chosen')!.props[1]!.value.length).toBe(0);
  });
  it('refuses duplicate properties or nodes and cells that are not u32', () => {
    expect(() => encodeFdt(node('', [Prop.u32('a', 1), Prop.u32('a', 2)]))).toThrow(/twice/);
    expect(() => encodeFdt(node('', [], [node('x'), node('x')]))).toThrow(/twice/);
    expect(() => Prop.u32('a', 2 ** 32)).toThrow(RangeError);
    expect(propU32s(node('', [Prop.u64('r', 0x1_2345_6789)]), 'r')).toEqual([1, 0x2345_6789]);
  });
  it('rejects blobs that are not device trees', () => {
    expect(() => decodeFdt(new Uint8Array(64))).toThrow(/magic/);
  });
});
