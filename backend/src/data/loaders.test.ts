import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataFormatError } from './canonical';
import { dataDigest, detectFormat, loadSeriesFile, nabWindowsFor, parseSeriesText } from './loaders';

const GOOGLE_HEADER =
  'time,unique_id,collection_id,instance_index,priority,scheduling_class,machine_id,alloc_collection_id,' +
  'alloc_instance_index,collection_type,avg_cpu_usage,avg_memory_usage,max_cpu_usage';

function googleRow(us: number, id: string, cpu: string): string {
  return `${us},${id},${id.split('-')[0]},${id.split('-')[1]},200,2,1639393793,0,-1,0,${cpu},0.002,0.004`;
}

function promAnswer(result: unknown, resultType = 'matrix'): string {
  return JSON.stringify({ status: 'success', data: { resultType, result } });
}

describe('detectFormat', () => {
  it('tells the formats apart by content', () => {
    expect(detectFormat('series,timestamp,value\na,1,2\n')).toBe('canonical');
    expect(detectFormat('\uFEFFtimestamp,value\n2014-01-01 00:00:00,1\n')).toBe('nab');
    expect(detectFormat(`${GOOGLE_HEADER}\n`)).toBe('google2019-instance-usage');
    expect(detectFormat('  {"status":"success"}')).toBe('prometheus');
  });

  it('refuses empty and unknown inputs clearly', () => {
    expect(() => detectFormat('', 'x.csv')).toThrow(new DataFormatError('x.csv: empty file'));
    expect(() => detectFormat(' \n\n')).toThrow(/empty file/);
    expect(() => detectFormat('time,cpu\n1,2\n', 'x.csv')).toThrow(
      /x\.csv: unknown format \(header "time,cpu"\)/
    );
  });
});

