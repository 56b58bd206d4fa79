import type { ColumnSeries, Labels } from '../series/types';
import { DemoSource } from './demo';
import { groupQueries, parsePlainSelector, settleEach, splitAnswer } from './selector-groups';
import { queryColumns } from './types';

describe('parsePlainSelector', () => {
  it('takes names and = matchers in either quote', () => {
    expect(parsePlainSelector('m')).toEqual({ metric: 'm', matchers: [] });
    expect(parsePlainSelector(` m{a="x", b='y'} `)).toEqual({
      metric: 'm',
      matchers: [
        ['a', 'x'],
        ['b', 'y'],
      ],
    });
    expect(parsePlainSelector('{job="a"}')).toEqual({ metric: undefined, matchers: [['job', 'a']] });
  });

  it.each([
    'sum(m{a="x"})',
    'rate(m{a="x"}[5m])',
    'm{a=~"x"}',
    'm{a!="x"}',
    'm{a="x"} offset 5m',
    'm{a="x\\"y"}',
    'm{a="x",a="y"}',
    'm{a="x"} + 1',
    '{}',
    'sum',
  ])('leaves %s to be read as written', (q) => {
    expect(parsePlainSelector(q)).toBeUndefined();
  });
});

describe('groupQueries', () => {
  it('merges selectors that differ in one label value, reads identical queries once, the rest as written', () => {
    const queries = [
      'm{ns="a",pod="p-1"}',
      'm{pod="p.2",ns="a"}',
      'm{ns="a",pod="p-3"}',
      'sum(rate(x[5m]))',
      'm{ns="a",pod="p-1"}',
      'm{ns="b",pod="p-9"}',
    ];
    const groups = groupQueries(queries, 100);
    expect(groups).toHaveLength(3);
    const merged = groups.find((g) => g.label)!;
    expect(merged.label).toBe('pod');
    // The dot is a literal in the regex: p.2 must not match p-2.
    expect(merged.query).toBe('m{ns="a",pod=~"p-1|p\\\\.2|p-3"}');
    expect(merged.members).toEqual([0, 4, 1, 2]);
    expect(merged.values).toEqual(['p-1', 'p-1', 'p.2', 'p-3']);
    expect(groups.filter((g) => !g.label).map((g) => g.query)).toEqual([
      'sum(rate(x[5m]))',
      'm{ns="b",pod="p-9"}',
    ]);
    // Every index exactly once.
    expect(groups.flatMap((g) => g.members).sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('lists at most maxValues values per read, and leaves values it cannot quote as written', () => {
    const queries = Array.from({ length: 5 }, (_, i) => `m{pod="p${i}"}`).concat('m{pod="a|b"}', 'm{pod=""}');
    const groups = groupQueries(queries, 2);
    expect(groups.filter((g) => g.label).map((g) => g.values)).toEqual([
      ['p0', 'p1'],
      ['p2', 'p3'],
    ]);
    expect(groups.filter((g) => !g.label).map((g) => g.query)).toEqual([
      'm{pod="p4"}',
      'm{pod="a|b"}',
      'm{pod=""}',
    ]);
  });
});

describe('splitAnswer', () => {
  const s = (labels: Labels): ColumnSeries => ({
    labels,
    times: new Float64Array(),
    values: new Float64Array(),
  });
  it('gives each member the series with its value, none when it has none', () => {
    const g = { query: 'q', members: [3, 7, 9], label: 'pod', values: ['a', 'b', 'a'] };
    const a = s({ pod: 'a' });
    const b1 = s({ pod: 'b', c: '1' });
    const b2 = s({ pod: 'b', c: '2' });
    expect(splitAnswer(g, [a, b1, b2])).toEqual([[a], [b1, b2], [a]]);
    expect(splitAnswer(g, [b1])).toEqual([[], [b1], []]);
  });
});

describe('a merged read answers what each query answers (demo source, real RE2 matchers)', () => {
  it('splits back into the per-query answers', async () => {
    const demo = new DemoSource({ seed: 3, now: () => 1_764_000_000 });
    const queries = [
      'demo_cpu_usage{deployment="web"}',
      'demo_cpu_usage{deployment="api"}',
      'demo_cpu_usage{deployment="nope"}',
    ];
    const range = { start: 1_764_000_000 - 86400, end: 1_764_000_000, step: 600 };
    const [g] = groupQueries(queries, 100);
    expect(g.label).toBe('deployment');
    const merged = splitAnswer(g, await queryColumns(demo, { query: g.query, ...range }));
    for (const [k, i] of g.members.entries()) {
      expect(merged[k]).toEqual(await queryColumns(demo, { query: queries[i], ...range }));
    }
    expect(merged[g.members.indexOf(2)]).toEqual([]);
  });
});

describe('settleEach', () => {
  it('runs at most `limit` at once and keeps every outcome', async () => {
    let running = 0;
    let most = 0;
    const out = await settleEach([1, 2, 3, 4, 5, 6], 2, async (x) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      if (x % 3 === 0) throw new Error(`no ${x}`);
      return x * 10;
    });
    expect(most).toBe(2);
    expect(out.map((o) => (o.ok ? o.value : (o.error as Error).message))).toEqual([
      10,
      20,
      'no 3',
      40,
      50,
      'no 6',
    ]);
  });
});
