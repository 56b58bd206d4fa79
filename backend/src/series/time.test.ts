import { parseDuration, parseTime } from './time';

describe('parseTime', () => {
  it('reads Unix seconds as numbers and strings', () => {
    expect(parseTime(1700000000)).toBe(1700000000);
    expect(parseTime('1700000000.5')).toBe(1700000000.5);
  });
  it('reads RFC 3339 with zone', () => {
    expect(parseTime('2019-05-01T00:00:00Z')).toBe(1556668800);
    expect(parseTime('2019-05-01T02:00:00+02:00')).toBe(1556668800);
  });
  it('rejects everything else', () => {
    for (const bad of [
      '',
      'yesterday',
      '2019-05-01',
      '2019-05-01T00:00:00',
      '2025-02-30T00:00:00Z',
      '2024-13-01T00:00:00Z',
      '2024-01-01T24:00:00Z',
      NaN,
      Infinity,
      -Infinity,
      '1' + '0'.repeat(400), // Number() of it is Infinity
      '-1' + '0'.repeat(400),
      '1' + '0'.repeat(400) + '.5',
      null,
      {},
    ]) {
      expect(parseTime(bad)).toBeUndefined();
    }
  });
});

describe('parseDuration', () => {
  it('reads seconds and Prometheus durations', () => {
    expect(parseDuration(600)).toBe(600);
    expect(parseDuration('90s')).toBe(90);
    expect(parseDuration('10m')).toBe(600);
    expect(parseDuration('1h30m')).toBe(5400);
    expect(parseDuration('1d')).toBe(86400);
    expect(parseDuration('250ms')).toBe(0.25);
  });
  it('rejects malformed input', () => {
    for (const bad of ['', '10x', 'm', '1h 30m', '-5m', 'abc', undefined, Infinity, NaN])
      expect(parseDuration(bad)).toBeUndefined();
  });
  it('rejects numbers too long to be finite, plain or with a unit', () => {
    const huge = '1' + '0'.repeat(400);
    for (const bad of [huge, `${huge}.5`, `${huge}s`, `${huge}ms`, `1h${huge}m`, `${'9'.repeat(307)}y`])
      expect(parseDuration(bad)).toBeUndefined();
    expect(parseDuration('9'.repeat(300))).toBe(Number('9'.repeat(300))); // long but finite: still a number
  });
});