describe('parseSeriesText', () => {
  it('reads canonical CSV', () => {
    const s = parseSeriesText('series,timestamp,value\nb,20,2\na,10,1\na,5,0\nb,10,1\n');
    expect(s).toEqual([
      {
        name: 'b',
        points: [
          [10, 1],
          [20, 2],
        ],
      },
      {
        name: 'a',
        points: [
          [5, 0],
          [10, 1],
        ],
      },
    ]);
  });

  it('maps Google 2019 instance_usage time to Unix seconds per the canonical README', () => {
    const text = [
      GOOGLE_HEADER,
      googleRow(900300000000, '382417448240-115', '0.0002'),
      googleRow(900081000000, '382417448240-115', '0.0004'),
      googleRow(900081500000, '382417448240-2', '0.0001'),
      googleRow(900381500000, '382417448240-2', ''),
      googleRow(900681500000, '382417448240-2', '0.0003'),
    ].join('\n');
    const s = parseSeriesText(text);
    // 1556694000 − 600 + floor(time / 1e6)
    expect(s[0]).toEqual({
      name: '382417448240-115',
      points: [
        [1557593481, 0.0004],
        [1557593700, 0.0002],
      ],
    });
    expect(s[1].points.map((p) => p[0])).toEqual([1557593481, 1557593781, 1557594081]);
    expect(s[1].points[1][1]).toBeNaN(); // a missing value stays a hole
  });

  it('reads a NAB CSV as UTC and labels it inclusively from its windows', () => {
    const text =
      'timestamp,value\n2014-02-14 14:30:00,0.1\n2014-02-14 14:35:00,0.2\n2014-02-14 14:40:00,0.3\n';
    const windows = nabWindowsFor(
      { 'realAWSCloudwatch/cpu.csv': [['2014-02-14 14:35:00.000000', '2014-02-14 14:40:00.000000']] },
      '/data/cpu.csv'
    );
    const [s] = parseSeriesText(text, { name: 'cpu', windows });
    expect(s.name).toBe('cpu');
    expect(s.points[0]).toEqual([Date.UTC(2014, 1, 14, 14, 30) / 1000, 0.1]);
    expect(s.labels).toEqual([0, 1, 1]);
    expect(() => nabWindowsFor({}, 'other.csv', 'w.json')).toThrow('w.json: no windows for other.csv');
  });

  it('reads a Prometheus query_range answer, NaN and ±Inf as non-finite', () => {
    const text = promAnswer([
      {
        metric: { __name__: 'cpu', pod: 'web-1', ns: 'x' },
        values: [
          [1700000000, '0.5'],
          [1700000060, 'NaN'],
          [1700000120, '1'],
        ],
      },
      {
        metric: {},
        values: [
          [1700000000, '+Inf'],
          [1700000060, '2'],
          [1700000120, '3'],
        ],
      },
    ]);
    const s = parseSeriesText(text);
    expect(s.map((x) => x.name)).toEqual(['cpu{ns="x",pod="web-1"}', '{}']);
    expect(s[0].points[1][1]).toBeNaN();
    expect(s[1].points[0][1]).toBe(Infinity);
  });

  it('names the line or element of a non-numeric value', () => {
    expect(() => parseSeriesText('series,timestamp,value\na,1,x\na,2,3\n', { source: 'f' })).toThrow(
      'f:2: value "x" is not a number'
    );
    expect(() => parseSeriesText('timestamp,value\n2014-01-01 00:00:00,abc\n', { source: 'f' })).toThrow(
      'f:2: value "abc" is not a number'
    );
    expect(() =>
      parseSeriesText([GOOGLE_HEADER, googleRow(300000000, '1-2', 'zero')].join('\n'), { source: 'f' })
    ).toThrow('f:2: value "zero" is not a number');
    expect(() =>
      parseSeriesText(
        promAnswer([
          {
            metric: {},
            values: [
              [1, 'high'],
              [2, '1'],
            ],
          },
        ]),
        { source: 'f' }
      )
    ).toThrow('f: result[0].values[0]: value "high" is not a number');
  });

  it('refuses wrong headers, bad times, one-point series and non-range answers', () => {
    expect(() => parseSeriesText('series,time,value\na,1,2\n', { source: 'f' })).toThrow(/f: header must be/);
    expect(() => parseSeriesText('timestamp,value\n14/02/2014,1\n', { source: 'f' })).toThrow(
      'f:2: bad timestamp'
    );
    expect(() => parseSeriesText('series,timestamp,value\na,1,2\na,2,3\nb,1,5\n', { source: 'f' })).toThrow(
      'f: series "b" has 1 finite value(s); at least 2 are needed'
    );
    expect(() => parseSeriesText('series,timestamp,value\na,1,2\na,2,nan\n')).toThrow(/"a" has 1 finite/);
    expect(() => parseSeriesText('timestamp,value\n')).toThrow(/no data rows/);
    expect(() => parseSeriesText(promAnswer([], 'vector'))).toThrow(/resultType is vector/);
    expect(() => parseSeriesText(promAnswer([]))).toThrow(/no series/);
    expect(() =>
      parseSeriesText(JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error' }))
    ).toThrow(/bad_data: parse error/);
    expect(() => parseSeriesText('{"a":1}')).toThrow(/unknown JSON format/);
    expect(() => parseSeriesText('{"a":')).toThrow(/not valid JSON/);
  });
});

describe('loadSeriesFile', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-loaders-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('loads every CSV of a directory and names a NAB series after its file', () => {
    fs.writeFileSync(
      path.join(dir, 'cpu_a.csv'),
      'timestamp,value\n2014-01-01 00:00:00,1\n2014-01-01 00:05:00,2\n'
    );
    fs.writeFileSync(
      path.join(dir, 'tasks.csv'),
      [GOOGLE_HEADER, googleRow(300000000, '1-2', '0.1'), googleRow(600000000, '1-2', '0.2')].join('\n')
    );
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'ignored');
    const windows = path.join(dir, 'windows.json');
    fs.writeFileSync(
      windows,
      JSON.stringify({ 'x/cpu_a.csv': [['2014-01-01 00:05:00', '2014-01-01 00:10:00']] })
    );
    const s = loadSeriesFile(dir, { windowsFile: windows });
    expect(s.map((x) => x.name)).toEqual(['cpu_a', '1-2']);
    expect(s[0].labels).toEqual([0, 1]);
    expect(s[1].points[0][0]).toBe(1556694000 - 600 + 300);
  });

  it('refuses a series that appears in two files', () => {
    fs.writeFileSync(path.join(dir, 'a.csv'), 'series,timestamp,value\ns,1,1\ns,2,2\n');
    fs.writeFileSync(path.join(dir, 'b.csv'), 'series,timestamp,value\ns,3,1\ns,4,2\n');
    expect(() => loadSeriesFile(dir)).toThrow(/series "s" also appears in another file/);
  });
});

describe('dataDigest', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-digest-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("is a file's SHA-256, and for a directory changes with any CSV's name or bytes, not other files", () => {
    const a = path.join(dir, 'a.csv');
    fs.writeFileSync(a, 'series,timestamp,value\nx,1,2\n');
    // sha256 of those bytes, as `sha256sum a.csv` prints it
    expect(dataDigest(a)).toBe('0b0d7b6bacfc0e96d96618d7ce17e80471bdd99ad8368697c403120e958fb5c1');
    fs.writeFileSync(path.join(dir, 'b.csv'), 'series,timestamp,value\ny,1,3\n');
    const before = dataDigest(dir);
    expect(before).toMatch(/^[0-9a-f]{64}$/);
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not data');
    expect(dataDigest(dir)).toBe(before);
    fs.writeFileSync(path.join(dir, 'b.csv'), 'series,timestamp,value\ny,1,4\n');
    expect(dataDigest(dir)).not.toBe(before);
    fs.renameSync(path.join(dir, 'b.csv'), path.join(dir, 'c.csv'));
    expect(dataDigest(dir)).not.toBe(before);
  });
});
