import { PrescalerError } from '../errors';
import type { Series } from '../series/types';
import { DemoSource } from './demo';
import { createSource } from './index';
import { PrometheusSource } from './prometheus';

// Monday 2024-03-04 00:00 UTC; "now" is fixed well after the ranges below unless a test moves it.
const MONDAY = 1709510400;
const DAY = 86400;
const fixedNow = () => MONDAY + 30 * DAY;

async function rejection(p: Promise<unknown>): Promise<PrescalerError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(PrescalerError);
    return err as PrescalerError;
  }
  throw new Error('expected the promise to reject');
}

const names = (series: Series[]) => series.map((s) => `${s.labels.__name__}/${s.labels.deployment}`).sort();
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('DemoSource', () => {
  const src = new DemoSource({ seed: 7, now: fixedNow });

  it('answers a metric name with one series per deployment, labelled like Prometheus', async () => {
    const series = await src.queryRange({
      query: 'demo_cpu_usage',
      start: MONDAY,
      end: MONDAY + 3600,
      step: 60,
    });
    expect(names(series)).toEqual([
      'demo_cpu_usage/api',
      'demo_cpu_usage/batch',
      'demo_cpu_usage/search',
      'demo_cpu_usage/web',
      'demo_cpu_usage/worker',
    ]);
    const web = series.find((s) => s.labels.deployment === 'web')!;
    expect(web.labels).toEqual({ __name__: 'demo_cpu_usage', deployment: 'web', namespace: 'shop' });
    expect(web.points).toHaveLength(61);
    expect(web.points[0][0]).toBe(MONDAY);
    expect(web.points[60][0]).toBe(MONDAY + 3600);
    for (const s of series) for (const [, v] of s.points) expect(v).toBeGreaterThan(0);
  });

  it.each([
    ['demo_cpu_usage{deployment="web"}', ['demo_cpu_usage/web']],
    ["demo_memory_usage{deployment='api'}", ['demo_memory_usage/api']],
    ['demo_cpu_usage{deployment=~"web|api"}', ['demo_cpu_usage/api', 'demo_cpu_usage/web']],
    ['demo_cpu_usage{deployment=~"w.*"}', ['demo_cpu_usage/web', 'demo_cpu_usage/worker']],
    ['demo_cpu_usage{namespace="jobs", deployment!="batch"}', ['demo_cpu_usage/worker']],
    ['demo_cpu_usage{deployment!~"web|api|search",}', ['demo_cpu_usage/batch', 'demo_cpu_usage/worker']],
    ['{__name__="demo_memory_usage", deployment="search"}', ['demo_memory_usage/search']],
    ['{__name__=~"demo_.*", deployment="batch"}', ['demo_cpu_usage/batch', 'demo_memory_usage/batch']],
    ['  demo_cpu_usage { deployment = "web" }  ', ['demo_cpu_usage/web']],
    [
      'demo_cpu_usage{}',
      [
        'demo_cpu_usage/api',
        'demo_cpu_usage/batch',
        'demo_cpu_usage/search',
        'demo_cpu_usage/web',
        'demo_cpu_usage/worker',
      ],
    ],
    ['demo_cpu_usage{deployment="nope"}', []],
    [
      'demo_cpu_usage{pod=""}',
      [
        'demo_cpu_usage/api',
        'demo_cpu_usage/batch',
        'demo_cpu_usage/search',
        'demo_cpu_usage/web',
        'demo_cpu_usage/worker',
      ],
    ],
    ['demo_cpu_usage{pod="x"}', []],
  ])('selector %s', async (query, expected) => {
    const series = await src.queryRange({ query, start: MONDAY, end: MONDAY + 600, step: 300 });
    expect(names(series)).toEqual(expected);
  });

  it.each([
    ['rate(demo_cpu_usage[5m])', 'functions and aggregations'],
    ['sum by (deployment) (demo_cpu_usage)', 'functions and aggregations'],
    ['sum(demo_cpu_usage)', 'functions and aggregations'],
    ['demo_cpu_usage[5m]', 'not a plain selector'],
    ['demo_cpu_usage offset 1h', 'not a plain selector'],
    ['node_cpu_seconds_total', 'unknown metric node_cpu_seconds_total'],
    ['{deployment=~".*"}', 'does not match ""'],
    ['{}', 'empty selector'],
    ['demo_cpu_usage{deployment=~"("}', 'invalid regular expression'],
    ['demo_cpu_usage{deployment="web"', 'expected , or }'],
    ['demo_cpu_usage{deployment=web}', 'expected a quoted value'],
  ])('refuses %s as bad_query naming the known metrics', async (query, why) => {
    const err = await rejection(src.queryRange({ query, start: MONDAY, end: MONDAY + 600, step: 300 }));
    expect(err.code).toBe('bad_query');
    expect(err.message).toContain(why);
    expect(err.message).toContain('demo_cpu_usage, demo_memory_usage');
  });

  it('is deterministic for a seed and differs between seeds', async () => {
    const query = { query: '{__name__=~"demo_.*"}', start: MONDAY, end: MONDAY + 2 * DAY, step: 300 };
    const a = await new DemoSource({ seed: 7, now: fixedNow }).queryRange(query);
    const b = await new DemoSource({ seed: 7, now: fixedNow }).queryRange(query);
    const c = await new DemoSource({ seed: 8, now: fixedNow }).queryRange(query);
    expect(a).toEqual(b);
    expect(a).toHaveLength(10);
    const differing = a[0].points.filter((p, i) => p[1] !== c[0].points[i][1]).length;
    expect(differing).toBeGreaterThan(a[0].points.length * 0.9);
  });

  it('gives the same value for a time whatever range and step it is queried in', async () => {
    const query = 'demo_cpu_usage{deployment="api"}';
    const [fine] = await src.queryRange({ query, start: MONDAY, end: MONDAY + 6 * 3600, step: 15 });
    const [coarse] = await src.queryRange({ query, start: MONDAY + 3600, end: MONDAY + 9 * 3600, step: 900 });
    const [single] = await src.queryRange({ query, start: MONDAY + 7200, end: MONDAY + 7200, step: 60 });
    const byTime = new Map(fine.points.map(([t, v]) => [t, v]));
    const shared = coarse.points.filter(([t]) => byTime.has(t));
    expect(shared.length).toBe(21);
    for (const [t, v] of shared) expect(v).toBe(byTime.get(t));
    expect(single.points).toEqual([[MONDAY + 7200, byTime.get(MONDAY + 7200)]]);
    expect(src.valueAt('demo_cpu_usage', 'api', MONDAY + 7200)).toBe(byTime.get(MONDAY + 7200));
  });

  it('has a daily cycle, quieter weekends, noise and realistic units', async () => {
    // Four weeks, hourly, of the web tier.
    const [cpu] = await src.queryRange({
      query: 'demo_cpu_usage{deployment="web"}',
      start: MONDAY,
      end: MONDAY + 28 * DAY - 3600,
      step: 3600,
    });
    const hourOf = (t: number) => Math.floor((t % DAY) / 3600);
    const weekdayOf = (t: number) => (Math.floor(t / DAY) + 4) % 7;
    const weekdays = cpu.points.filter(([t]) => weekdayOf(t) >= 1 && weekdayOf(t) <= 5);
    const night = mean(weekdays.filter(([t]) => hourOf(t) >= 2 && hourOf(t) <= 5).map((p) => p[1]));
    const afternoon = mean(weekdays.filter(([t]) => hourOf(t) >= 13 && hourOf(t) <= 16).map((p) => p[1]));
    expect(afternoon).toBeGreaterThan(2.5 * night);
    const weekendAfternoon = mean(
      cpu.points
        .filter(([t]) => (weekdayOf(t) === 0 || weekdayOf(t) === 6) && hourOf(t) >= 13 && hourOf(t) <= 16)
        .map((p) => p[1])
    );
    expect(weekendAfternoon).toBeLessThan(0.8 * afternoon);
    expect(afternoon).toBeGreaterThan(1);
    expect(afternoon).toBeLessThan(10);

    // Noise: consecutive 15 s samples differ, but only by a few per cent.
    const [fine] = await src.queryRange({
      query: 'demo_cpu_usage{deployment="web"}',
      start: MONDAY,
      end: MONDAY + 600,
      step: 15,
    });
    const steps = fine.points.slice(1).map((p, i) => Math.abs(p[1] / fine.points[i][1] - 1));
    expect(new Set(fine.points.map((p) => p[1])).size).toBeGreaterThan(30);
    expect(Math.max(...steps)).toBeLessThan(0.3);

    const [mem] = await src.queryRange({
      query: 'demo_memory_usage{deployment="web"}',
      start: MONDAY,
      end: MONDAY + DAY,
      step: 600,
    });
    const normal = mem.points.filter(([t]) => src.anomalies(t, t + 1, 'web').length === 0);
    expect(normal.length).toBeGreaterThan(100);
    for (const [, v] of normal) {
      expect(Number.isInteger(v)).toBe(true);
      expect(v).toBeGreaterThan(500 * 2 ** 20);
      expect(v).toBeLessThan(4 * 2 ** 30);
    }
  });

  it('runs the batch deployment at night only', async () => {
    const [batch] = await src.queryRange({
      query: 'demo_cpu_usage{deployment="batch"}',
      start: MONDAY,
      end: MONDAY + 7 * DAY,
      step: 600,
    });
    const hourOf = (t: number) => (t % DAY) / 3600;
    const inWindow = batch.points.filter(([t]) => hourOf(t) >= 1.5 && hourOf(t) < 2.5).map((p) => p[1]);
    const daytime = batch.points.filter(([t]) => hourOf(t) >= 8 && hourOf(t) < 20).map((p) => p[1]);
    expect(Math.min(...inWindow)).toBeGreaterThan(3);
    // Daytime is idle apart from a scheduled anomaly, if any.
    expect(daytime.filter((v) => v < 0.2).length).toBeGreaterThan(daytime.length * 0.95);
  });

  it('schedules anomalies deterministically and they show in the values', async () => {
    const start = MONDAY;
    const end = MONDAY + 28 * DAY;
    const anomalies = src.anomalies(start, end);
    expect(anomalies).toEqual(new DemoSource({ seed: 7 }).anomalies(start, end));
    // About 0.3 per deployment and day: 5 × 28 × 0.3 = 42.
    expect(anomalies.length).toBeGreaterThan(20);
    expect(anomalies.length).toBeLessThan(70);
    expect(new Set(anomalies.map((a) => a.kind))).toEqual(new Set(['spike', 'level_shift', 'dropout']));

    const spike = anomalies.find((a) => a.kind === 'spike' && a.deployment !== 'batch')!;
    const mid = Math.floor((spike.start + spike.end) / 2);
    const inside = src.valueAt('demo_cpu_usage', spike.deployment, mid);
    const before = src.valueAt('demo_cpu_usage', spike.deployment, spike.start - 1800);
    expect(inside).toBeGreaterThan(1.8 * before);

    const dropout = anomalies.find((a) => a.kind === 'dropout')!;
    const low = src.valueAt(
      'demo_cpu_usage',
      dropout.deployment,
      Math.floor((dropout.start + dropout.end) / 2)
    );
    expect(low).toBeLessThan(
      0.1 * src.valueAt('demo_cpu_usage', dropout.deployment, dropout.start - 600) + 0.01
    );
  });

  it('injects an anomaly window at run time and removes it again', async () => {
    const demo = new DemoSource({ seed: 7, now: fixedNow });
    const t0 = MONDAY + 14 * 3600;
    const query = { query: 'demo_cpu_usage{deployment="web"}', start: t0 - 3600, end: t0 + 3600, step: 60 };
    const [plain] = await demo.queryRange(query);

    const id = demo.injectAnomaly({ deployment: 'web', kind: 'spike', start: t0, end: t0 + 900, factor: 5 });
    const [spiked] = await demo.queryRange(query);
    for (let i = 0; i < plain.points.length; i++) {
      const [t, v] = plain.points[i];
      const expected = t >= t0 && t < t0 + 900 ? v * 5 : v;
      expect(spiked.points[i][1]).toBeCloseTo(expected, 3);
    }
    expect(demo.anomalies(t0, t0 + 1, 'web')).toContainEqual(
      expect.objectContaining({ id, kind: 'spike', start: t0, end: t0 + 900, factor: 5, injected: true })
    );
    // Other deployments are untouched.
    expect(demo.valueAt('demo_cpu_usage', 'api', t0 + 60)).toBe(
      src.valueAt('demo_cpu_usage', 'api', t0 + 60)
    );

    demo.removeAnomaly(id);
    expect(await demo.queryRange(query)).toEqual([plain]);

    const viaOption = new DemoSource({
      seed: 7,
      now: fixedNow,
      anomalies: [{ deployment: 'web', kind: 'dropout', start: t0, end: t0 + 600 }],
    });
    expect(viaOption.valueAt('demo_cpu_usage', 'web', t0 + 60)).toBeLessThan(
      0.05 * plain.points[61][1] + 0.01
    );
    expect(() => demo.injectAnomaly({ deployment: 'db', kind: 'spike', start: t0, end: t0 + 1 })).toThrow(
      /unknown demo deployment db/
    );
  });

  it('serves no points from the future', async () => {
    const demo = new DemoSource({ seed: 7, now: () => MONDAY + 1000 });
    const [s] = await demo.queryRange({
      query: 'demo_cpu_usage{deployment="web"}',
      start: MONDAY,
      end: MONDAY + 3600,
      step: 100,
    });
    expect(s.points.map((p) => p[0])).toEqual(
      [0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000].map((d) => MONDAY + d)
    );
  });

  it('refuses more than 11 000 points per series', async () => {
    await src.queryRange({
      query: 'demo_cpu_usage{deployment="web"}',
      start: MONDAY,
      end: MONDAY + 10999,
      step: 1,
    });
    const err = await rejection(
      src.queryRange({ query: 'demo_cpu_usage', start: MONDAY, end: MONDAY + 11000, step: 1 })
    );
    expect(err.code).toBe('too_large');
  });
});

describe('createSource', () => {
  it('gives Prometheus when a URL is configured, else the demo', () => {
    const prom = createSource({ prometheusUrl: 'http://prom:9090/', prometheusBearerToken: 't' });
    expect(prom).toBeInstanceOf(PrometheusSource);
    expect(prom.kind).toBe('prometheus');
    expect((prom as PrometheusSource).displayUrl).toBe('http://prom:9090');
    expect(createSource({}).kind).toBe('demo');
    expect(createSource({ prometheusUrl: '  ' }).kind).toBe('demo');
    expect((createSource({ demoSeed: 3 }) as DemoSource).seed).toBe(3);
  });
});
