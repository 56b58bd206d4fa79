/** AnswerMemo on its own, then through the HTTP API over a demo source whose data a test changes. */
import { startTestServer } from '../../../test/helpers/server';
import type { ColumnSeries } from '../series/types';
import { DemoSource } from '../sources/demo';
import { AnswerMemo } from './answer-memo';

const series = (pod: string, values: number[], start = 1_700_000_000): ColumnSeries => ({
  labels: { __name__: 'cpu', pod },
  times: Float64Array.from(values, (_, i) => start + 600 * i),
  values: Float64Array.from(values),
});
const body = (text: string) => Buffer.from(text);
const modelA = {};
const modelB = {};

describe('AnswerMemo', () => {
  it('gives the kept answer back for equal inputs from the same model, equal by value, not identity', () => {
    const memo = new AnswerMemo(1 << 20);
    memo.set('k', modelA, [series('a', [1, 2, 3]), series('b', [4, NaN, 6])], body('answer'));
    // New arrays and label objects with the same contents: what a refresh reads.
    const again = [series('a', [1, 2, 3]), series('b', [4, NaN, 6])];
    expect(memo.get('k', modelA, again)?.toString()).toBe('answer');
  });

  it('computes again when one value, one time, a label, the series order or count, or the model differs', () => {
    const memo = new AnswerMemo(1 << 20);
    const kept = () => [series('a', [1, 2, 3]), series('b', [4, 5, 6])];
    memo.set('k', modelA, kept(), body('answer'));
    const changed: ColumnSeries[][] = [
      [series('a', [1, 2, 3]), series('b', [4, 5, 6.000001])],
      [series('a', [1, 2, 3]), series('b', [4, 5, 6], 1_700_000_600)],
      [series('a', [1, 2, 3]), series('c', [4, 5, 6])],
      [series('b', [4, 5, 6]), series('a', [1, 2, 3])],
      [series('a', [1, 2, 3])],
      [series('a', [1, 2, 3]), series('b', [4, 5, 6, 7])],
    ];
    for (const inputs of changed) expect(memo.get('k', modelA, inputs)).toBeUndefined();
    expect(memo.get('k', modelB, kept())).toBeUndefined(); // another model: the answer is computed again
    expect(memo.get('other', modelA, kept())).toBeUndefined();
    expect(memo.get('k', modelA, kept())?.toString()).toBe('answer');
  });

  it('tells 0 from −0 and keeps NaN equal to itself', () => {
    const memo = new AnswerMemo(1 << 20);
    memo.set('k', modelA, [series('a', [0, NaN])], body('zero'));
    expect(memo.get('k', modelA, [series('a', [-0, NaN])])).toBeUndefined();
    expect(memo.get('k', modelA, [series('a', [0, NaN])])?.toString()).toBe('zero');
  });

  it('holds at most maxBytes, dropping the least recently used first, and skips what alone is too big', () => {
    const one = () => [
      series(
        'a',
        Array.from({ length: 100 }, (_, i) => i)
      ),
    ];
    const memo = new AnswerMemo(10_000); // one entry is ~2 KB of samples and ~400 B besides
    for (const k of ['a', 'b', 'c', 'd']) memo.set(k, modelA, one(), body(k));
    expect(memo.get('a', modelA, one())?.toString()).toBe('a'); // 'a' is now the most recent
    memo.set('e', modelA, one(), body('e'));
    expect(memo.size.bytes).toBeLessThanOrEqual(10_000);
    expect(memo.get('b', modelA, one())).toBeUndefined();
    expect(memo.get('a', modelA, one())?.toString()).toBe('a');
    expect(memo.get('e', modelA, one())?.toString()).toBe('e');

    memo.set('huge', modelA, one(), Buffer.alloc(20_000));
    expect(memo.get('huge', modelA, one())).toBeUndefined();
    const before = memo.size;
    memo.set('a', modelA, one(), body('A')); // replacing an entry does not count it twice
    expect(memo.size).toEqual(before);
    expect(memo.get('a', modelA, one())?.toString()).toBe('A');
  });
});

