// PrometheusSource against a real Prometheus (backfilled with promtool) and against servers that fail.
import { PrescalerError } from '../backend/src/errors';
import type { Point } from '../backend/src/series/types';
import { forecastBody } from '../backend/src/http/forecast-body';
import { HistoryCache, type CacheOutcome } from '../backend/src/sources/history-cache';
import { PrometheusSource } from '../backend/src/sources/prometheus';
import { freePort, startPrometheus, type BackfillSeries, type RunningPrometheus } from './helpers/prometheus';
import { startSlowServer } from './helpers/slow-server';

jest.setTimeout(30_000);

// Monday 2024-03-04 00:00 UTC: two days of 60 s samples, long before "now".
const START = 1709510400;
const DAY = 86400;
const END = START + 2 * DAY - 60;
const GAP_START = START + 30 * 3600;
const GAP_END = START + 36 * 3600;

/** A daily cycle with a little deterministic wobble, like a web tier's CPU. */
function cpu(t: number, scale: number): number {
  const hour = ((t - START) % DAY) / 3600;
  const wobble = 0.03 * Math.sin(t / 97);
  return Math.round(scale * (1.2 + Math.sin((2 * Math.PI * (hour - 10)) / 24) + wobble) * 1e6) / 1e6;
}

function series(fn: (t: number) => number | undefined): Point[] {
  const points: Point[] = [];
  for (let t = START; t <= END; t += 60) {
    const v = fn(t);
    if (v !== undefined) points.push([t, v]);
  }
  return points;
}

const ODD_LABEL = 'say "hi" \\ there';
const isNaNSample = (t: number) => ((t - START) / 60) % 97 === 5;
const INF_AT = START + 600 * 7;

const BACKFILL: BackfillSeries[] = [
  {
    labels: { __name__: 'container_cpu_usage_cores', namespace: 'shop', pod: 'web-1' },
    points: series((t) => cpu(t, 1)),
  },
  {
    labels: { __name__: 'container_cpu_usage_cores', namespace: 'shop', pod: 'web-2' },
    points: series((t) => (t >= GAP_START && t < GAP_END ? undefined : cpu(t, 1.3))),
  },
  {
    labels: { __name__: 'container_memory_bytes', namespace: 'shop', pod: 'web-1' },
    points: series((t) => Math.round(5e8 + 1e8 * cpu(t, 1))),
  },
  {
    labels: { __name__: 'container_cpu_usage_cores', namespace: 'jobs', pod: 'worker-1', note: ODD_LABEL },
    points: series((t) => (t === INF_AT ? Infinity : isNaNSample(t) ? NaN : cpu(t, 0.4))),
  },
  // A queue that one worker drains until hour 20 and two others from hour 30: series that stop and start.
  {
    labels: { __name__: 'queue_depth', worker: 'old' },
    points: series((t) => (t < START + 20 * 3600 ? Math.round(cpu(t, 50)) : undefined)),
  },
  ...['new-a', 'new-b'].map((worker, k) => ({
    labels: { __name__: 'queue_depth', worker },
    points: series((t) => (t >= START + 30 * 3600 ? Math.round(cpu(t, 40 + k)) : undefined)),
  })),
];

async function rejection(p: Promise<unknown>): Promise<PrescalerError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(PrescalerError);
    return err as PrescalerError;
  }
  throw new Error('expected the promise to reject');
}

