import { accuracy, coverage, mae, median, rmse, wape } from './metrics';

describe('metrics', () => {
  const actual = [1, 2, 3];
  const forecast = [2, 2, 5]; // errors 1, 0, 2

  it('rmse is the root of the mean squared error', () => {
    expect(rmse(actual, forecast)).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(rmse([4], [4])).toBe(0);
  });

  it('mae is the mean absolute error', () => {
    expect(mae(actual, forecast)).toBeCloseTo(1, 12);
    expect(mae([0, 0], [-1, 3])).toBeCloseTo(2, 12);
  });

  it('wape is Σ|error| / Σ|actual| and accuracy its complement', () => {
    expect(wape(actual, forecast)).toBeCloseTo(3 / 6, 12);
    expect(accuracy(actual, forecast)).toBeCloseTo(0.5, 12);
    // Negative actuals count by magnitude.
    expect(wape([-2, 2], [-1, 2])).toBeCloseTo(1 / 4, 12);
    // Errors larger than the actuals give negative accuracy, not a clamp.
    expect(accuracy([1], [4])).toBeCloseTo(-2, 12);
    expect(wape([0, 0], [1, 1])).toBeNaN();
  });

  it('median takes the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(median([])).toBeNaN();
  });

  it('coverage counts actuals inside the interval, ends included', () => {
    expect(coverage([1, 2, 3, 4], [0, 2, 3.5, 0], [1, 3, 4, 3])).toBeCloseTo(0.5, 12);
  });

  it('refuses mismatched or empty inputs', () => {
    expect(() => rmse([1, 2], [1])).toThrow(/length/);
    expect(() => mae([], [])).toThrow(/no values/);
  });
});
