import type { ColumnSeries } from '../series/types';
import { joinPieces, splitRange } from './split';

const grid = (q: { start: number; end: number; step: number }) => {
  const out: number[] = [];
  for (let k = 0; q.start + k * q.step <= q.end + 1e-9; k++)
    out.push(Math.round((q.start + k * q.step) * 1000));
  return out;
};

describe('splitRange', () => {
  it('cuts a long range into pieces of whole steps that evaluate exactly its instants', () => {
    for (const q of [
      { query: 'up', start: 1_700_000_000, end: 1_700_000_000 + 9 * 86400 + 77, step: 600 },
      { query: 'up', start: 1_700_000_000.25, end: 1_700_300_000, step: 7.5 },
      { query: 'up', start: 1_700_000_000, end: 1_700_000_000 + 86400, step: 86400 * 2 },
    ]) {
      const pieces = splitRange(q, 86400);
      expect(pieces.flatMap(grid)).toEqual(grid(q));
      for (const p of pieces) {
        expect(p.step).toBe(q.step);
        expect(grid(p).length).toBeLessThanOrEqual(Math.max(1, Math.floor(86400 / q.step)));
      }
      expect(pieces[pieces.length - 1].end).toBe(q.end);
    }
    // 9 days and one instant at 600 s: ten pieces of 130 steps or fewer, not nine days and one instant.
    const nine = splitRange({ query: 'up', start: 0, end: 9 * 86400, step: 600 }, 86400);
    expect(nine.map(grid).map((g) => g.length)).toEqual([130, 130, 130, 130, 130, 130, 130, 130, 130, 127]);
  });

  it('leaves alone a short range, interval 0, times off the millisecond grid and range-dependent queries', () => {
    const q = { query: 'up', start: 1_700_000_000, end: 1_700_000_000 + 3 * 86400, step: 60 };
    expect(splitRange({ ...q, end: q.start + 86400 - 60 }, 86400)).toEqual([
      { ...q, end: q.start + 86400 - 60 },
    ]);
    expect(splitRange(q, 0)).toEqual([q]);
    expect(splitRange({ ...q, start: q.start + 0.0001 }, 86400)).toHaveLength(1);
    expect(splitRange({ ...q, query: 'up @ start()' }, 86400)).toHaveLength(1);
    expect(splitRange({ ...q, query: 'rate(up[5m] @ END( ))' }, 86400)).toHaveLength(1);
    expect(splitRange({ ...q, query: 'avg_over_time(up[range()])' }, 86400)).toHaveLength(1);
    // Steps so long that a piece would hold fewer than 16 of them: read whole.
    expect(splitRange({ ...q, end: q.start + 90 * 86400, step: 86400 }, 86400)).toHaveLength(1);
    expect(splitRange({ ...q, end: q.start + 90 * 86400, step: 43200 }, 86400)).toHaveLength(1);
    expect(splitRange({ ...q, end: q.start + 90 * 86400 - 5400, step: 5400 }, 86400)).toHaveLength(90);
    expect(splitRange({ ...q, query: 'up @ 1700000000' }, 86400)).toHaveLength(4); // a fixed time is fine
  });
});

describe('joinPieces', () => {
  const text = (bytes: string, at: number[]) => ({
    bytes: new TextEncoder().encode(bytes),
    timeAt: Uint32Array.from(at),
    timeLen: Uint8Array.from(at, () => 1),
    valueAt: Uint32Array.from(at, (a) => a + 2),
    valueLen: Uint8Array.from(at, () => 1),
  });
  const s = (pod: string, times: number[], t?: ReturnType<typeof text>): ColumnSeries => ({
    labels: { pod },
    times: Float64Array.from(times),
    values: Float64Array.from(times, (x) => x * 10),
    ...(t ? { text: t } : {}),
  });
  /** Each sample's text (time, value) as the joined series points to it. */
  const texts = (x: ColumnSeries) =>
    Array.from(x.times, (_, i) => {
      const b = Buffer.from(x.text!.bytes);
      const at = (a: number, n: number) => b.subarray(a, a + n).toString();
      return at(x.text!.timeAt[i], x.text!.timeLen[i]) + '=' + at(x.text!.valueAt[i], x.text!.valueLen[i]);
    });

  it('joins each series across pieces in time order, the series in label order, with their text', () => {
    // Piece 1: a, c; piece 2: b (new), c; piece 3: c. Text bytes per piece: "1 a|2 b" style.
    const joined = joinPieces([
      [s('a', [1, 2], text('1 x2 y', [0, 3])), s('c', [1, 2], text('1 p2 q', [0, 3]))],
      [s('b', [3], text('3 z', [0])), s('c', [3], text('3 r', [0]))],
      [s('c', [4], text('4 s', [0]))],
    ]);
    expect(joined.map((x) => x.labels.pod)).toEqual(['a', 'b', 'c']);
    expect(Array.from(joined[2].times)).toEqual([1, 2, 3, 4]);
    expect(Array.from(joined[2].values)).toEqual([10, 20, 30, 40]);
    expect(texts(joined[2])).toEqual(['1=p', '2=q', '3=r', '4=s']);
    expect(texts(joined[0])).toEqual(['1=x', '2=y']);
    expect(texts(joined[1])).toEqual(['3=z']);
  });

  it('matches series by position when every piece has the same ones, and drops text a part lacks', () => {
    const joined = joinPieces([
      [s('a', [1], text('1 x', [0])), s('b', [1])],
      [s('a', [2], text('2 y', [0])), s('b', [2], text('2 w', [0]))],
    ]);
    expect(joined.map((x) => [x.labels.pod, Array.from(x.times)])).toEqual([
      ['a', [1, 2]],
      ['b', [1, 2]],
    ]);
    expect(texts(joined[0])).toEqual(['1=x', '2=y']);
    expect(joined[1].text).toBeUndefined(); // one of its parts had none: formatted, not copied
  });
});