describe('PrometheusSource against a real Prometheus', () => {
  let prom: RunningPrometheus;
  let source: PrometheusSource;

  beforeAll(async () => {
    // A Mimir-like path prefix, so the client's URL joining is tested against the real thing.
    prom = await startPrometheus({ series: BACKFILL, routePrefix: '/prometheus' });
    source = new PrometheusSource({ baseUrl: prom.url, retries: 0 });
  });
  afterAll(async () => {
    await prom?.stop();
  });

  it('reports what it backfilled and answers ping with its version', async () => {
    expect(prom.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/prometheus$/);
    expect(prom.backfilled).toEqual({
      start: START,
      end: END,
      samples: BACKFILL.reduce((n, s) => n + s.points.length, 0),
    });
    expect((await source.ping()).version).toMatch(/^2\.\d+\.\d+/);
  });

  it('answers several series with their labels and the backfilled values', async () => {
    const result = await source.queryRange({
      query: 'container_cpu_usage_cores',
      start: START,
      end: END,
      step: 600,
    });
    const byPod = new Map(result.map((s) => [s.labels.pod, s]));
    expect([...byPod.keys()].sort()).toEqual(['web-1', 'web-2', 'worker-1']);
    expect(byPod.get('web-1')!.labels).toEqual({
      __name__: 'container_cpu_usage_cores',
      namespace: 'shop',
      pod: 'web-1',
    });
    expect(byPod.get('worker-1')!.labels.note).toBe(ODD_LABEL);

    const web1 = byPod.get('web-1')!.points;
    expect(web1).toHaveLength(Math.floor((END - START) / 600) + 1);
    // Query times fall on sample times, so every value is exactly what was written.
    for (const [t, v] of web1) expect(v).toBe(cpu(t, 1));
    // And the cycle is there: afternoon above night.
    const at = (h: number) => web1.find(([t]) => t === START + h * 3600)![1];
    expect(at(16)).toBeGreaterThan(2 * at(4));
  });

  it('leaves a gap in the data as missing points (after the 5 min lookback)', async () => {
    const [web2] = await source.queryRange({
      query: 'container_cpu_usage_cores{pod="web-2"}',
      start: START,
      end: END,
      step: 600,
    });
    const times = new Set(web2.points.map(([t]) => t));
    const missing: number[] = [];
    for (let t = START; t <= END; t += 600) if (!times.has(t)) missing.push(t);
    const expected: number[] = [];
    for (let t = GAP_START + 600; t < GAP_END; t += 600) expected.push(t);
    expect(missing).toEqual(expected);
    // At GAP_START the last sample (60 s earlier) is still inside the lookback window.
    expect(web2.points.find(([t]) => t === GAP_START)![1]).toBe(cpu(GAP_START - 60, 1.3));
    expect(web2.points.find(([t]) => t === GAP_END)![1]).toBe(cpu(GAP_END, 1.3));
  });

  it('passes NaN and +Inf samples through', async () => {
    const [worker] = await source.queryRange({
      query: 'container_cpu_usage_cores{namespace="jobs"}',
      start: START,
      end: START + 3 * 3600,
      step: 60,
    });
    const nanTimes = worker.points.filter(([, v]) => Number.isNaN(v)).map(([t]) => t);
    const expectedNaN: number[] = [];
    for (let t = START; t <= START + 3 * 3600; t += 60)
      if (isNaNSample(t) && t !== INF_AT) expectedNaN.push(t);
    expect(nanTimes).toEqual(expectedNaN);
    expect(expectedNaN.length).toBeGreaterThan(0);
    expect(worker.points.find(([t]) => t === INF_AT)![1]).toBe(Infinity);
  });

  it('answers aggregations and scalars as matrices', async () => {
    const sums = await source.queryRange({
      query: 'sum by (namespace) (container_cpu_usage_cores)',
      start: START + 3600,
      end: START + 7200,
      step: 600,
    });
    expect(sums.map((s) => s.labels).sort((a, b) => a.namespace.localeCompare(b.namespace))).toEqual([
      { namespace: 'jobs' },
      { namespace: 'shop' },
    ]);
    const shop = sums.find((s) => s.labels.namespace === 'shop')!;
    expect(shop.points[0][1]).toBeCloseTo(cpu(START + 3600, 1) + cpu(START + 3600, 1.3), 9);

    const [scalar] = await source.queryRange({ query: '1 + 1', start: START, end: START + 120, step: 60 });
    expect(scalar).toEqual({
      labels: {},
      points: [
        [START, 2],
        [START + 60, 2],
        [START + 120, 2],
      ],
    });
  });

  it('returns no series for a range without data', async () => {
    const longBefore = START - 365 * DAY;
    expect(
      await source.queryRange({
        query: 'container_cpu_usage_cores',
        start: longBefore,
        end: longBefore + DAY,
        step: 600,
      })
    ).toEqual([]);
  });

  it('carries Prometheus’ own text for a syntax error (400) and an execution error (422)', async () => {
    const syntax = await rejection(
      source.queryRange({
        query: 'sum(rate(container_cpu_usage_cores[5m])',
        start: START,
        end: END,
        step: 600,
      })
    );
    expect(syntax.code).toBe('bad_query');
    expect(syntax.message).toMatch(/parse error/);

    // Many-to-many matching: valid PromQL that fails while being evaluated.
    const execution = await rejection(
      source.queryRange({
        query: 'container_cpu_usage_cores + on (namespace) container_cpu_usage_cores',
        start: START,
        end: START + 600,
        step: 600,
      })
    );
    expect(execution.code).toBe('bad_query');
    expect(execution.message).toMatch(/many-to-many|duplicate series/);
  });

  it('refuses more series than maxSeries', async () => {
    const small = new PrometheusSource({ baseUrl: prom.url, maxSeries: 2 });
    const err = await rejection(
      small.queryRange({ query: 'container_cpu_usage_cores', start: START, end: END, step: 600 })
    );
    expect(err.code).toBe('too_large');
    expect(err.message).toContain('3 series');
  });

  it('answers through the history cache exactly what it answers directly, refresh after refresh', async () => {
    const clock = { now: 0 };
    const outcomes: CacheOutcome[] = [];
    const cache = new HistoryCache(source, {
      maxAge: 2 * DAY, // no full reads but the first
      now: () => clock.now,
      onLookup: (o) => outcomes.push(o),
    });
    // A dashboard showing 6 h at 60 s, refreshed every 10 min as if live ("now" 20 s after its end), over
    // the gap in web-2, the NaN/+Inf samples, and the queue workers stopping and starting.
    const queries = [
      'container_cpu_usage_cores',
      'rate(container_memory_bytes[5m])',
      'sum by (namespace) (container_cpu_usage_cores)',
      'queue_depth',
    ];
    const plain = (r: Awaited<ReturnType<PrometheusSource['queryRangeColumns']>>) =>
      r.map((x) => ({ labels: x.labels, times: [...x.times], values: [...x.values].map(String) }));
    let checked = 0;
    for (let end = START + 14 * 3600; end <= START + 38 * 3600; end += 600) {
      clock.now = end + 20;
      for (const query of queries) {
        const q = { query, start: end - 6 * 3600, end, step: 60 };
        const cached = await cache.queryRangeColumns(q);
        const direct = await source.queryRangeColumns(q);
        expect(plain(cached)).toEqual(plain(direct));
        // The body a dashboard gets is the same JSON (kept samples copy Prometheus' text, new ones are formatted).
        const body = (r: typeof cached) =>
          JSON.parse(
            forecastBody(
              r.map((x) => ({ series: x, from: 0, forecast: undefined })),
              'm'
            ).toString()
          );
        if (end % 3600 === 0) expect(body(cached)).toEqual(body(direct));
        checked++;
      }
    }
    expect(checked).toBe(145 * 4);
    expect(outcomes.filter((o) => o === 'miss')).toHaveLength(4); // one full read per query, then refreshes
    expect(outcomes.filter((o) => o === 'partial')).toHaveLength(144 * 4);
  });

  it('reads a range longer than splitInterval as pieces, and answers exactly what one query does', async () => {
    const whole = new PrometheusSource({ baseUrl: prom.url, retries: 0, splitInterval: 0 });
    const pieces = new PrometheusSource({ baseUrl: prom.url, retries: 0, splitInterval: 5 * 3600 });
    const plain = (r: Awaited<ReturnType<PrometheusSource['queryRangeColumns']>>) =>
      r.map((x) => ({ labels: x.labels, times: [...x.times], values: [...x.values].map(String) }));
    // The body copies each sample's text from wherever the answer read it: the same bytes either way.
    const body = (r: Awaited<ReturnType<PrometheusSource['queryRangeColumns']>>) =>
      forecastBody(
        r.map((x) => ({ series: x, from: 0, forecast: undefined })),
        'm'
      ).toString();
    // Two days at 60 s and at 7 min (pieces of 5 h are 300 and 42 steps); the queue workers stop and start
    // between pieces, the NaN and +Inf samples fall inside them.
    for (const step of [60, 420]) {
      for (const query of [
        'container_cpu_usage_cores',
        'queue_depth',
        'sum(rate(container_memory_bytes[5m]))',
      ]) {
        const q = { query, start: START + 30, end: END, step };
        const [a, b] = [await whole.queryRangeColumns(q), await pieces.queryRangeColumns(q)];
        expect(plain(b)).toEqual(plain(a));
        expect(body(b)).toBe(body(a));
        expect(b.every((s) => s.text)).toBe(true);
      }
    }
  });

  it('names a missing path prefix when the base URL is wrong', async () => {
    const noPrefix = new PrometheusSource({ baseUrl: `http://127.0.0.1:${prom.port}`, retries: 0 });
    const err = await rejection(noPrefix.queryRange({ query: 'up', start: START, end: END, step: 600 }));
    expect(err.code).toBe('upstream_error');
    expect(err.message).toContain('404');
    expect(err.message).toContain('path prefix');
  });
});

