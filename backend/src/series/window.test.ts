import { mulberry32 } from './random';
import { trailingRange } from './window';

describe('trailingRange', () => {
  it('gives the least and greatest of the span values before each index, as a scan of them does', () => {
    const r = mulberry32(5);
    const values = Array.from({ length: 300 }, () => Math.round(r() * 20)); // ties included
    for (const span of [1, 3, 17, 299, 400]) {
      const { lo, hi } = trailingRange(values, span);
      expect(Number.isNaN(lo[0]) && Number.isNaN(hi[0])).toBe(true);
      for (let i = 1; i < values.length; i++) {
        const past = values.slice(Math.max(0, i - span), i);
        expect([lo[i], hi[i]]).toEqual([Math.min(...past), Math.max(...past)]);
      }
    }
  });
});
