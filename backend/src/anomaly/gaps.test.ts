import { bridgeGaps, isFilled } from './gaps';

describe('bridgeGaps', () => {
  const seg = (start: number, values: number[], step = 60) => ({ start, step, values });

  it('joins segments across a hole no longer than the limit, interpolating it', () => {
    // Last point of the first at 120, first of the second at 360: a 240 s hole, three missing points.
    const out = bridgeGaps([seg(0, [1, 2, 3]), seg(360, [7, 8])], 240);
    expect(out).toEqual([{ ...seg(0, [1, 2, 3, 4, 5, 6, 7, 8]), holes: [[3, 6]] }]);
    expect([2, 3, 5, 6].map((i) => isFilled(out[0], i))).toEqual([false, true, true, false]);
  });

  it('keeps segments apart across a longer hole, of another step, or off the grid', () => {
    expect(bridgeGaps([seg(0, [1, 2, 3]), seg(420, [7])], 240)).toHaveLength(2);
    expect(bridgeGaps([seg(0, [1, 2, 3]), seg(300, [7], 30)], 3600)).toHaveLength(2);
    expect(bridgeGaps([seg(0, [1, 2, 3]), seg(330, [7])], 3600)).toHaveLength(2);
  });

  it('with 0 gives the segments unchanged, and never writes into its input', () => {
    const input = [seg(0, [1, 2]), seg(180, [4])];
    expect(bridgeGaps(input, 0)).toEqual(input);
    bridgeGaps(input, 3600);
    expect(input).toEqual([seg(0, [1, 2]), seg(180, [4])]);
  });

  it('joins a chain, and a later segment never changes the values before it (past only)', () => {
    const a = bridgeGaps([seg(0, [0, 1]), seg(180, [3]), seg(360, [6])], 600)[0].values;
    const b = bridgeGaps([seg(0, [0, 1]), seg(180, [3]), seg(360, [100])], 600)[0].values;
    expect(a.slice(0, 4)).toEqual(b.slice(0, 4));
    expect(a).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(bridgeGaps([seg(0, [0, 1]), seg(180, [3]), seg(360, [6])], 600)[0].holes).toEqual([
      [2, 3],
      [4, 6],
    ]);
  });
});
