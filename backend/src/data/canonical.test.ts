import { DataFormatError, parseCanonicalCsv } from './canonical';

describe('parseCanonicalCsv', () => {
  it('groups rows by series, sorts by time and drops duplicate timestamps', () => {
    const csv = 'series,timestamp,value\nb,20,2\na,10,1\na,0,0\na,10,9\nb,2019-05-01T00:00:00Z,5\n';
    const out = parseCanonicalCsv(csv);
    expect(out).toEqual([
      {
        name: 'b',
        points: [
          [20, 2],
          [1556668800, 5],
        ],
      },
      {
        name: 'a',
        points: [
          [0, 0],
          [10, 1],
        ],
      },
    ]);
  });

  it('reads labels when the file has them', () => {
    const out = parseCanonicalCsv('series,timestamp,value,label\ns,1,0.5,0\ns,2,9,1\n');
    expect(out[0].labels).toEqual([0, 1]);
  });

  it.each([
    ['', /empty file/],
    ['a,b,c\n1,2,3', /header must be/],
    ['series,timestamp,value\n', /no data rows/],
    ['series,timestamp,value\ns,1,abc', /:2: value "abc" is not a number/],
    ['series,timestamp,value\ns,tomorrow,1', /:2: bad timestamp/],
    ['series,timestamp,value\ns,1', /:2: expected 3 columns/],
    ['series,timestamp,value,label\ns,1,1,2', /label must be 0 or 1/],
  ])('rejects %j with a clear error', (csv, re) => {
    expect(() => parseCanonicalCsv(csv)).toThrow(DataFormatError);
    expect(() => parseCanonicalCsv(csv)).toThrow(re);
  });
});
