import { PrescalerError } from '../errors';
import { forecastBodySchema, parseBody, rangeBodySchema, resolveRange } from './validate';

describe('parseBody', () => {
  it('converts times and durations to seconds', () => {
    expect(
      parseBody(forecastBodySchema, {
        query: 'up',
        start: '2019-05-01T00:00:00Z',
        end: 1556672400,
        step: '10m',
        horizon: '1h',
      })
    ).toEqual({ query: 'up', start: 1556668800, end: 1556672400, step: 600, horizon: 3600 });
  });

  it.each([
    [undefined, /body must be a JSON object/],
    [[1, 2], /body must be a JSON object/],
    [{}, /query: Required/],
    [{ query: '  ' }, /query must be a non-empty PromQL/],
    [{ query: 'up', bogus: 1 }, /unknown field\(s\): bogus/],
    [{ query: 'up', start: 'yesterday' }, /start: "yesterday" is not a Unix time/],
    [{ query: 'up', step: 'fast' }, /step: "fast" is not a duration/],
  ])('rejects %j', (body, re) => {
    expect(() => parseBody(rangeBodySchema, body)).toThrow(re);
  });
});

describe('resolveRange', () => {
  const now = 1_700_000_000;
  it('defaults to the last 24 h at 600 s', () => {
    expect(resolveRange({ query: 'up' }, now, 11000)).toEqual({
      query: 'up',
      start: now - 86400,
      end: now,
      step: 600,
    });
  });
  it('refuses start after end and a non-positive step', () => {
    expect(() => resolveRange({ query: 'up', start: now, end: now - 1 }, now, 11000)).toThrow(
      /must be before end/
    );
    expect(() => resolveRange({ query: 'up', step: 0 }, now, 11000)).toThrow(/step: must be > 0/);
  });
  it('answers too_large when the range holds too many points', () => {
    try {
      resolveRange({ query: 'up', start: 0, end: 86400, step: 1 }, now, 11000);
      throw new Error('expected a throw');
    } catch (e) {
      expect(e).toBeInstanceOf(PrescalerError);
      expect((e as PrescalerError).status).toBe(413);
      expect((e as PrescalerError).message).toMatch(/86401 points per series/);
    }
  });
});