describe('answers reused through the API', () => {
  const END = 1_764_000_000;
  const reuse = async (url: string) => {
    const text = await (await fetch(url + '/metrics')).text();
    const n = (route: string, outcome: string) =>
      Number(
        text.match(
          new RegExp(`prescaler_answer_reuse_total\\{route="${route}",outcome="${outcome}"\\} (\\d+)`)
        )?.[1] ?? 0
      );
    return {
      forecast: { reused: n('forecast', 'reused'), computed: n('forecast', 'computed') },
      anomalies: { reused: n('anomalies', 'reused'), computed: n('anomalies', 'computed') },
    };
  };
  const post = async (url: string, path: string, b: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(b),
    });
    expect(res.status).toBe(200);
    return res.text();
  };

  it('sends the same bytes while the data is unchanged, and computes again when it changes', async () => {
    const demo = new DemoSource({ now: () => END + 3600 });
    const harness = await startTestServer({ source: demo });
    try {
      const url = harness.srv.url;
      const q = { query: 'demo_cpu_usage', start: END - 86400, end: END, step: 600 };
      const first = await post(url, '/api/forecast', q);
      // A later `end` within the same step reads the same evaluations: the same answer.
      expect(await post(url, '/api/forecast', { ...q, end: END + 30 })).toBe(first);
      const scores = await post(url, '/api/anomalies', q);
      expect(await post(url, '/api/anomalies', q)).toBe(scores);
      expect(await reuse(url)).toEqual({
        forecast: { reused: 1, computed: 1 },
        anomalies: { reused: 1, computed: 1 },
      });

      // Without `start` the range is now − 24 h, on a grid of its own: neither looked up nor kept.
      await post(url, '/api/forecast', { query: q.query, end: END, step: 600 });
      await post(url, '/api/forecast', { query: q.query, end: END, step: 600 });
      expect((await reuse(url)).forecast).toEqual({ reused: 1, computed: 3 });

      // `no-cache` computes afresh (the same answer, as nothing changed).
      expect(await post(url, '/api/forecast', q, { 'cache-control': 'no-cache' })).toBe(first);
      expect((await reuse(url)).forecast).toEqual({ reused: 1, computed: 4 });

      // The data changes in the last hour: both answers are computed again and differ.
      demo.injectAnomaly({ deployment: 'web', kind: 'spike', start: END - 1800, end: END + 1, factor: 3 });
      const changed = await post(url, '/api/forecast', q);
      expect(changed).not.toBe(first);
      expect(await post(url, '/api/anomalies', q)).not.toBe(scores);
      expect(await reuse(url)).toEqual({
        forecast: { reused: 1, computed: 5 },
        anomalies: { reused: 1, computed: 2 },
      });
      // What was kept now is the answer for the changed data.
      expect(await post(url, '/api/forecast', q)).toBe(changed);
      expect((await reuse(url)).forecast).toEqual({ reused: 2, computed: 5 });
    } finally {
      await harness.close();
    }
  });

  it('scores only the new points of anomalies after a new step, with the answer computing all gives', async () => {
    const harness = await startTestServer({ source: new DemoSource({ now: () => END + 4 * 3600 }) });
    try {
      const url = harness.srv.url;
      const points = async () => {
        const text = await (await fetch(url + '/metrics')).text();
        const n = (o: string) =>
          Number(
            text.match(new RegExp(`prescaler_anomaly_points_total\\{outcome="${o}"\\} (\\d+)`))?.[1] ?? 0
          );
        return { reused: n('reused'), scored: n('scored') };
      };
      for (let k = 0; k < 4; k++) {
        const q = { query: 'demo_cpu_usage', start: END - 86400 + k * 600, end: END + k * 600, step: 600 };
        const before = await points();
        const refreshed = await post(url, '/api/anomalies', q);
        const after = await points();
        // From scratch: no-cache neither sends a kept answer nor reuses kept scores.
        expect(await post(url, '/api/anomalies', q, { 'cache-control': 'no-cache' })).toBe(refreshed);
        if (k > 0) {
          expect(after.reused - before.reused).toBeGreaterThan(100);
          expect(after.scored - before.scored).toBeLessThan(after.reused - before.reused);
        }
      }
    } finally {
      await harness.close();
    }
  });

  it('keeps anomaly scores per panel: a longer range or a request without start does not evict them', async () => {
    const harness = await startTestServer({ source: new DemoSource({ now: () => END + 4 * 3600 }) });
    try {
      const url = harness.srv.url;
      const reusedBy = async (b: unknown) => {
        const read = async () =>
          Number(
            (await (await fetch(url + '/metrics')).text()).match(
              /prescaler_anomaly_points_total\{outcome="reused"\} (\d+)/
            )?.[1] ?? 0
          );
        const before = await read();
        await post(url, '/api/anomalies', b);
        return (await read()) - before;
      };
      const day = (k: number) => ({
        query: 'demo_cpu_usage',
        start: END - 86400 + k * 600,
        end: END + k * 600,
        step: 600,
      });
      const week = (k: number) => ({ ...day(k), start: END - 7 * 86400 + k * 600 });
      expect(await reusedBy(day(0))).toBe(0);
      expect(await reusedBy(week(0))).toBe(0);
      expect(await reusedBy({ query: 'demo_cpu_usage', end: END + 600, step: 600 })).toBe(0); // no start
      expect(await reusedBy(day(1))).toBeGreaterThan(0); // its own entry survived both
      expect(await reusedBy(week(1))).toBeGreaterThan(0);
    } finally {
      await harness.close();
    }
  });

  it('keeps nothing with memo.maxMegabytes: 0', async () => {
    const harness = await startTestServer({
      source: new DemoSource({ now: () => END + 3600 }),
      yaml: 'memo: {maxMegabytes: 0}\n',
    });
    try {
      const q = { query: 'demo_cpu_usage', start: END - 86400, end: END, step: 600 };
      const first = await post(harness.srv.url, '/api/forecast', q);
      expect(await post(harness.srv.url, '/api/forecast', q)).toBe(first);
      expect((await reuse(harness.srv.url)).forecast).toEqual({ reused: 0, computed: 2 });
    } finally {
      await harness.close();
    }
  });
});
