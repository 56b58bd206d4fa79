import { formatPromqlVariable } from './interpolate';

describe('formatPromqlVariable', () => {
  it('inserts a single-value variable as a literal, escaping quotes', () => {
    expect(formatPromqlVariable('web', {})).toBe('web');
    expect(formatPromqlVariable('a"b', {})).toBe('a\\"b');
  });
  it('turns multi values into an escaped alternation', () => {
    expect(formatPromqlVariable(['web', 'api.v2'], { multi: true })).toBe('(web|api\\\\.v2)');
    expect(formatPromqlVariable(['web'], { multi: true })).toBe('web');
  });
  it('regex-escapes a single value of a multi variable', () => {
    expect(formatPromqlVariable('a.b', { includeAll: true })).toBe('a\\\\.b');
  });
});
