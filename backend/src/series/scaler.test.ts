import { MinMaxScaler } from './scaler';

describe('MinMaxScaler', () => {
  it('maps min to 0 and max to 1 and back', () => {
    const s = MinMaxScaler.fit([2, 4, 6, NaN]);
    expect(s.toJSON()).toEqual({ min: 2, max: 6 });
    expect(s.transformAll([2, 4, 6, 8])).toEqual([0, 0.5, 1, 1.5]);
    expect(s.inverse(0.25)).toBe(3);
  });
  it('round-trips through its JSON', () => {
    const s = new MinMaxScaler(JSON.parse(JSON.stringify(MinMaxScaler.fit([1, 5]))));
    expect(s.transform(3)).toBe(0.5);
  });
  it('handles a constant series without dividing by zero', () => {
    const s = MinMaxScaler.fit([3, 3, 3]);
    expect(s.isConstant).toBe(true);
    expect(s.transform(3)).toBe(0);
    expect(s.inverse(0.7)).toBe(3);
  });
  it('refuses to fit on no finite values', () => {
    expect(() => MinMaxScaler.fit([NaN, Infinity])).toThrow(/no finite values/);
  });
});