describe('PrometheusSource when the upstream fails', () => {
  it('gives upstream_error naming the URL when nothing listens', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const src = new PrometheusSource({ baseUrl: url, retries: 1, retryDelayMs: 10 });
    const err = await rejection(src.queryRange({ query: 'up', start: START, end: END, step: 600 }));
    expect(err.code).toBe('upstream_error');
    expect(err.status).toBe(502);
    expect(err.message).toContain(url);
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('gives upstream_timeout when the server answers too slowly, after retrying', async () => {
    const slow = await startSlowServer({ delayMs: 5000 });
    try {
      // One query (two days would otherwise be read as day-long pieces, each retried).
      const src = new PrometheusSource({
        baseUrl: slow.url,
        timeoutMs: 200,
        retries: 1,
        retryDelayMs: 10,
        splitInterval: 0,
      });
      const t0 = Date.now();
      const err = await rejection(src.queryRange({ query: 'up', start: START, end: END, step: 600 }));
      const elapsed = Date.now() - t0;
      expect(err.code).toBe('upstream_timeout');
      expect(err.status).toBe(504);
      expect(slow.requests).toEqual([
        { method: 'POST', path: '/api/v1/query_range' },
        { method: 'POST', path: '/api/v1/query_range' },
      ]);
      expect(elapsed).toBeGreaterThanOrEqual(400);
      expect(elapsed).toBeLessThan(2000);
    } finally {
      await slow.stop();
    }
  });

  it('refuses too many points per series without contacting the server', async () => {
    const slow = await startSlowServer({ delayMs: 0 });
    try {
      const src = new PrometheusSource({ baseUrl: slow.url, splitInterval: 0 });
      const err = await rejection(
        src.queryRange({ query: 'up', start: START, end: START + 11000 * 15, step: 15 })
      );
      expect(err.code).toBe('too_large');
      expect(err.status).toBe(413);
      expect(slow.requests).toEqual([]);
      // The same server does answer a query inside the limit.
      await src.queryRange({ query: 'up', start: START, end: START + 10999 * 15, step: 15 });
      expect(slow.requests).toHaveLength(1);
    } finally {
      await slow.stop();
    }
  });
});
